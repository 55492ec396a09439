/**
 * The small expression language of `when:` conditions and `${{ }}` templates: literals (numbers, 'strings',
 * true, false, null), dotted references (params.x, steps.evaluate.metrics.accuracy), comparison (== != < <= >
 * >=), boolean (&& || ! and or not) and parentheses. Parsed once when the pipeline loads, so a typo fails
 * before any step runs; evaluated without eval().
 */
export type Expr =
  | { kind: 'lit'; value: string | number | boolean | null }
  | { kind: 'ref'; path: string[] }
  | { kind: 'not'; arg: Expr }
  | { kind: 'bin'; op: string; left: Expr; right: Expr };

export class ExprError extends Error {}

interface Token {
  t: 'num' | 'str' | 'id' | 'op' | '(' | ')';
  v: string;
  at: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExprError(`unterminated string at column ${i + 1}`);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_0-9][A-Za-z0-9_-]*)*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ t: 'op', v: op, at: i });
      i += op.length;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: c, v: c, at: i });
      i++;
      continue;
    }
    throw new ExprError(`unexpected '${c}' at column ${i + 1}`);
  }
  return out;
}

const WORDS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/** Parses `src`; throws ExprError naming the column of the first problem. */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src).map((k) => (k.t === 'id' && WORDS[k.v] ? { ...k, t: 'op' as const, v: WORDS[k.v]! } : k));
  let p = 0;
  const peek = () => toks[p];
  const where = () => (peek() ? `column ${peek()!.at + 1}` : 'the end');
  const primary = (): Expr => {
    const k = toks[p++];
    if (!k) throw new ExprError('the expression ends too early');
    if (k.t === 'num') return { kind: 'lit', value: Number(k.v) };
    if (k.t === 'str') return { kind: 'lit', value: k.v };
    if (k.t === '(') {
      const e = or();
      if (toks[p++]?.t !== ')') throw new ExprError(`missing ')' at ${where()}`);
      return e;
    }
    if (k.t === 'op' && k.v === '!') return { kind: 'not', arg: primary() };
    if (k.t === 'id') {
      if (k.v === 'true' || k.v === 'false') return { kind: 'lit', value: k.v === 'true' };
      if (k.v === 'null') return { kind: 'lit', value: null };
      return { kind: 'ref', path: k.v.split('.') };
    }
    throw new ExprError(`unexpected '${k.v}' at column ${k.at + 1}`);
  };
  const cmp = (): Expr => {
    const left = primary();
    const k = peek();
    if (k?.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(k.v)) {
      p++;
      return { kind: 'bin', op: k.v, left, right: primary() };
    }
    return left;
  };
  const and = (): Expr => {
    let e = cmp();
    while (peek()?.t === 'op' && peek()!.v === '&&') {
      p++;
      e = { kind: 'bin', op: '&&', left: e, right: cmp() };
    }
    return e;
  };
  const or = (): Expr => {
    let e = and();
    while (peek()?.t === 'op' && peek()!.v === '||') {
      p++;
      e = { kind: 'bin', op: '||', left: e, right: and() };
    }
    return e;
  };
  if (toks.length === 0) throw new ExprError('the expression is empty');
  const e = or();
  if (p < toks.length) throw new ExprError(`unexpected '${toks[p]!.v}' at column ${toks[p]!.at + 1}`);
  return e;
}

/** Every reference the expression reads. */
export function refsOf(e: Expr): string[][] {
  if (e.kind === 'ref') return [e.path];
  if (e.kind === 'not') return refsOf(e.arg);
  if (e.kind === 'bin') return [...refsOf(e.left), ...refsOf(e.right)];
  return [];
}

export type Scope = Record<string, unknown>;

function lookup(scope: Scope, path: string[]): unknown {
  let cur: unknown = scope;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as Record<string, unknown>))) {
      throw new ExprError(`${path.join('.')} is not set`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Numbers compare as numbers even when one side came from a string parameter ("0.9" >= 0.85). */
function coerce(a: unknown, b: unknown): [unknown, unknown] {
  const num = (x: unknown) => (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x);
  return typeof a === 'number' || typeof b === 'number' ? [num(a), num(b)] : [a, b];
}

export function evaluate(e: Expr, scope: Scope): unknown {
  switch (e.kind) {
    case 'lit':
      return e.value;
    case 'ref':
      return lookup(scope, e.path);
    case 'not':
      return !truthy(evaluate(e.arg, scope));
    case 'bin': {
      if (e.op === '&&') return truthy(evaluate(e.left, scope)) && truthy(evaluate(e.right, scope));
      if (e.op === '||') return truthy(evaluate(e.left, scope)) || truthy(evaluate(e.right, scope));
      const [l, r] = coerce(evaluate(e.left, scope), evaluate(e.right, scope));
      if (e.op === '==') return l === r;
      if (e.op === '!=') return l !== r;
      if (typeof l !== typeof r || (typeof l !== 'number' && typeof l !== 'string')) {
        throw new ExprError(`cannot compare ${JSON.stringify(l)} ${e.op} ${JSON.stringify(r)}`);
      }
      const [a, b] = [l as number | string, r as number | string];
      return e.op === '<' ? a < b : e.op === '<=' ? a <= b : e.op === '>' ? a > b : a >= b;
    }
  }
}

export const truthy = (v: unknown): boolean => v !== false && v !== null && v !== undefined && v !== 0 && v !== '' && v !== 'false';

const TEMPLATE = /\$\{\{(.*?)\}\}/g;

/** The `${{ expr }}` parts of a string, parsed. */
export function templateExprs(s: string): Expr[] {
  return [...s.matchAll(TEMPLATE)].map((m) => parseExpr(m[1]!));
}

export function renderTemplate(s: string, scope: Scope): string {
  return s.replace(TEMPLATE, (_m, src: string) => {
    const v = evaluate(parseExpr(src), scope);
    return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}
