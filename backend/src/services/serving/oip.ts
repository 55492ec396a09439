import { invalid } from '../../util/errors';

/**
 * The Open Inference Protocol (KServe V2, also spoken by Triton and Seldon MLServer): typed tensors in and out,
 * as JSON or with Triton's binary tensor extension (a JSON header of `Inference-Header-Content-Length` bytes,
 * then each tensor's raw little-endian bytes in input order, sized by `parameters.binary_data_size`).
 * Pure encoding and decoding: the route hands the decoded tensors to the serving engine.
 */

export const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP32', 'FP64', 'BYTES'] as const;
export type Datatype = (typeof DATATYPES)[number];

/** onnxruntime's tensor element types as the protocol names them (FP16/BF16 have no JSON form here). */
const FROM_ONNX: Readonly<Record<string, Datatype>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

export function datatypeOf(onnxType: string): string {
  return FROM_ONNX[onnxType] ?? onnxType.toUpperCase();
}

type TypedCtor = { BYTES_PER_ELEMENT: number; new (buf: ArrayBuffer): ArrayLike<number | bigint> };
const TYPED: Readonly<Record<Exclude<Datatype, 'BYTES'>, TypedCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** Deeper tensors than this are refused before any data is read (the models served here take rank 1 or 2). */
const MAX_RANK = 8;
const MAX_INPUTS = 1024;

export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** Row-major elements: numbers (BOOL as 0/1) or strings for BYTES. */
  readonly data: readonly (number | string)[];
}

export interface InferRequest {
  readonly id: string | null;
  readonly inputs: readonly Tensor[];
  /** Requested output names with whether each comes back binary; null: every output, as `binaryDefault` says. */
  readonly outputs: readonly { readonly name: string; readonly binary: boolean }[] | null;
  readonly binaryDefault: boolean;
  readonly parameters: Readonly<Record<string, unknown>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Decodes a request body; `headerLength` is the Inference-Header-Content-Length header (null: all JSON). */
export function decodeInferRequest(body: Buffer, headerLength: number | null): InferRequest {
  if (headerLength !== null && (!Number.isInteger(headerLength) || headerLength < 0 || headerLength > body.length)) {
    throw invalid(`Inference-Header-Content-Length is ${headerLength}; the body has ${body.length} bytes`);
  }
  const jsonEnd = headerLength ?? body.length;
  let doc: unknown;
  try {
    doc = JSON.parse(body.subarray(0, jsonEnd).toString('utf8'));
  } catch (err) {
    throw invalid(`Malformed JSON inference request: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw invalid('The inference request must be a JSON object with "inputs"');
  if (doc.id !== undefined && typeof doc.id !== 'string') throw invalid('"id" must be a string');
  const parameters = doc.parameters === undefined ? {} : doc.parameters;
  if (!isObject(parameters)) throw invalid('"parameters" must be an object');
  if (!Array.isArray(doc.inputs) || doc.inputs.length === 0) throw invalid('"inputs" must be a non-empty array of tensors');
  if (doc.inputs.length > MAX_INPUTS) throw invalid(`"inputs" has ${doc.inputs.length} tensors; at most ${MAX_INPUTS}`);
  let offset = jsonEnd;
  const names = new Set<string>();
  const inputs = doc.inputs.map((raw: unknown, i: number): Tensor => {
    const t = readTensorHeader(raw, i);
    if (names.has(t.name)) throw invalid(`Input '${t.name}' appears twice`);
    names.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const size = t.parameters.binary_data_size;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > body.length) {
        throw invalid(`Input '${t.name}': binary_data_size ${String(size)} does not fit the ${body.length - offset} bytes left in the body`);
      }
      const data = decodeBinary(body.subarray(offset, offset + size), t.datatype, t.name);
      offset += size;
      if (data.length !== count) throw invalid(`Input '${t.name}' has ${data.length} elements; its shape [${t.shape.join(', ')}] needs ${count}`);
      return { name: t.name, datatype: t.datatype, shape: t.shape, data };
    }
    if (t.data === undefined) throw invalid(`Input '${t.name}' has neither "data" nor binary_data_size`);
    const data = flattenJson(t.data, t.shape, t.name);
    if (data.length !== count) throw invalid(`Input '${t.name}' has ${data.length} elements; its shape [${t.shape.join(', ')}] needs ${count}`);
    checkElements(data, t.datatype, t.name);
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: t.datatype === 'BOOL' ? data.map((x) => (x ? 1 : 0)) : (data as (number | string)[]) };
  });
  if (offset !== body.length) throw invalid(`The body has ${body.length - offset} bytes after the last binary tensor`);
  return { id: (doc.id as string | undefined) ?? null, inputs, outputs: readOutputs(doc.outputs), binaryDefault: parameters.binary_data_output === true, parameters };
}

function readTensorHeader(raw: unknown, i: number): { name: string; datatype: Datatype; shape: number[]; data: unknown; parameters: Record<string, unknown> } {
  if (!isObject(raw)) throw invalid(`Input ${i} must be an object {name, shape, datatype, data}`);
  const { name, shape, datatype, data } = raw;
  if (typeof name !== 'string' || name === '') throw invalid(`Input ${i} needs a "name"`);
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw invalid(`Input '${name}': "shape" must be an array of at most ${MAX_RANK} non-negative integers`);
  }
  if (shape.length === 0) throw invalid(`Input '${name}': scalars (shape []) are not served; send shape [1]`);
  if (typeof datatype !== 'string' || !(DATATYPES as readonly string[]).includes(datatype)) {
    throw invalid(`Input '${name}': datatype ${JSON.stringify(datatype)} is not one of ${DATATYPES.join(', ')}`);
  }
  const parameters = raw.parameters === undefined ? {} : raw.parameters;
  if (!isObject(parameters)) throw invalid(`Input '${name}': "parameters" must be an object`);
  return { name, datatype: datatype as Datatype, shape: shape as number[], data, parameters };
}

function readOutputs(raw: unknown): InferRequest['outputs'] {
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) throw invalid('"outputs" must be an array of {name}');
  return raw.map((o: unknown, i) => {
    if (!isObject(o) || typeof o.name !== 'string') throw invalid(`Requested output ${i} needs a "name"`);
    const p = o.parameters;
    if (p !== undefined && !isObject(p)) throw invalid(`Requested output '${o.name}': "parameters" must be an object`);
    if (p && p.classification !== undefined) throw invalid(`Requested output '${o.name}': the classification extension is not supported`);
    return { name: o.name, binary: p?.binary_data === true };
  });
}

/** Flat row-major data, or data nested exactly as the shape says (the depth is bounded by the shape's rank). */
function flattenJson(data: unknown, shape: readonly number[], name: string): unknown[] {
  if (!Array.isArray(data)) throw invalid(`Input '${name}': "data" must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw invalid(`Input '${name}': "data" is nested deeper than its shape [${shape.join(', ')}]`);
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw invalid(`Input '${name}': "data" does not match its shape [${shape.join(', ')}]`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  return out;
}

function checkElements(data: readonly unknown[], datatype: Datatype, name: string): void {
  const ok = datatype === 'BYTES' ? (x: unknown) => typeof x === 'string' : datatype === 'BOOL' ? (x: unknown) => typeof x === 'boolean' || x === 0 || x === 1 : (x: unknown) => typeof x === 'number';
  for (let i = 0; i < data.length; i++) {
    if (!ok(data[i])) throw invalid(`Input '${name}' (${datatype}): element ${i} is ${JSON.stringify(data[i])?.slice(0, 40) ?? 'undefined'}`);
  }
}

function decodeBinary(bytes: Buffer, datatype: Datatype, name: string): (number | string)[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let at = 0; at < bytes.length; ) {
      if (at + 4 > bytes.length) throw invalid(`Input '${name}': truncated BYTES element length`);
      const len = bytes.readUInt32LE(at);
      if (at + 4 + len > bytes.length) throw invalid(`Input '${name}': BYTES element of ${len} bytes runs past its tensor`);
      out.push(bytes.toString('utf8', at + 4, at + 4 + len));
      at += 4 + len;
    }
    return out;
  }
  const Ctor = TYPED[datatype];
  if (bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) throw invalid(`Input '${name}': ${bytes.length} bytes is not a whole number of ${datatype} elements`);
  // A copy: the tensor's offset in the body need not be aligned for the typed array.
  const view = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
  return Array.from(view, (x) => (typeof x === 'bigint' ? Number(x) : x));
}

/** Reshapes flat row-major data to nested arrays (what the engine's named-input frame takes). */
export function nest(data: readonly unknown[], shape: readonly number[]): unknown[] {
  if (shape.length <= 1) return data as unknown[];
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  const out: unknown[] = new Array(shape[0]);
  for (let r = 0; r < shape[0]!; r++) out[r] = nest(data.slice(r * inner, (r + 1) * inner), shape.slice(1));
  return out;
}

export interface OutputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data: (number | string | boolean)[];
}

/** One output tensor from the engine's per-row predictions; `declared` is the ONNX output's shape (-1 symbolic). */
export function outputTensor(name: string, onnxType: string, declared: readonly number[], predictions: readonly unknown[]): OutputTensor {
  const datatype = datatypeOf(onnxType);
  const rows = predictions.length;
  const first = predictions[0];
  const width = Array.isArray(first) ? first.length : 1;
  const data: (number | string | boolean)[] = Array.isArray(first) ? (predictions as unknown[][]).flat() as (number | string)[] : (predictions as (number | string)[]);
  const shape = Array.isArray(first) ? [rows, width] : declared.length === 2 ? [rows, 1] : [rows];
  return { name, datatype, shape, data: datatype === 'BOOL' ? data.map((x) => x === 1 || x === true) : data };
}

/** Raw little-endian bytes of an output (the binary tensor extension). */
export function encodeBinary(t: OutputTensor): Buffer {
  if (t.datatype === 'BYTES') {
    const parts = t.data.map((s) => Buffer.from(String(s), 'utf8'));
    const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, at);
      p.copy(out, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const Ctor = TYPED[t.datatype as Exclude<Datatype, 'BYTES'>];
  if (!Ctor) throw invalid(`Output '${t.name}' of type ${t.datatype} has no binary form here; request it as JSON`);
  const big = t.datatype === 'INT64' || t.datatype === 'UINT64';
  const arr = new Ctor(new ArrayBuffer(t.data.length * Ctor.BYTES_PER_ELEMENT)) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < t.data.length; i++) {
    const x = t.data[i];
    const n = typeof x === 'boolean' ? (x ? 1 : 0) : Number(x);
    arr[i] = big ? BigInt(Math.trunc(n)) : n;
  }
  const view = arr as unknown as ArrayBufferView;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}
