import { parse as parseYaml } from 'yaml';

/** MLflow's column types (mlflow/types/schema.py DataType) that a tensor feature can take. */
export type ColumnType = 'double' | 'float' | 'long' | 'integer' | 'boolean' | 'string' | 'binary' | 'datetime';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  readonly required: boolean;
}

export interface TensorSpec {
  readonly name: string | null;
  readonly dtype: string;
  readonly shape: readonly number[];
}

/** The `signature` of an MLmodel file: column-based (a dataframe) or tensor-based inputs. */
export type InputSchema = { readonly kind: 'columns'; readonly columns: readonly ColumnSpec[] } | { readonly kind: 'tensors'; readonly tensors: readonly TensorSpec[] };

export interface MlModel {
  /** The ONNX file named by the onnx flavour, relative to the model folder. */
  readonly onnxFile: string | null;
  readonly flavors: readonly string[];
  readonly inputs: InputSchema | null;
  readonly outputs: unknown;
}

interface RawSpec {
  type?: string;
  name?: string;
  required?: boolean;
  'tensor-spec'?: { dtype?: string; shape?: number[] };
}

/** Reads an MLmodel file's text. Unknown or malformed signature parts are ignored (no signature → ONNX metadata). */
export function parseMlModel(text: string): MlModel {
  const doc = (parseYaml(text) ?? {}) as { flavors?: Record<string, { data?: string; model_path?: string }>; signature?: { inputs?: string; outputs?: string } };
  const flavors = doc.flavors ?? {};
  const onnx = flavors.onnx;
  return {
    onnxFile: onnx?.data ?? onnx?.model_path ?? null,
    flavors: Object.keys(flavors),
    inputs: parseInputs(doc.signature?.inputs),
    outputs: doc.signature?.outputs ? safeJson(doc.signature.outputs) : null,
  };
}

function parseInputs(text: string | undefined): InputSchema | null {
  if (!text) return null;
  const specs = safeJson(text);
  if (!Array.isArray(specs) || specs.length === 0) return null;
  const raw = specs as RawSpec[];
  if (raw.every((s) => s.type === 'tensor')) {
    return {
      kind: 'tensors',
      tensors: raw.map((s) => ({ name: s.name ?? null, dtype: s['tensor-spec']?.dtype ?? 'float32', shape: s['tensor-spec']?.shape ?? [-1] })),
    };
  }
  if (raw.every((s) => typeof s.name === 'string' && typeof s.type === 'string')) {
    return { kind: 'columns', columns: raw.map((s) => ({ name: s.name!, type: s.type as ColumnType, required: s.required !== false })) };
  }
  return null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
