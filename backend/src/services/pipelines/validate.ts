import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';

export type ColumnType = 'number' | 'integer' | 'string' | 'boolean';

export interface ColumnRule {
  type: ColumnType;
  min?: number;
  max?: number;
  /** Allowed values (strings as written in the file). */
  values?: string[];
  /** Largest share of missing cells allowed, 0..1 (default 0). */
  missing: number;
}

export interface DataSchema {
  rows: { min?: number; max?: number };
  columns: Record<string, ColumnRule>;
  /** Columns the schema does not name: allowed unless 'forbid'. */
  extra: 'allow' | 'forbid';
}

export interface ColumnReport {
  type: ColumnType;
  missing: number;
  invalid: number;
  min: number | null;
  max: number | null;
  failures: string[];
}

export interface ValidationReport {
  ok: boolean;
  file: string;
  rows: number;
  columns: Record<string, ColumnReport>;
  /** Every failed check, one sentence each. */
  failures: string[];
}

const TYPES: readonly ColumnType[] = ['number', 'integer', 'string', 'boolean'];
const MISSING = new Set(['', 'na', 'nan', 'null', 'none']);

/** A schema from the step's `schema:` (inline, or the path of a YAML/JSON file next to mlops.yaml). */
export function parseSchema(raw: unknown, dir: string): DataSchema {
  let doc = raw;
  if (typeof raw === 'string') {
    const file = resolve(dir, raw);
    if (!existsSync(file)) throw new Error(`schema file '${raw}' does not exist`);
    doc = parseYaml(readFileSync(file, 'utf8'));
  }
  if (!doc || typeof doc !== 'object') throw new Error("validate needs a 'schema' with 'columns'");
  const d = doc as { rows?: { min?: unknown; max?: unknown }; columns?: Record<string, Record<string, unknown>>; extra_columns?: unknown };
  if (!d.columns || typeof d.columns !== 'object') throw new Error("the schema needs 'columns'");
  const columns: Record<string, ColumnRule> = {};
  for (const [name, c] of Object.entries(d.columns)) {
    const type = (c?.type ?? 'string') as ColumnType;
    if (!TYPES.includes(type)) throw new Error(`column '${name}': type must be one of ${TYPES.join(', ')}`);
    const rule: ColumnRule = { type, missing: Number(c?.missing ?? 0) };
    if (!(rule.missing >= 0 && rule.missing <= 1)) throw new Error(`column '${name}': missing is a share between 0 and 1`);
    if (c?.min !== undefined) rule.min = Number(c.min);
    if (c?.max !== undefined) rule.max = Number(c.max);
    if (Array.isArray(c?.values)) rule.values = c.values.map(String);
    columns[name] = rule;
  }
  const rows: DataSchema['rows'] = {};
  if (d.rows?.min !== undefined) rows.min = Number(d.rows.min);
  if (d.rows?.max !== undefined) rows.max = Number(d.rows.max);
  return { rows, columns, extra: d.extra_columns === 'forbid' ? 'forbid' : 'allow' };
}

function checkCell(v: string, rule: ColumnRule): { bad: boolean; num: number | null } {
  switch (rule.type) {
    case 'number':
    case 'integer': {
      const n = Number(v);
      if (!Number.isFinite(n) || (rule.type === 'integer' && !Number.isInteger(n))) return { bad: true, num: null };
      return { bad: false, num: n };
    }
    case 'boolean':
      return { bad: !['true', 'false', '0', '1', 'yes', 'no'].includes(v.toLowerCase()), num: null };
    default:
      return { bad: false, num: null };
  }
}

/** Checks a CSV file (header row first) against the schema: types, ranges, allowed values, missing cells, row count. */
export function validateCsv(file: string, schema: DataSchema): ValidationReport {
  if (!existsSync(file)) return { ok: false, file, rows: 0, columns: {}, failures: [`data file '${file}' does not exist`] };
  let records: Record<string, string>[];
  try {
    records = parseCsv(readFileSync(file), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (err) {
    return { ok: false, file, rows: 0, columns: {}, failures: [`'${file}' is not a readable CSV file: ${(err as Error).message}`] };
  }
  const failures: string[] = [];
  const header = records.length ? Object.keys(records[0]!) : [];
  const n = records.length;
  if (schema.rows.min !== undefined && n < schema.rows.min) failures.push(`${n} rows, fewer than the minimum ${schema.rows.min}`);
  if (schema.rows.max !== undefined && n > schema.rows.max) failures.push(`${n} rows, more than the maximum ${schema.rows.max}`);
  if (schema.extra === 'forbid') for (const h of header) if (!(h in schema.columns)) failures.push(`column '${h}' is not in the schema`);
  const columns: Record<string, ColumnReport> = {};
  for (const [name, rule] of Object.entries(schema.columns)) {
    const rep: ColumnReport = { type: rule.type, missing: 0, invalid: 0, min: null, max: null, failures: [] };
    columns[name] = rep;
    if (n > 0 && !header.includes(name)) {
      rep.failures.push(`column '${name}' is missing from the file`);
      failures.push(...rep.failures);
      continue;
    }
    let below = 0;
    let above = 0;
    let notAllowed = 0;
    for (const r of records) {
      const v = r[name] ?? '';
      if (MISSING.has(v.toLowerCase())) {
        rep.missing++;
        continue;
      }
      const { bad, num } = checkCell(v, rule);
      if (bad) rep.invalid++;
      if (num !== null) {
        rep.min = rep.min === null ? num : Math.min(rep.min, num);
        rep.max = rep.max === null ? num : Math.max(rep.max, num);
        if (rule.min !== undefined && num < rule.min) below++;
        if (rule.max !== undefined && num > rule.max) above++;
      }
      if (rule.values && !rule.values.includes(v)) notAllowed++;
    }
    const share = n ? rep.missing / n : 0;
    if (share > rule.missing) rep.failures.push(`column '${name}': ${rep.missing} missing value(s) (${(share * 100).toFixed(1)}%), allowed ${(rule.missing * 100).toFixed(1)}%`);
    if (rep.invalid) rep.failures.push(`column '${name}': ${rep.invalid} value(s) are not of type ${rule.type}`);
    if (below) rep.failures.push(`column '${name}': ${below} value(s) below the minimum ${rule.min} (lowest ${rep.min})`);
    if (above) rep.failures.push(`column '${name}': ${above} value(s) above the maximum ${rule.max} (highest ${rep.max})`);
    if (notAllowed) rep.failures.push(`column '${name}': ${notAllowed} value(s) outside the allowed set ${JSON.stringify(rule.values)}`);
    failures.push(...rep.failures);
  }
  return { ok: failures.length === 0, file, rows: n, columns, failures };
}
