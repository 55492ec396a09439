/**
 * What each kind of monitor checks, over the stored prediction log of an endpoint's live variants. A check never
 * throws for missing data: too few rows is an explicit insufficient_data verdict, not "no drift".
 */
import type { CheckStatus, MonitorConfig, MonitorKind } from '../../api/v1/contract-monitors';
import type { Db } from '../../store/db';
import type { RegistryStore } from '../../store/registry';
import type { DriftService } from '../drift/service';
import type { EndpointView } from '../serving/endpoint';
import { labelMatch } from '../serving/labels';
import { Adwin, buildReferenceProfile, driftReport, currentColumns, PageHinkley, type RawColumn } from '../stats';

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
  state?: Record<string, unknown>;
}

export interface CheckDeps {
  db: Db;
  registry: Pick<RegistryStore, 'getVersion'>;
  drift: DriftService;
  /** The endpoint as served now; null when it is not deployed. */
  endpoint: (name: string) => EndpointView | null;
  flushLog: () => void;
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
function combine(parts: { variant: string; status: CheckStatus; summary: string; score: number | null; features: string[]; rows: number; from: number | null; to: number | null; details: unknown }[], what: string): CheckOutcome {
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
  deps.flushLog();
  switch (input.kind) {
    case 'data_drift':
      return dataDrift(deps, input);
    case 'prediction_drift':
      return combine(liveVariants(view).map((v) => predictionDrift(deps.db, input, v)), 'prediction drift');
    case 'concept_drift':
      return combine(liveVariants(view).map((v) => conceptDrift(deps.db, input, v)), 'concept drift');
    case 'performance':
      return performance(deps, input, liveVariants(view));
  }
}

async function dataDrift(deps: CheckDeps, input: CheckInput): Promise<CheckOutcome> {
  const { config } = input;
  const report = await deps.drift.endpoints.report(input.endpoint, config.window_rows);
  return combine(
    report.variants.map((v) => {
      const base = { variant: v.variant, rows: v.window.rows, from: v.window.from_ts, to: v.window.to_ts };
      if (v.status === 'no_reference') return { ...base, status: 'insufficient_data' as const, summary: v.message ?? 'no reference profile', score: null, features: [], details: { reference: null } };
      if (v.window.rows < config.min_rows || v.status !== 'ok') {
        return { ...base, status: 'insufficient_data' as const, summary: `insufficient data: ${v.window.rows} logged rows, a check needs at least ${config.min_rows}`, score: null, features: [], details: { reference: v.reference } };
      }
      const drifted = v.features.filter((f) => f.drift);
      const summary = v.drift
        ? `data drift on ${drifted.length} of ${v.features.length} features (${drifted.map((f) => `${f.feature} ${f.votes}/${f.methods.length} votes`).join(', ')}) over ${v.window.rows} rows`
        : `no data drift over ${v.window.rows} rows (${v.drifted_features} of ${v.features.length} features drifted)`;
      return { ...base, status: v.drift ? ('fail' as const) : ('pass' as const), summary, score: v.drifted_share, features: drifted.map((f) => f.feature), details: { reference: v.reference, features: v.features, skipped: v.skipped } };
    }),
    'data drift',
  );
}

interface LogRow {
  id: number;
  ts: number;
  prediction: string;
  label: string | null;
  latency_ms: number;
}

/** A version's newest logged requests (labelled ones only: served by the prediction_log_labelled index). */
export const newestSql = (labelled: boolean) =>
  `SELECT id, ts, prediction, label, latency_ms FROM prediction_log WHERE endpoint = ? AND model_name = ? AND model_version = ? AND id > ?${labelled ? ' AND label IS NOT NULL' : ''} ORDER BY id DESC LIMIT ?`;

function newest(db: Db, endpoint: string, v: Variant, limit: number, o: { labelled?: boolean; afterId?: number } = {}): LogRow[] {
  const rows = db.prepare(newestSql(o.labelled ?? false)).all(endpoint, v.model, v.version, o.afterId ?? 0, limit) as LogRow[];
  return rows.reverse();
}

function oldest(db: Db, endpoint: string, v: Variant, limit: number): LogRow[] {
  return db
    .prepare('SELECT id, ts, prediction, label, latency_ms FROM prediction_log WHERE endpoint = ? AND model_name = ? AND model_version = ? ORDER BY id LIMIT ?')
    .all(endpoint, v.model, v.version, limit) as LogRow[];
}

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

const span = (rows: readonly LogRow[]) => ({ from: rows.length ? rows[0]!.ts : null, to: rows.length ? rows[rows.length - 1]!.ts : null });

/** The output distribution of the newest window against the version's first served window (for when labels come late). */
function predictionDrift(db: Db, input: CheckInput, v: Variant) {
  const { config } = input;
  const ref = oldest(db, input.endpoint, v, config.window_rows);
  const refLast = ref.length ? ref[ref.length - 1]!.id : 0;
  const cur = newest(db, input.endpoint, v, config.window_rows, { afterId: refLast });
  const base = { variant: v.id, rows: cur.length, ...span(cur) };
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

/**
 * The error stream of the newest labelled requests, one 0/1 per labelled row (a request of 20 rows adds 20; its
 * wrong rows are spread evenly among them), through ADWIN or Page–Hinkley. Per row, not per request: a request's
 * error share would hide most of the sample from the detector's bound.
 */
function conceptDrift(db: Db, input: CheckInput, v: Variant) {
  const { config } = input;
  const rows = newest(db, input.endpoint, v, config.window_rows, { labelled: true });
  const errors: number[] = [];
  let requests = 0;
  for (const r of rows) {
    const m = labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label!) as unknown);
    if (!m) continue;
    requests++;
    const wrong = m.total - m.right;
    for (let i = 0; i < m.total; i++) errors.push(Math.floor(((i + 1) * wrong) / m.total) - Math.floor((i * wrong) / m.total));
  }
  const base = { variant: v.id, rows: errors.length, ...span(rows) };
  if (requests < config.min_rows) {
    return { ...base, status: 'insufficient_data' as const, summary: `insufficient data: ${requests} labelled requests, a check needs at least ${config.min_rows}`, score: null, features: [], details: {} };
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  let at: number | null = null;
  let detections: number[];
  if (config.detector === 'page_hinkley') {
    const ph = new PageHinkley({ direction: 'up', threshold: 20 });
    for (const e of errors) ph.update(e);
    detections = ph.detections;
    at = detections.length ? detections[detections.length - 1]! + 1 : null;
  } else {
    // ADWIN keeps the part of the window since the last change it cut at: that part is "after", the rest "before".
    const adwin = new Adwin({ delta: config.delta });
    for (const e of errors) adwin.update(e);
    detections = adwin.detections;
    at = detections.length ? errors.length - adwin.width : null;
  }
  const before = at === null ? mean(errors) : mean(errors.slice(0, at));
  const after = at === null ? mean(errors) : mean(errors.slice(at));
  // A change for the better is not an incident.
  const worse = at !== null && after > before;
  const summary = worse
    ? `concept drift (${config.detector}): the error rate rose from ${pct(before)} to ${pct(after)} from labelled row ${(at ?? 0) + 1} of ${errors.length}`
    : at !== null
      ? `no concept drift: the error rate fell from ${pct(before)} to ${pct(after)}`
      : `no concept drift over ${errors.length} labelled rows of ${requests} requests (error rate ${pct(before)})`;
  return { ...base, status: worse ? ('fail' as const) : ('pass' as const), summary, score: worse ? after - before : 0, features: worse ? ['error_rate'] : [], details: { detector: config.detector, detections, change_at: at, error_before: before, error_after: after } };
}

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

function performance(deps: CheckDeps, input: CheckInput, variants: Variant[]): CheckOutcome {
  const { config } = input;
  const counters: Record<string, { requests: number; errors: number }> = {};
  const prev = (input.state.counters ?? {}) as Record<string, { requests: number; errors: number }>;
  const parts = variants.map((v) => {
    counters[v.id] = { requests: v.requests, errors: v.errors };
    const failed: string[] = [];
    const notes: string[] = [];
    let measured = 0;
    const rows = newest(deps.db, input.endpoint, v, config.window_rows);
    // Error rate of the requests since the last check (counters restart with the backend: then since the restart).
    const p = prev[v.id];
    const dReq = p && v.requests >= p.requests ? v.requests - p.requests : v.requests;
    const dErr = p && v.errors >= p.errors ? v.errors - p.errors : v.errors;
    let errorRate: number | null = null;
    if (dReq >= config.min_rows) {
      measured++;
      errorRate = dErr / dReq;
      if (errorRate > config.max_error_rate) failed.push('error_rate');
      notes.push(`error rate ${pct(errorRate)} of ${dReq} requests (max ${pct(config.max_error_rate)})`);
    }
    let p99: number | null = null;
    if (rows.length >= config.min_rows) {
      measured++;
      const lat = rows.map((r) => r.latency_ms).sort((a, b) => a - b);
      p99 = lat[Math.min(lat.length - 1, Math.ceil(0.99 * lat.length) - 1)]!;
      if (p99 > config.max_p99_ms) failed.push('p99_latency');
      notes.push(`p99 ${round(p99)} ms over ${rows.length} requests (max ${config.max_p99_ms})`);
    }
    const labelled = newest(deps.db, input.endpoint, v, config.window_rows, { labelled: true });
    let right = 0;
    let total = 0;
    for (const r of labelled) {
      const m = labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label!) as unknown);
      if (m) {
        right += m.right;
        total += m.total;
      }
    }
    const base = baseline(deps, v, config.baseline_metric);
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
    return { variant: v.id, status, summary, score: drop, features: failed, rows: rows.length, ...span(rows), details: { error_rate: errorRate, requests: dReq, p99_ms: p99, accuracy, labelled: total, baseline: base } };
  });
  return { ...combine(parts, 'performance'), state: { counters } };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const round = (x: number) => Math.round(x * 1000) / 1000;
