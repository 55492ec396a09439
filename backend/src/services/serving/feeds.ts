import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { invalid } from '../../util/errors';
import type { Frame } from './payload';
import type { ColumnSpec, InputSchema } from './signature';

type NumericType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
const NUMERIC: readonly string[] = ['float32', 'float64', 'int64', 'int32', 'bool'];

interface OnnxInput {
  readonly name: string;
  readonly type: NumericType;
  /** Dimensions; -1 where symbolic (batch). */
  readonly shape: readonly number[];
}

/**
 * How request features become the model's inputs, fixed at load time:
 * - matrix: one 2-D input [N, K]; the features are K columns, in the signature's order when there is one;
 * - columns: one input per feature ([N] or [N, 1]), matched by name;
 * - tensors: named arrays passed through as tensors (tensor-based signatures, or `inputs` by input name).
 */
export interface InputPlan {
  readonly mode: 'matrix' | 'columns' | 'tensors';
  readonly inputs: readonly OnnxInput[];
  /** Expected features in order; names may be null (positional only) when there is no column signature. */
  readonly features: readonly { readonly name: string | null; readonly integer: boolean }[];
}

/** A request turned into feeds, with the feature rows kept for the prediction log and feature statistics. */
export interface Prepared {
  readonly feeds: Record<string, Tensor>;
  readonly rows: number;
  /** Row-major feature values (matrix and columns modes); null for raw tensors. */
  readonly values: Float64Array | null;
}

export function planInputs(session: InferenceSession, schema: InputSchema | null, label: string): InputPlan {
  const inputs = session.inputMetadata.map((m): OnnxInput => {
    if (!m.isTensor || !NUMERIC.includes(m.type)) throw invalid(`Model ${label}: input '${m.name}' has type ${m.isTensor ? m.type : 'non-tensor'}; only numeric tensors can be served`);
    return { name: m.name, type: m.type as NumericType, shape: m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1)) };
  });
  const cols: readonly ColumnSpec[] | null = schema?.kind === 'columns' ? schema.columns : null;
  const only = inputs.length === 1 ? inputs[0]! : null;
  if (only && only.shape.length === 2 && (cols === null || cols.length > 1 || !cols.some((c) => c.name === only.name))) {
    const width = only.shape[1]!;
    if (cols && width > 0 && cols.length !== width) {
      throw invalid(`Model ${label}: its signature lists ${cols.length} features but its ONNX input '${only.name}' takes ${width}`);
    }
    const features = cols ? cols.map((c) => ({ name: c.name, integer: isIntegerType(c.type) })) : Array.from({ length: width > 0 ? width : 0 }, () => ({ name: null, integer: false }));
    if (features.length === 0) throw invalid(`Model ${label}: input '${only.name}' has no fixed width and the model has no signature naming its features`);
    return { mode: 'matrix', inputs, features };
  }
  if (schema?.kind === 'tensors' || !inputs.every((i) => i.shape.length === 1 || (i.shape.length === 2 && i.shape[1] === 1))) {
    return { mode: 'tensors', inputs, features: [] };
  }
  const names = new Set(inputs.map((i) => i.name));
  if (cols && cols.some((c) => !names.has(c.name))) {
    throw invalid(`Model ${label}: signature features (${cols.map((c) => c.name).join(', ')}) do not match its ONNX inputs (${[...names].join(', ')})`);
  }
  return { mode: 'columns', inputs, features: inputs.map((i) => ({ name: i.name, integer: i.type === 'int64' || i.type === 'int32' })) };
}

const isIntegerType = (t: string): boolean => t === 'long' || t === 'integer';

export function prepare(plan: InputPlan, frame: Frame): Prepared {
  if (frame.kind === 'records') return prepare(plan, recordsToTable(plan, frame.records));
  if (plan.mode === 'tensors') return prepareTensors(plan, frame);
  const table = frame.kind === 'table' ? frame : namedToTable(frame.arrays, plan);
  const { order, rows } = alignColumns(plan, table.columns, table.rows);
  const k = plan.features.length;
  const n = rows.length;
  const values = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    const row = rows[r]!;
    if (order === null && row.length !== k) throw invalid(`Row ${r} has ${row.length} values; the model expects ${k}${featureList(plan)}`);
    for (let c = 0; c < k; c++) values[r * k + c] = toNumber(row[order ? order[c]! : c], plan.features[c]!, r, c);
  }
  const feeds: Record<string, Tensor> = {};
  if (plan.mode === 'matrix') {
    const input = plan.inputs[0]!;
    feeds[input.name] = makeTensor(input.type, values, [n, k]);
  } else {
    for (const [c, input] of plan.inputs.entries()) {
      const col = new Float64Array(n);
      for (let r = 0; r < n; r++) col[r] = values[r * k + c]!;
      feeds[input.name] = makeTensor(input.type, col, input.shape.length === 1 ? [n] : [n, 1]);
    }
  }
  return { feeds, rows: n, values };
}

function featureList(plan: InputPlan): string {
  const names = plan.features.map((f) => f.name).filter((n): n is string => n !== null);
  return names.length ? ` (${names.join(', ')})` : '';
}

/** Maps the request's columns onto the model's features: null order means positional. */
function alignColumns(plan: InputPlan, columns: readonly string[] | null, rows: readonly unknown[][]): { order: number[] | null; rows: readonly unknown[][] } {
  const named = plan.features.every((f) => f.name !== null);
  if (columns === null || !named) {
    if (columns !== null && columns.length !== plan.features.length) {
      throw invalid(`Got ${columns.length} features (${columns.join(', ')}); the model expects ${plan.features.length}`);
    }
    return { order: null, rows };
  }
  const index = new Map(columns.map((c, i) => [c, i]));
  const missing = plan.features.filter((f) => !index.has(f.name!)).map((f) => f.name!);
  const expected = new Set(plan.features.map((f) => f.name!));
  const unknown = columns.filter((c) => !expected.has(c));
  if (missing.length || unknown.length) {
    const parts = [missing.length ? `missing feature(s) ${missing.map((m) => `'${m}'`).join(', ')}` : '', unknown.length ? `unknown feature(s) ${unknown.map((m) => `'${m}'`).join(', ')}` : ''].filter(Boolean);
    throw invalid(`Input does not match the model's signature: ${parts.join('; ')}. Expected: ${[...expected].join(', ')}`);
  }
  return { order: plan.features.map((f) => index.get(f.name!)!), rows };
}

/** At most this many unexpected keys are named in an error (a hostile body may hold a million). */
const NAMED_KEYS = 10;

/**
 * Records (objects of feature values) as a table with the model's columns. Each record's keys are checked against
 * the model before any row is built, so memory stays within the size of the body: a record with keys the model
 * does not take is refused at once, naming them. Without feature names (positional models, raw tensors), every
 * record must have the keys of the first, and at most as many as the model takes.
 */
function recordsToTable(plan: InputPlan, records: readonly Readonly<Record<string, unknown>>[]): { kind: 'table'; columns: string[]; rows: unknown[][] } {
  const named = plan.mode !== 'tensors' && plan.features.length > 0 && plan.features.every((f) => f.name !== null);
  const columns = named ? plan.features.map((f) => f.name!) : Object.keys(records[0]!);
  const width = plan.mode === 'tensors' ? (plan.inputs.length === 1 ? (plan.inputs[0]!.shape[1] ?? -1) : -1) : plan.features.length;
  if (!named && width > 0 && columns.length > width) throw invalid(`Record 0 has ${columns.length} features; the model expects ${width}`);
  const expected = new Set(columns);
  const rows: unknown[][] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const unexpected: string[] = [];
    let extra = 0;
    let count = 0;
    for (const k in r) {
      if (!Object.hasOwn(r, k)) continue;
      count++;
      if (expected.has(k)) continue;
      if (unexpected.length < NAMED_KEYS) unexpected.push(k);
      extra++;
    }
    if (extra > 0) {
      const names = `${unexpected.map((k) => `'${k.slice(0, 64)}'`).join(', ')}${extra > unexpected.length ? ` and ${extra - unexpected.length} more` : ''}`;
      throw invalid(`Input does not match the model's signature: record ${i} has ${extra} unknown feature(s) ${names}. Expected: ${columns.join(', ')}`);
    }
    if (!named && count !== columns.length) throw invalid(`Record ${i} lacks feature(s) ${columns.filter((c) => !Object.hasOwn(r, c)).map((c) => `'${c}'`).join(', ')} that record 0 has`);
    rows[i] = columns.map((c) => r[c]);
  }
  if (named && records.length > 0) {
    const missing = columns.filter((c) => !records.some((r) => Object.hasOwn(r, c)));
    if (missing.length) throw invalid(`Input does not match the model's signature: missing feature(s) ${missing.map((m) => `'${m}'`).join(', ')}. Expected: ${columns.join(', ')}`);
  }
  return { kind: 'table', columns, rows };
}

function toNumber(v: unknown, f: { name: string | null; integer: boolean }, row: number, col: number): number {
  const what = f.name !== null ? `Feature '${f.name}'` : `Feature ${col}`;
  if (typeof v === 'number') {
    if (f.integer && !Number.isInteger(v)) throw invalid(`${what} must be an integer; got ${v} in row ${row}`);
    return v;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) throw invalid(`${what} is missing in row ${row}`);
  throw invalid(`${what} must be a number; got ${typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v} in row ${row}`);
}

function namedToTable(arrays: Readonly<Record<string, unknown>>, plan: InputPlan): { columns: string[] | null; rows: unknown[][] } {
  const columns = Object.keys(arrays);
  if (plan.mode === 'matrix' && columns.length === 1 && columns[0] === plan.inputs[0]!.name) {
    const v = arrays[columns[0]!];
    if (!Array.isArray(v)) throw invalid(`Input '${columns[0]}' must be an array of rows`);
    return { columns: null, rows: v.map((r) => (Array.isArray(r) ? (r as unknown[]) : [r])) };
  }
  let n = -1;
  for (const c of columns) {
    const v = arrays[c];
    if (!Array.isArray(v)) throw invalid(`Input '${c}' must be an array of values`);
    if (n >= 0 && v.length !== n) throw invalid(`Inputs have different lengths ('${c}' has ${v.length}, expected ${n})`);
    n = v.length;
  }
  const rows: unknown[][] = [];
  for (let r = 0; r < Math.max(n, 0); r++) rows.push(columns.map((c) => (arrays[c] as unknown[])[r]));
  if (rows.length === 0) throw invalid('The inputs hold no rows');
  return { columns, rows };
}

function prepareTensors(plan: InputPlan, frame: Exclude<Frame, { kind: 'records' }>): Prepared {
  const arrays: Record<string, unknown> =
    frame.kind === 'named' ? { ...frame.arrays } : plan.inputs.length === 1 ? { [plan.inputs[0]!.name]: frame.rows } : {};
  const feeds: Record<string, Tensor> = {};
  let rows = 0;
  for (const input of plan.inputs) {
    const v = arrays[input.name];
    if (v === undefined) throw invalid(`Missing input '${input.name}'; the model takes ${plan.inputs.map((i) => i.name).join(', ')}`);
    const { flat, dims } = flatten(v, input.name);
    if (dims.length !== input.shape.length) throw invalid(`Input '${input.name}' has ${dims.length} dimensions; the model expects ${input.shape.length} (shape ${fmtShape(input.shape)})`);
    input.shape.forEach((d, i) => {
      if (d > 0 && dims[i] !== d) throw invalid(`Input '${input.name}' has shape ${fmtShape(dims)}; the model expects ${fmtShape(input.shape)}`);
    });
    feeds[input.name] = makeTensor(input.type, Float64Array.from(flat, (x, i) => toNumber(x, { name: input.name, integer: false }, i, 0)), dims);
    rows = Math.max(rows, dims[0] ?? 1);
  }
  const extra = Object.keys(arrays).filter((k) => !plan.inputs.some((i) => i.name === k));
  if (extra.length) throw invalid(`Unknown input(s) ${extra.map((e) => `'${e}'`).join(', ')}; the model takes ${plan.inputs.map((i) => i.name).join(', ')}`);
  return { feeds, rows, values: null };
}

const fmtShape = (s: readonly number[]): string => `[${s.map((d) => (d < 0 ? 'N' : d)).join(', ')}]`;

function flatten(v: unknown, name: string): { flat: unknown[]; dims: number[] } {
  const dims: number[] = [];
  let probe: unknown = v;
  while (Array.isArray(probe)) {
    dims.push(probe.length);
    probe = probe[0];
  }
  const flat = (v as unknown[]).flat(dims.length) as unknown[];
  const expected = dims.reduce((a, b) => a * b, 1);
  if (flat.length !== expected || flat.some((x) => Array.isArray(x))) throw invalid(`Input '${name}' is a ragged array; every row must have the same length`);
  return { flat, dims };
}

function makeTensor(type: NumericType, values: Float64Array, dims: number[]): Tensor {
  switch (type) {
    case 'float32':
      return new Tensor('float32', Float32Array.from(values), dims);
    case 'float64':
      return new Tensor('float64', values, dims);
    case 'int32':
      return new Tensor('int32', Int32Array.from(values, Math.trunc), dims);
    case 'int64':
      return new Tensor('int64', BigInt64Array.from(values, (x) => BigInt(Math.trunc(x))), dims);
    case 'bool':
      return new Tensor('bool', Uint8Array.from(values, (x) => (x ? 1 : 0)), dims);
  }
}

/** The first output, one entry per row: a scalar for [N] and [N,1], an array per row for [N,C]. */
export function toPredictions(out: Tensor, rows: number): unknown[] {
  const data = out.data as ArrayLike<number | bigint | string>;
  const width = out.dims.length <= 1 ? 1 : out.dims.slice(1).reduce((a, b) => a * b, 1);
  const val = (x: number | bigint | string): number | string => (typeof x === 'bigint' ? Number(x) : x);
  const result: unknown[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    if (width === 1) result[r] = val(data[r]!);
    else {
      const row: (number | string)[] = new Array(width);
      for (let c = 0; c < width; c++) row[c] = val(data[r * width + c]!);
      result[r] = row;
    }
  }
  return result;
}
