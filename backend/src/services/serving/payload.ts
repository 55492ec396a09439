import { invalid } from '../../util/errors';

/**
 * A scoring request body in one of MLflow's four formats (mlflow/pyfunc/scoring_server), reduced to a table
 * (rows of values, named columns or positional), to records (objects of feature values, as sent), or to named
 * arrays (tensors by input name, or columns). Records stay records until the model's features are known: their
 * keys are checked against the model first (feeds.ts), so no table is ever built from keys it does not take.
 */
export type Frame =
  | { readonly kind: 'table'; readonly columns: readonly string[] | null; readonly rows: readonly unknown[][] }
  | { readonly kind: 'records'; readonly records: readonly Readonly<Record<string, unknown>>[] }
  | { readonly kind: 'named'; readonly arrays: Readonly<Record<string, unknown>> };

export const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** Upper bound on rows per request: a batch that large belongs to `mlops predict`, not the online path. */
export const MAX_ROWS = 100_000;

export function parsePayload(body: unknown): Frame {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid(`The request body must be a JSON object with one of: ${FORMATS.join(', ')}`);
  }
  const b = body as Record<string, unknown>;
  const present = FORMATS.filter((f) => b[f] !== undefined);
  if (present.length !== 1) {
    throw invalid(
      present.length === 0
        ? `The request body has none of the fields ${FORMATS.join(', ')}; got ${Object.keys(b).join(', ') || 'an empty object'}`
        : `The request body must have exactly one of ${FORMATS.join(', ')}; got ${present.join(' and ')}`,
    );
  }
  const format = present[0]!;
  const value = b[format];
  const frame = format === 'dataframe_split' ? fromSplit(value) : format === 'dataframe_records' ? fromRecords(value, format) : fromInstances(value, format);
  if (frame.kind !== 'named') {
    const n = frame.kind === 'table' ? frame.rows.length : frame.records.length;
    if (n === 0) throw invalid(`'${format}' holds no rows`);
    if (n > MAX_ROWS) throw invalid(`'${format}' holds ${n} rows; at most ${MAX_ROWS} per request (use mlops predict for batches)`);
  }
  return frame;
}

function fromSplit(v: unknown): Frame {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid("'dataframe_split' must be an object {columns, data}");
  const { columns, data } = v as { columns?: unknown; data?: unknown };
  if (!Array.isArray(data)) throw invalid("'dataframe_split.data' must be an array of rows");
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))) {
    throw invalid("'dataframe_split.columns' must be an array of column names");
  }
  const rows = data.map((r, i) => {
    if (!Array.isArray(r)) throw invalid(`'dataframe_split.data' row ${i} is not an array`);
    if (columns && r.length !== columns.length) throw invalid(`'dataframe_split.data' row ${i} has ${r.length} values for ${columns.length} columns`);
    return r as unknown[];
  });
  return { kind: 'table', columns: (columns as string[] | undefined) ?? null, rows };
}

function fromRecords(v: unknown, field: string): Frame {
  if (!Array.isArray(v)) throw invalid(`'${field}' must be an array of records`);
  for (const [i, r] of v.entries()) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw invalid(`'${field}' item ${i} is not a record (an object of feature values)`);
  }
  return { kind: 'records', records: v as Record<string, unknown>[] };
}

function fromInstances(v: unknown, field: string): Frame {
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return fromRecords(v, field);
    return { kind: 'table', columns: null, rows: v.map((r) => (Array.isArray(r) ? (r as unknown[]) : [r])) };
  }
  if (field === 'inputs' && v !== null && typeof v === 'object') return { kind: 'named', arrays: v as Record<string, unknown> };
  throw invalid(`'${field}' must be an array of rows${field === 'inputs' ? ' or an object of named arrays' : ''}`);
}
