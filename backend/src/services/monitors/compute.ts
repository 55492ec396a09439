/**
 * The statistics of a check, from the rows of its window: pure (no store, no clock, no engine), so they run in the
 * checks worker thread (worker.ts) off the serving event loop, or on the calling thread, with the same result. The
 * runner reads the window first (reads.ts), where it runs.
 */
import type { CheckStatus, MonitorConfig } from '../../api/v1/contract-monitors';
import type { Db } from '../../store/db';
import { variantDrift, type VariantDriftJob } from '../drift/variant';
import { labelMatch } from '../serving/labels';
import { buildReferenceProfile, currentColumns, driftReport, type RawColumn } from '../stats';
import { conceptDrift } from './concept';
import { DEFAULT_LATENCY_ALPHA, latencyTest, type LatencyTest } from './latency';
import { readerOf, type Reading } from './reads';

export interface LogRow {
  id: number;
  ts: number;
  prediction: string;
  label: string | null;
  latency_ms: number;
  /** When its feedback label came (concept drift reads requests in label order). */
  label_ts?: number | null;
}

/** One variant's verdict; a check combines its variants' parts. */
export interface CheckPart {
  variant: string;
  status: CheckStatus;
  summary: string;
  score: number | null;
  features: string[];
  rows: number;
  from: number | null;
  to: number | null;
  details: unknown;
}

export interface PredictionDriftJob {
  variant: string;
  config: MonitorConfig;
  ref: LogRow[];
  cur: LogRow[];
}

export interface PerformanceJob {
  variant: string;
  config: MonitorConfig;
  /** The newest logged requests, oldest first (latency). */
  rows: LogRow[];
  /** The newest labelled requests (accuracy). */
  labelled: LogRow[];
  baseline: { key: string; value: number } | null;
  /** Requests and errors since the last check. */
  requests: number;
  errors: number;
}

/** What the checks worker runs, by name. */
export const COMPUTE = {
  dataDrift: (job: VariantDriftJob) => variantDrift(job),
  predictionDrift,
  conceptDrift,
  performance,
};
export type ComputeOps = typeof COMPUTE;
export type ComputeOp = keyof ComputeOps;

/**
 * Runs a named computation, reading the rows its job names (reads.ts) first: on this thread (computeOn) or in the
 * checks worker (CheckWorker), which reads them on its own connection.
 */
export interface ComputeRunner {
  run<K extends ComputeOp>(op: K, job: Reading<Parameters<ComputeOps[K]>[0]>): Promise<ReturnType<ComputeOps[K]>>;
  /** Gets ready for the first run (starts the worker thread), so that run does not wait for it. */
  warm?(): void;
}

/** Reads on `db` and computes on this thread. */
export const computeOn = (db: Db): ComputeRunner => ({
  run: async (op, job) => (COMPUTE[op] as (j: unknown) => ReturnType<ComputeOps[typeof op]>)(readerOf(db).resolve(job)),
});

/** The row predictions of logged requests, one value per scored row. */
function predictionValues(rows: readonly LogRow[]): unknown[] {
  const out: unknown[] = [];
  for (const r of rows) {
    const p = JSON.parse(r.prediction) as unknown;
    for (const x of Array.isArray(p) ? p : [p]) out.push(Array.isArray(x) && x.length === 1 ? x[0] : x);
  }
  return out;
}

function asColumn(values: readonly unknown[], categorical: boolean): RawColumn {
  if (!categorical) {
    const nums = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return { kind: 'numeric', values: Float64Array.from(nums), missing: values.length - nums.length };
  }
  const counts = new Map<string, number>();
  for (const x of values) counts.set(typeof x === 'object' ? JSON.stringify(x) : String(x), (counts.get(typeof x === 'object' ? JSON.stringify(x) : String(x)) ?? 0) + 1);
  return { kind: 'categorical', counts, missing: 0 };
}

export const span = (rows: readonly LogRow[]) => ({ from: rows.length ? rows[0]!.ts : null, to: rows.length ? rows[rows.length - 1]!.ts : null });

/** The output distribution of the newest window against the version's first served window (for when labels come late). */
function predictionDrift({ variant, config, ref, cur }: PredictionDriftJob): CheckPart {
  const base = { variant, rows: cur.length, ...span(cur) };
  if (ref.length < config.window_rows || cur.length < config.min_rows) {
    const summary = `insufficient data: the reference is the first ${config.window_rows} served requests (${ref.length} so far) and a check needs ${config.min_rows} requests after them (${cur.length})`;
    return { ...base, status: 'insufficient_data' as const, summary, score: null, features: [], details: { reference_rows: ref.length } };
  }
  const refValues = predictionValues(ref);
  const distinct = new Set(refValues.map((x) => JSON.stringify(x)));
  const categorical = refValues.some((x) => typeof x !== 'number') || distinct.size <= 20;
  const profile = buildReferenceProfile(new Map([['prediction', asColumn(refValues, categorical)]]));
  const report = driftReport(profile, currentColumns(new Map([['prediction', asColumn(predictionValues(cur), categorical)]])));
  const f = report.features[0];
  if (!f) return { ...base, status: 'error' as const, summary: `no comparable predictions (${report.skipped.map((s) => s.reason).join(', ')})`, score: null, features: [], details: {} };
  const summary = `${f.drift ? 'prediction drift' : 'no prediction drift'}: ${f.votes}/${f.methods.length} methods vote drift (${f.methods.map((m) => `${m.method} ${round(m.score)}`).join(', ')}) over ${cur.length} requests against the first ${ref.length}`;
  return { ...base, status: f.drift ? ('fail' as const) : ('pass' as const), summary, score: f.votes / f.methods.length, features: f.drift ? ['prediction'] : [], details: { kind: f.kind, methods: f.methods, reference_rows: ref.length } };
}


function performance({ variant, config, rows, labelled, baseline: base, requests: dReq, errors: dErr }: PerformanceJob): CheckPart {
  const failed: string[] = [];
  const notes: string[] = [];
  let measured = 0;
  let errorRate: number | null = null;
  if (dReq >= config.min_rows) {
    measured++;
    errorRate = dErr / dReq;
    if (errorRate > config.max_error_rate) failed.push('error_rate');
    notes.push(`error rate ${pct(errorRate)} of ${dReq} requests (max ${pct(config.max_error_rate)})`);
  }
  let latency: LatencyTest | null = null;
  if (rows.length >= config.min_rows) {
    measured++;
    // Monitors stored before latency_alpha existed have none: the default level.
    latency = latencyTest(rows.map((r) => r.latency_ms), config.max_p99_ms, config.latency_alpha ?? DEFAULT_LATENCY_ALPHA);
    if (latency.breached) failed.push('p99_latency');
    notes.push(latencyNote(latency));
  }
  let right = 0;
  let total = 0;
  for (const r of labelled) {
    const m = labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label!) as unknown);
    if (m) {
      right += m.right;
      total += m.total;
    }
  }
  let accuracy: number | null = null;
  if (total >= config.min_rows) {
    accuracy = right / total;
    if (base) {
      measured++;
      const floor = base.value * (1 - config.accuracy_tolerance);
      if (accuracy < floor) failed.push('accuracy');
      notes.push(`accuracy ${pct(accuracy)} over ${total} labelled rows vs ${base.key} ${pct(base.value)} (floor ${pct(floor)})`);
    } else notes.push(`accuracy ${pct(accuracy)} (no validation metric in the version's run to hold it to)`);
  }
  const status: CheckStatus = failed.length ? 'fail' : measured ? 'pass' : 'insufficient_data';
  const summary = status === 'insufficient_data' ? `insufficient data: fewer than ${config.min_rows} requests since the last check, logged or labelled` : `${failed.length ? `SLO breached (${failed.join(', ')})` : 'within SLO'}: ${notes.join('; ')}`;
  const drop = accuracy !== null && base ? Math.max(0, (base.value - accuracy) / base.value) : null;
  return { variant, status, summary, score: drop, features: failed, rows: rows.length, ...span(rows), details: { error_rate: errorRate, requests: dReq, p99_ms: latency?.p99_ms ?? null, latency, accuracy, labelled: total, baseline: base } };
}


/** The p99 figures of a check's summary: the observed p99, then k of n over the limit and the test's verdict. */
function latencyNote(l: LatencyTest): string {
  const p = l.p_value < 0.001 ? l.p_value.toExponential(1) : String(Math.round(l.p_value * 1000) / 1000);
  const verdict = l.breached ? `more than 1 % slower (binomial p ${p} ≤ α ${l.alpha})` : `consistent with at most 1 % (binomial p ${p} > α ${l.alpha})`;
  return `p99 ${round(l.p99_ms)} ms over ${l.n} requests, ${l.over} of ${l.n} over ${l.limit_ms} ms: ${verdict}`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const round = (x: number) => Math.round(x * 1000) / 1000;
