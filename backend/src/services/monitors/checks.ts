/**
 * What each kind of monitor checks, over the stored prediction log of an endpoint's live variants. A check never
 * throws for missing data: too few rows is an explicit insufficient_data verdict, not "no drift". The check does
 * not read the log itself: it names its window (reads.ts: indexed reads of at most a window of rows) and hands reads
 * and statistics to `compute` (compute.ts): the checks worker thread in the backend, which reads on its own
 * connection, so the serving event loop is blocked by neither.
 */
import type { CheckStatus, MonitorConfig, MonitorKind } from '../../api/v1/contract-monitors';
import type { Db } from '../../store/db';
import type { RegistryStore } from '../../store/registry';
import type { DriftService } from '../drift/service';
import type { EndpointView } from '../serving/endpoint';
import { computeOn, type CheckPart, type ComputeRunner } from './compute';
import type { ConceptStream } from './concept';
import { logRead, type LogRead } from './reads';

export interface CheckOutcome {
  status: CheckStatus;
  /** The kind's headline number (drifted share, accuracy drop…); null when nothing was measured. */
  score: number | null;
  summary: string;
  rows: number;
  windowFrom: number | null;
  windowTo: number | null;
  details: unknown;
  /** Features (or signals) that failed: the incident's evidence. */
  features: string[];
  /** The failing variants' figures, kept in the incident's evidence (performance). */
  figures?: unknown;
  state?: Record<string, unknown>;
}

export interface CheckDeps {
  db: Db;
  registry: Pick<RegistryStore, 'getVersion'>;
  drift: DriftService;
  /** The endpoint as served now; null when it is not deployed. */
  endpoint: (name: string) => EndpointView | null;
  flushLog: () => void | Promise<void>;
  /** Where the statistics run (default: on this thread). */
  compute?: ComputeRunner;
}

export interface CheckInput {
  endpoint: string;
  kind: MonitorKind;
  config: MonitorConfig;
  state: Record<string, unknown>;
}

interface Variant {
  id: string;
  model: string;
  version: number;
  role: string;
  requests: number;
  errors: number;
}

/** Per variant verdicts combined: any fail fails; else any pass passes; else insufficient data. */
function combine(parts: CheckPart[], what: string): CheckOutcome {
  const failed = parts.filter((p) => p.status === 'fail');
  const passed = parts.filter((p) => p.status === 'pass');
  const status: CheckStatus = failed.length ? 'fail' : passed.length ? 'pass' : parts.some((p) => p.status === 'error') ? 'error' : 'insufficient_data';
  const shown = failed.length ? failed : passed.length ? passed : parts;
  const scores = parts.map((p) => p.score).filter((s): s is number => s !== null);
  const froms = parts.map((p) => p.from).filter((x): x is number => x !== null);
  const tos = parts.map((p) => p.to).filter((x): x is number => x !== null);
  return {
    status,
    score: scores.length ? Math.max(...scores) : null,
    summary: shown.length ? shown.map((p) => `${p.variant}: ${p.summary}`).join('; ') : `${what}: the endpoint serves no live variant`,
    rows: parts.reduce((s, p) => s + p.rows, 0),
    windowFrom: froms.length ? Math.min(...froms) : null,
    windowTo: tos.length ? Math.max(...tos) : null,
    details: { variants: parts.map((p) => ({ variant: p.variant, status: p.status, summary: p.summary, score: p.score, rows: p.rows, details: p.details })) },
    features: [...new Set(failed.flatMap((p) => p.features))],
  };
}

function liveVariants(view: EndpointView | null): Variant[] {
  if (!view) return [];
  return view.variants
    .filter((v) => v.role === 'stable' || v.role === 'candidate')
    .map((v) => {
      const cut = v.id.lastIndexOf('/');
      return { id: v.id, model: v.id.slice(0, cut), version: Number(v.id.slice(cut + 1)), role: v.role, requests: v.requests_total, errors: v.errors_total };
    });
}

export async function runCheck(deps: CheckDeps, input: CheckInput): Promise<CheckOutcome> {
  const view = deps.endpoint(input.endpoint);
  if (!view) return { status: 'insufficient_data', score: null, summary: `endpoint '${input.endpoint}' is not deployed`, rows: 0, windowFrom: null, windowTo: null, details: {}, features: [] };
  // The predictions still queued for the log are committed first (a data-drift report does that itself).
  if (input.kind !== 'data_drift') await deps.flushLog();
  const compute = deps.compute ?? computeOn(deps.db);
  const { config, endpoint } = input;
  const variants = liveVariants(view);
  switch (input.kind) {
    case 'data_drift':
      return dataDrift(deps, input, compute);
    case 'prediction_drift': {
      // The reference is the version's first window_rows requests; the current window the newest after them.
      const jobs = variants.map((v) => ({ variant: v.id, config, ref: window(endpoint, v, config.window_rows, 'oldest'), cur: window(endpoint, v, config.window_rows, 'newest', { afterFirst: config.window_rows }) }));
      return combine(await Promise.all(jobs.map((j) => compute.run('predictionDrift', j))), 'prediction drift');
    }
    case 'concept_drift':
      return conceptDrift(input, variants, compute);
    case 'performance':
      return performance(deps, input, variants, compute);
  }
}

/** Error rate, p99 latency and accuracy against the version's own validation metric, per live variant. */
async function performance(deps: CheckDeps, input: CheckInput, variants: Variant[], compute: ComputeRunner): Promise<CheckOutcome> {
  const { config, endpoint } = input;
  const counters: Record<string, { requests: number; errors: number }> = {};
  const prev = (input.state.counters ?? {}) as Record<string, { requests: number; errors: number }>;
  const jobs = variants.map((v) => {
    counters[v.id] = { requests: v.requests, errors: v.errors };
    // Error rate of the requests since the last check (counters restart with the backend: then since the restart).
    const p = prev[v.id];
    const requests = p && v.requests >= p.requests ? v.requests - p.requests : v.requests;
    const errors = p && v.errors >= p.errors ? v.errors - p.errors : v.errors;
    const rows = window(endpoint, v, config.window_rows);
    const labelled = window(endpoint, v, config.window_rows, 'newest', { labelled: true });
    return { variant: v.id, config, rows, labelled, baseline: baseline(deps, v, config.baseline_metric), requests, errors };
  });
  const parts = await Promise.all(jobs.map((j) => compute.run('performance', j)));
  const figures = parts.filter((p) => p.status === 'fail').map((p) => ({ variant: p.variant, failed: p.features, ...(p.details as object) }));
  return { ...combine(parts, 'performance'), state: { counters }, ...(figures.length ? { figures } : {}) };
}

/** At most this many labelled requests go into one concept check (the rest wait for the next). */
export const CONCEPT_BATCH = 20_000;

/**
 * Each live version's detector goes on from its stored state with the requests labelled since (concept.ts); a new
 * version, or a changed detector or δ, starts a stream from the newest `window_rows` labelled requests.
 */
async function conceptDrift(input: CheckInput, variants: Variant[], compute: ComputeRunner): Promise<CheckOutcome> {
  const { config, endpoint } = input;
  const streams = (input.state.streams ?? {}) as Record<string, ConceptStream | undefined>;
  const jobs = variants.map((v) => {
    const prev = streams[v.id];
    const stream = prev && prev.detector === config.detector && prev.delta === config.delta ? prev : null;
    // At most CONCEPT_BATCH rows; `more` (set by the read) says whether there were more.
    const more = { key: 'more', batch: CONCEPT_BATCH };
    const rows = stream ? window(endpoint, v, CONCEPT_BATCH + 1, 'labelledSince', { cursor: stream.cursor, more }) : window(endpoint, v, config.window_rows, 'newest', { labelled: true, more });
    return { variant: v.id, config, rows, stream, more: false };
  });
  const parts = await Promise.all(jobs.map((j) => compute.run('conceptDrift', j)));
  // Only live versions keep a stream: one rolled out and back in later starts anew.
  return { ...combine(parts, 'concept drift'), state: { streams: Object.fromEntries(parts.map((p) => [p.variant, p.state])) } };
}

async function dataDrift(deps: CheckDeps, input: CheckInput, compute: ComputeRunner): Promise<CheckOutcome> {
  const { config } = input;
  const report = await deps.drift.endpoints.report(input.endpoint, config.window_rows, 0, (job) => compute.run('dataDrift', job));
  return combine(
    report.variants.map((v) => {
      const base = { variant: v.variant, rows: v.window.rows, from: v.window.from_ts, to: v.window.to_ts };
      if (v.status === 'no_reference') return { ...base, status: 'insufficient_data' as const, summary: v.message ?? 'no reference profile', score: null, features: [], details: { reference: null } };
      if (v.window.rows < config.min_rows || v.status !== 'ok') {
        return { ...base, status: 'insufficient_data' as const, summary: `insufficient data: ${v.window.rows} logged rows, a check needs at least ${config.min_rows}`, score: null, features: [], details: { reference: v.reference } };
      }
      const drifted = v.features.filter((f) => f.drift);
      // Monitors stored before drift_rule existed have none: the dataset rule.
      const anyFeature = config.drift_rule === 'any_feature';
      const fails = anyFeature ? drifted.length > 0 : v.drift === true;
      const summary = fails
        ? `data drift on ${drifted.length} of ${v.features.length} features (${drifted.map((f) => `${f.feature} ${f.votes}/${f.methods.length} votes`).join(', ')}) over ${v.window.rows} rows${anyFeature ? ' (rule: any feature)' : ''}`
        : `no data drift over ${v.window.rows} rows (${v.drifted_features} of ${v.features.length} features drifted)`;
      return { ...base, status: fails ? ('fail' as const) : ('pass' as const), summary, score: v.drifted_share, features: drifted.map((f) => f.feature), details: { reference: v.reference, features: v.features, skipped: v.skipped } };
    }),
    'data drift',
  );
}

/** A version's window of logged requests (oldest first but labelledSince's label order): read by the compute runner where it runs (reads.ts). */
const window = (endpoint: string, v: Variant, limit: number, kind: LogRead['$read'] = 'newest', o: Pick<LogRead, 'labelled' | 'afterFirst' | 'cursor' | 'more'> = {}): LogRead =>
  logRead({ endpoint, model: v.model, version: v.version, limit, ...o }, kind);

const BASELINES = ['accuracy', 'val_accuracy', 'validation_accuracy', 'test_accuracy', 'eval_accuracy', 'accuracy_score'];

/** The version's own validation metric, from the run that produced it. */
function baseline(deps: CheckDeps, v: Variant, metric: string | null): { key: string; value: number } | null {
  let runId: string | undefined;
  try {
    runId = deps.registry.getVersion(v.model, v.version).run_id ?? undefined;
  } catch {
    return null;
  }
  if (!runId) return null;
  const rows = deps.db.prepare('SELECT key, value FROM latest_metrics WHERE run_uuid = ? AND is_nan = 0').all(runId) as { key: string; value: number }[];
  for (const key of metric ? [metric] : BASELINES) {
    const hit = rows.find((r) => r.key === key);
    if (hit) return hit;
  }
  return null;
}

