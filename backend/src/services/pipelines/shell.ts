/**
 * `${{ }}` templates inside shell scripts. A value pasted into a script would be parsed as shell code
 * (`x"; touch /tmp/pwned`), so each template in a script becomes a reference to an environment variable that
 * holds its value, quoted for the place it sits in. Expansion results are never parsed again by the shell, so
 * even a misjudged quoting context costs word splitting at worst, never code execution.
 */

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash']);
const TEMPLATE = /\$\{\{(.*?)\}\}/y;

/** Environment variables that carry template values into scripts: MLOPS_TEMPLATE_0, _1, ... */
export const TEMPLATE_VAR = 'MLOPS_TEMPLATE_';

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/**
 * The index of the script argument when argv runs a shell with `-c` (also behind `env [VAR=x]`), else -1:
 * `[sh, -c, SCRIPT]`, `[bash, -euo, pipefail, -c, SCRIPT]`, `[/usr/bin/env, bash, -ec, SCRIPT]`.
 */
export function shellScriptIndex(argv: readonly string[]): number {
  let i = 0;
  if (base(argv[0] ?? '') === 'env') {
    i = 1;
    while (i < argv.length && (argv[i]!.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[i]!))) i++;
  }
  if (!SHELLS.has(base(argv[i] ?? ''))) return -1;
  let command = false;
  for (i++; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || a === '-') return command && i + 1 < argv.length ? i + 1 : -1;
    if (a.startsWith('--')) continue;
    if (!/^[-+][A-Za-z]+$/.test(a)) return command ? i : -1;
    if (a.startsWith('-') && a.includes('c')) command = true;
    // -o OPTION / +o OPTION and bash's -O / +O shopt names take the next argument.
    if (/[oO]/.test(a)) i++;
  }
  return -1;
}

type Quoting = 'plain' | 'single' | 'ansi' | 'double';

/** How to splice a reference to `$NAME` into the script where the lexer stands. */
function reference(name: string, q: Quoting): string {
  if (q === 'plain') return `"\${${name}}"`;
  if (q === 'double') return `\${${name}}`;
  // Close the quotes, splice the reference double-quoted, reopen them.
  return q === 'single' ? `'"\${${name}}"'` : `'"\${${name}}"$'`;
}

/**
 * Replaces each `${{ expr }}` in `script` by a quoted reference to a variable and returns the variables with
 * their templates (rendered later like any env value). Tracks quotes, backslashes, `$'...'`, and nesting
 * through `$(...)` and backticks, which start a fresh unquoted context even inside double quotes.
 */
export function templatesToEnv(script: string, vars: Record<string, string>): string {
  const byTemplate = new Map(Object.entries(vars).map(([k, v]) => [v, k]));
  // Command substitutions open a fresh unquoted context; each frame is where to return when it closes.
  const frames: { q: Quoting; closer: string }[] = [];
  let q: Quoting = 'plain';
  let closer = '';
  let out = '';
  let i = 0;
  while (i < script.length) {
    TEMPLATE.lastIndex = i;
    const m = TEMPLATE.exec(script);
    if (m) {
      let name = byTemplate.get(m[0]);
      if (!name) {
        name = `${TEMPLATE_VAR}${byTemplate.size}`;
        byTemplate.set(m[0], name);
        vars[name] = m[0];
      }
      out += reference(name, q);
      i += m[0].length;
      continue;
    }
    const c = script[i]!;
    let take = 1;
    if (q === 'single' || q === 'ansi') {
      if (c === '\\' && q === 'ansi') take = 2;
      else if (c === "'") q = 'plain';
    } else if (c === '\\') {
      take = 2;
    } else if ((c === '$' && script[i + 1] === '(') || (c === '`' && closer !== '`')) {
      frames.push({ q, closer });
      [q, closer] = ['plain', c === '`' ? '`' : ')'];
      take = c === '`' ? 1 : 2;
    } else if (q === 'plain' && c === closer) {
      ({ q, closer } = frames.pop()!);
    } else if (c === '"') {
      q = q === 'double' ? 'plain' : 'double';
    } else if (q === 'plain' && c === "'") {
      q = 'single';
    } else if (q === 'plain' && c === '$' && script[i + 1] === "'") {
      q = 'ansi';
      take = 2;
    }
    out += script.slice(i, i + take);
    i += take;
  }
  return out;
}
