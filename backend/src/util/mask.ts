/**
 * Masking of secrets in what the backend shows or keeps: job logs, lineage records, API answers. Two rules:
 * by name (env vars and command-line flags that look like secrets) and by value (every secret the backend
 * knows, every job token, credentials inside URLs and Authorization headers).
 */

export const MASK = '***';

/** Job tokens carry this prefix, so any of them, live or dead, is masked by its shape alone. */
export const JOB_TOKEN_PREFIX = 'mlopsjob_';
const JOB_TOKEN = /mlopsjob_[A-Za-z0-9_-]{16,}/g;

/** Values shorter than this are not masked by value: masking every "abc" in a log would hide the log. */
export const MIN_SECRET_LENGTH = 8;

const SECRET_WORDS = new Set(['TOKEN', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASS', 'PASSPHRASE', 'KEY', 'APIKEY', 'CREDENTIAL', 'CREDENTIALS', 'AUTH', 'AUTHORIZATION', 'COOKIE']);
/** A name ending in one of these holds where a secret is, not the secret (--password-env VAR, TOKEN_FILE). */
const POINTER_WORDS = new Set(['ENV', 'FILE', 'PATH', 'DIR', 'SOCK']);

/**
 * Whether an env var or flag name looks like it holds a secret: *TOKEN*, *SECRET*, *PASSWORD*, *PASSWD*,
 * *_KEY / *KEY (API_KEY, APIKEY, AWS_SECRET_ACCESS_KEY), *CREDENTIAL*, AUTH, COOKIE, *_PASS; not TOKENIZER* or
 * MAX_TOKENS (counts of tokens), not PWD (a folder), not names of where a secret is kept (*_ENV, *_FILE).
 */
export function isSecretName(name: string): boolean {
  const n = name.toUpperCase().replace(/-/g, '_');
  const words = n.split('_').filter(Boolean);
  if (!words.length || POINTER_WORDS.has(words.at(-1)!)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  if (/SECRET|PASSWORD|PASSWD|CREDENTIAL/.test(n)) return true;
  if (/TOKEN(?!IZ|S)/.test(n)) return true;
  return /KEY$/.test(words.at(-1)!) && !/(MON|TUR|HOC|DON|JOC)KEY$/.test(words.at(-1)!);
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:)([^\s@/]+)@/gi;
const AUTH_HEADER = /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/g;
/** NAME=value (env dumps, shell lines), "NAME": "value" and 'NAME': 'value' (JSON, Python dicts). */
const ASSIGNMENT = /\b([A-Za-z_][A-Za-z0-9_]*)=("[^"\n]*"|'[^'\n]*'|[^\s'"]+)/g;
const QUOTED_PAIR = /(["'])([A-Za-z_][A-Za-z0-9_-]*)\1(\s*:\s*)(["'])((?:(?!\4)[^\n\\]|\\.)*)\4/g;
/** --password VALUE and -token VALUE in free text (the = form is an assignment above). */
const FLAG_SPACE = /(^|\s)(--?([A-Za-z][A-Za-z0-9_-]*))([ \t]+)([^\s-][^\s]*)/g;

/** Text with every known secret value, job token and credential-looking part replaced by ***. */
export function maskText(text: string, values: readonly string[] = []): string {
  let out = maskKnown(text, values);
  if (out.includes('://')) out = out.replace(URL_CREDENTIALS, `$1${MASK}@`);
  out = out.replace(AUTH_HEADER, `$1$2${MASK}`);
  if (out.includes('=')) out = out.replace(ASSIGNMENT, (m, name: string) => (isSecretName(name) ? `${name}=${MASK}` : m));
  if (out.includes(':')) out = out.replace(QUOTED_PAIR, (m, q: string, name: string, sep: string, vq: string) => (isSecretName(name) ? `${q}${name}${q}${sep}${vq}${MASK}${vq}` : m));
  if (out.includes('-')) out = out.replace(FLAG_SPACE, (m, pre: string, flag: string, name: string, gap: string) => (isSecretName(name) ? `${pre}${flag}${gap}${MASK}` : m));
  return out;
}

/** Env as recorded or shown: values of secret-looking names masked, the others masked by value. */
export function maskEnv(env: Record<string, string>, values: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, isSecretName(k) ? MASK : maskText(v, values)]));
}

/** argv as recorded or shown: `--token X`, `--password=X` and secrets inside any argument masked. */
export function maskArgv(argv: readonly string[], values: readonly string[] = []): string[] {
  const out = argv.map((a) => maskText(a, values));
  for (let i = 0; i < out.length; i++) {
    const flag = /^--?([A-Za-z][A-Za-z0-9_-]*)$/.exec(out[i]!);
    if (flag && isSecretName(flag[1]!) && i + 1 < out.length) out[++i] = MASK;
  }
  return out;
}

export const isMasked = (v: string): boolean => v === MASK;

/** Only the value rules (known secrets and job tokens): for API answers, whose keys are data, not env names. */
export function maskKnown(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of values) if (v.length >= MIN_SECRET_LENGTH && out.includes(v)) out = out.split(v).join(MASK);
  return out.includes(JOB_TOKEN_PREFIX) ? out.replace(JOB_TOKEN, MASK) : out;
}
