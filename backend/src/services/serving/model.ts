import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceSession, type Tensor } from 'onnxruntime-node';
import { invalid } from '../../util/errors';
import { planInputs, prepare, toPredictions, type InputPlan } from './feeds';
import type { Frame } from './payload';
import type { ResolvedModel } from './resolver';

export interface Prediction {
  readonly predictions: unknown[];
  readonly rows: number;
  readonly values: Float64Array | null;
}

/** An inference failure inside the model (not the caller's input): counts against the variant's error rate. */
export class InferenceError extends Error {}

/** The protobuf of every ONNX model starts with field 1 (ir_version, varint): byte 0x08. */
const ONNX_FIRST_BYTE = 0x08;

/**
 * One ONNX session of one model version. `predict` counts requests in flight so that a retired model is
 * released only after its last request finished (drain, not cut).
 */
export class LoadedModel {
  private inFlight = 0;
  private drained: (() => void) | null = null;
  private disposed = false;

  private constructor(
    readonly resolved: ResolvedModel,
    private readonly session: InferenceSession,
    readonly plan: InputPlan,
    readonly outputName: string,
  ) {
    this.featureNames = plan.features.map((f, i) => f.name ?? `f${i}`);
    const out = session.outputMetadata.find((m) => m.name === outputName);
    this.output = { name: outputName, type: out?.isTensor ? out.type : 'unknown', shape: out?.isTensor ? out.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1)) : [] };
  }

  /** The served output's element type and shape (-1 where symbolic), as the Open Inference Protocol describes it. */
  readonly output: { readonly name: string; readonly type: string; readonly shape: readonly number[] };

  get id(): string {
    return `${this.resolved.name}/${this.resolved.version}`;
  }

  /** Computed once: the prediction log reads it on every request. */
  readonly featureNames: readonly string[];

  /** Loads and checks the model; any failure is the deployer's problem (400), never the endpoint's. */
  static async load(resolved: ResolvedModel): Promise<LoadedModel> {
    const label = `${resolved.name}/${resolved.version}`;
    const bytes = await readFile(join(resolved.dir, resolved.onnxFile));
    if (bytes.length === 0 || bytes[0] !== ONNX_FIRST_BYTE) throw invalid(`Model ${label}: '${resolved.onnxFile}' is not an ONNX model`);
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(bytes, {
        // Two cores serve many small requests: one thread per run, no intra-op fan-out.
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        logSeverityLevel: 4,
      });
    } catch (err) {
      throw invalid(`Model ${label}: '${resolved.onnxFile}' is not a valid ONNX model: ${firstLine(err)}`);
    }
    try {
      const plan = planInputs(session, resolved.mlmodel?.inputs ?? null, label);
      const output = session.outputNames[0];
      if (output === undefined) throw invalid(`Model ${label} has no outputs`);
      return new LoadedModel(resolved, session, plan, output);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Runs the model on zeros a few times so the first real request does not pay for lazy initialisation. */
  async warm(times = 20): Promise<void> {
    const frame: Frame =
      this.plan.mode === 'tensors'
        ? { kind: 'named', arrays: Object.fromEntries(this.plan.inputs.map((i) => [i.name, zeros(i.shape)])) }
        : { kind: 'table', columns: null, rows: [this.plan.features.map(() => 0)] };
    for (let i = 0; i < times; i++) {
      try {
        await this.predict(frame);
      } catch (err) {
        throw invalid(`Model ${this.id} fails on a warm-up request: ${firstLine(err)}`);
      }
    }
  }

  async predict(frame: Frame): Promise<Prediction> {
    if (this.disposed) throw new InferenceError(`Model ${this.id} was unloaded`);
    const prepared = prepare(this.plan, frame);
    this.inFlight++;
    let out: Record<string, Tensor>;
    try {
      out = await this.session.run(prepared.feeds, [this.outputName]);
    } catch (err) {
      throw new InferenceError(`Model ${this.id} failed: ${firstLine(err)}`);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.drained) this.drained();
    }
    return { predictions: toPredictions(out[this.outputName]!, prepared.rows), rows: prepared.rows, values: prepared.values };
  }

  /** Waits for requests in flight (at most `timeoutMs`), then frees the session. */
  async dispose(timeoutMs = 30_000): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.inFlight > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, timeoutMs);
        this.drained = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
    await this.session.release();
  }
}

function zeros(shape: readonly number[]): unknown {
  const [d, ...rest] = shape;
  if (d === undefined) return 0;
  return Array.from({ length: d > 0 ? d : 1 }, () => zeros(rest));
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!.slice(0, 300);
}
