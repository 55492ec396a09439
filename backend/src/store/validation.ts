import { invalid } from '../util/errors';

/** MLflow's limits (mlflow/utils/validation.py), enforced before anything is written. */
export const LIMITS = {
  maxMetricsPerBatch: 1000,
  maxParamsTagsPerBatch: 100,
  maxEntitiesPerBatch: 1000,
  maxKeyLength: 250,
  maxParamValueLength: 6000,
  maxTagValueLength: 8000,
  maxExperimentTagValueLength: 5000,
  maxRegistryTagValueLength: 100_000,
  maxExperimentNameLength: 500,
  maxRunNameLength: 250,
} as const;

const KEY_RE = /^[/\w.\- :]*$/;

/** Keys are path-like: letters, digits, `_ - . / : space`, and must not normalise to another path. */
export function validateKey(key: unknown, what: string): string {
  if (typeof key !== 'string' || key === '') throw invalid(`Missing value for required parameter '${what} key'`);
  if (key.length > LIMITS.maxKeyLength) throw invalid(`${what} key '${key.slice(0, 40)}…' is ${key.length} characters; the limit is ${LIMITS.maxKeyLength}`);
  if (!KEY_RE.test(key)) {
    throw invalid(`Invalid ${what} key '${key}': names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)`);
  }
  const segs = key.split('/');
  if (key.startsWith('/') || segs.some((s, i) => s === '..' || s === '.' || (s === '' && i > 0))) {
    throw invalid(`Invalid ${what} key '${key}': it would be a different path once normalised`);
  }
  return key;
}

export function validateValue(value: unknown, max: number, what: string): string {
  if (value === undefined || value === null) throw invalid(`Missing value for required parameter '${what} value'`);
  const v = typeof value === 'string' ? value : String(value);
  if (v.length > max) throw invalid(`${what} value is ${v.length} characters; the limit is ${max}`);
  return v;
}

/** Accepts a number, a numeric string, or MLflow's "NaN" / "Infinity" / "-Infinity" strings. */
export function parseMetricValue(v: unknown, field = 'value'): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  if (v === undefined || v === null) throw invalid(`Missing value for required parameter '${field}'`);
  throw invalid(`Invalid value for '${field}': expected a number, got ${JSON.stringify(v)}`);
}

/** int64 fields: JSON numbers or decimal strings. */
export function parseInt64(v: unknown, field: string, opts: { required?: boolean; min?: number } = {}): number | undefined {
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw invalid(`Missing value for required parameter '${field}'`);
    return undefined;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${field}': expected an integer`);
  if (opts.min !== undefined && n < opts.min) throw invalid(`Invalid value ${n} for parameter '${field}': must be ≥ ${opts.min}`);
  return n;
}
