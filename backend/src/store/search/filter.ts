import { invalid } from '../../util/errors';

/**
 * MLflow's search filter grammar (mlflow/utils/search_utils.py): comparisons joined by AND, no OR, no
 * parentheses except for IN lists. `entity.key op value`, keys quoted with backticks or double quotes when they
 * hold special characters. This parses to clauses; each search compiles them against its own table.
 */
export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Clause {
  entity: Entity;
  key: string;
  op: Op;
  /** number for numeric comparisons, string for quoted values, string[] for IN lists, null for IS [NOT] NULL */
  value: number | string | string[] | null;
}

const ENTITY_ALIASES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** `rec[key]` for the record's own keys only: `constructor` or `__proto__` must not find Object's members. */
export function own<T>(rec: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

/**
 * Sizes a filter may have. SQLite refuses an expression deeper than 1000 terms and more than 32,766 bound values;
 * these keep every search well inside both, and a longer filter gets a 400 naming the limit.
 */
export const FILTER_LIMITS = { clauses: 200, listValues: 10_000 } as const;

type Tok =
  | { t: 'ident'; v: string; quoted: boolean }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'op'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' | '.' };

// Sticky, so each token is matched in place (matching s.slice(i) would copy the rest of the filter per token).
const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z0-9_][\w\-/:]*/y;

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let v = '';
      while (j < s.length && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j];
        j++;
      }
      if (j >= s.length) throw invalid(`Invalid filter '${s}': unterminated quote at position ${i}`);
      // A double-quoted token is a key in key position and a string in value position: the parser decides.
      out.push(c === '`' ? { t: 'ident', v, quoted: true } : { t: 'str', v });
      i = j + 1;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=' || two === '<>') {
      out.push({ t: 'op', v: two === '<>' ? '!=' : two });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    const prev = out[out.length - 1];
    const valuePosition = prev?.t === 'op' || (prev?.t === 'punct' && (prev.v === '(' || prev.v === ','));
    if (valuePosition) {
      NUMBER.lastIndex = i;
      const num = NUMBER.exec(s);
      if (num) {
        out.push({ t: 'num', v: Number(num[0]) });
        i += num[0].length;
        continue;
      }
    }
    if (c === '(' || c === ')' || c === ',' || c === '.') {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(s);
    if (word) {
      out.push({ t: 'ident', v: word[0], quoted: false });
      i += word[0].length;
      continue;
    }
    throw invalid(`Invalid filter '${s}': unexpected character '${c}' at position ${i}`);
  }
  return out;
}

export function parseFilter(filter: string | undefined | null): Clause[] {
  const src = (filter ?? '').trim();
  if (!src) return [];
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isWord = (tok: Tok | undefined, w: string) => tok?.t === 'ident' && !tok.quoted && tok.v.toUpperCase() === w;
  const fail = (why: string): never => {
    throw invalid(`Invalid filter '${src}': ${why}`);
  };
  const clauses: Clause[] = [];
  let listValues = 0;
  for (;;) {
    // key: [entity '.'] name
    const first = toks[p++];
    if (!first) fail('expected a comparison');
    let entity: Entity = 'attribute';
    let key: string;
    const firstName = first!.t === 'ident' || first!.t === 'str' ? first!.v : fail(`expected a key, got '${String((first as { v: unknown }).v)}'`);
    const dot = peek();
    if (dot?.t === 'punct' && dot.v === '.') {
      const e = own(ENTITY_ALIASES, firstName.toLowerCase());
      if (!e || first!.t !== 'ident' || first!.quoted) fail(`invalid entity type '${firstName}'; expected metrics, params, tags, attributes or datasets`);
      entity = e!;
      p++;
      const k = toks[p++];
      if (!k || (k.t !== 'ident' && k.t !== 'str')) fail(`expected a key after '${firstName}.'`);
      key = (k as { v: string }).v;
      // unquoted keys may contain dots (metrics.a.b): join the pieces
      if (k!.t === 'ident' && !k!.quoted) {
        while (peek()?.t === 'punct' && (peek() as { v: string }).v === '.' && toks[p + 1]?.t === 'ident') {
          key += '.' + (toks[p + 1] as { v: string }).v;
          p += 2;
        }
      }
    } else {
      key = firstName!;
    }
    // operator
    let op: Op;
    const o = toks[p++];
    if (o?.t === 'op') op = o.v as Op;
    else if (isWord(o, 'LIKE')) op = 'LIKE';
    else if (isWord(o, 'ILIKE')) op = 'ILIKE';
    else if (isWord(o, 'IN')) op = 'IN';
    else if (isWord(o, 'NOT') && isWord(peek(), 'IN')) {
      p++;
      op = 'NOT IN';
    } else if (isWord(o, 'IS')) {
      if (isWord(peek(), 'NOT')) {
        p++;
        op = 'IS NOT NULL';
      } else op = 'IS NULL';
      if (!isWord(toks[p++], 'NULL')) fail(`expected NULL after IS`);
    } else {
      return fail(`expected an operator after '${key}'`);
    }
    // value
    let value: Clause['value'] = null;
    if (op === 'IN' || op === 'NOT IN') {
      const open = toks[p++];
      if (!(open?.t === 'punct' && open.v === '(')) fail(`expected '(' after ${op}`);
      const list: string[] = [];
      for (;;) {
        const v = toks[p++];
        if (v?.t !== 'str') fail(`${op} takes a list of quoted strings`);
        list.push((v as { v: string }).v);
        const sep = toks[p++];
        if (sep?.t === 'punct' && sep.v === ',') continue;
        if (sep?.t === 'punct' && sep.v === ')') break;
        fail(`expected ',' or ')' in ${op} list`);
      }
      value = list;
    } else if (op !== 'IS NULL' && op !== 'IS NOT NULL') {
      const v = toks[p++];
      if (!v) fail(`expected a value after '${key} ${op}'`);
      if (v!.t === 'num') value = v!.v;
      else if (v!.t === 'str') value = v!.v;
      else if (v!.t === 'ident' && !v!.quoted && /^(true|false)$/i.test(v!.v)) value = v!.v.toLowerCase();
      else fail(`invalid value '${String((v as { v: unknown }).v)}' for '${key}'; quote strings, leave numbers bare`);
    }
    clauses.push({ entity, key, op, value });
    if (clauses.length > FILTER_LIMITS.clauses) fail(`more than ${FILTER_LIMITS.clauses} comparisons`);
    listValues += Array.isArray(value) ? value.length : 0;
    if (listValues > FILTER_LIMITS.listValues) fail(`more than ${FILTER_LIMITS.listValues} values in IN lists`);
    if (p >= toks.length) break;
    const and = toks[p++];
    if (isWord(and, 'OR')) fail('OR is not supported; provide an AND-ed expression list');
    if (!isWord(and, 'AND')) fail(`expected AND, got '${String((and as { v: unknown }).v)}'`);
  }
  return clauses;
}

export interface OrderClause {
  entity: Entity;
  key: string;
  asc: boolean;
}

/** `metrics.rmse DESC`, `start_time`, ``params.`a b` ASC``. */
export function parseOrderBy(items: readonly string[] | undefined): OrderClause[] {
  const out: OrderClause[] = [];
  const seen = new Set<string>();
  for (const raw of items ?? []) {
    const s = raw.trim();
    if (!s) continue;
    // The direction is the last word; split by hand, since /^(.*?)\s+(ASC|DESC)?$/ takes quadratic time on long runs of spaces.
    const cut = Math.max(s.lastIndexOf(' '), s.lastIndexOf('\t'), s.lastIndexOf('\n'));
    const dir = cut > 0 ? s.slice(cut + 1).toUpperCase() : '';
    const hasDir = dir === 'ASC' || dir === 'DESC';
    const body = hasDir ? s.slice(0, cut).trim() : s;
    const asc = dir !== 'DESC';
    let entity: Entity = 'attribute';
    let key = body;
    const dm = /^([A-Za-z]+)\.(.+)$/.exec(body);
    const alias = dm ? own(ENTITY_ALIASES, dm[1]!.toLowerCase()) : undefined;
    if (dm && alias) {
      entity = alias;
      key = dm[2]!;
    }
    const q = /^[`"](.*)[`"]$/.exec(key);
    if (q) key = q[1]!;
    if (!key) throw invalid(`Invalid order_by clause '${raw}'`);
    const id = `${entity}.${key}`;
    if (seen.has(id)) throw invalid(`Invalid order_by clause '${raw}': '${id}' appears more than once`);
    seen.add(id);
    out.push({ entity, key, asc });
  }
  return out;
}

/** Page tokens are base64 JSON {"offset": N}, as the reference server makes them. */
export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  try {
    const obj = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    const off = obj.offset;
    // a safe integer: 1e20 is an integer to JavaScript but not to SQLite's OFFSET
    if (typeof off === 'number' && Number.isSafeInteger(off) && off >= 0) return off;
  } catch {
    // fall through to the error below
  }
  throw invalid(`Invalid page token '${token.slice(0, 64)}'`);
}

export const encodePageToken = (offset: number): string => Buffer.from(JSON.stringify({ offset })).toString('base64');
