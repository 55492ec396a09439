import type { IncidentView, MonitoringApplied, MonitoringApply, MonitorConfig, MonitorKind, MonitorPatch, MonitorResultView, MonitorView } from '../../api/v1/contract-monitors';
import type { CoreContext } from '../../context';
import type { Clock } from '../../util/clock';
import { ApiError, invalid, notFound } from '../../util/errors';
import type { Logger } from '../../util/logger';
import type { DriftSampleSource, DriftService } from '../drift/service';
import type { Scheduler } from '../scheduler';
import type { ServingEngine } from '../serving/engine';
import type { AccuracyRow } from '../serving/metrics';
import type { AlertHub, IncidentAlert } from './alerts';
import { runCheck, type CheckOutcome } from './checks';
import type { ComputeRunner } from './compute';
import { DEFAULT_LATENCY_ALPHA } from './latency';
import { MonitorRepository, type MonitorRow } from './repository';
import { kindSettings, MonitorSpecs } from './specs';

export const MONITOR_KINDS: readonly MonitorKind[] = ['data_drift', 'prediction_drift', 'concept_drift', 'performance'];

const COMMON: MonitorConfig = {
  interval_minutes: 5,
  window_rows: 1000,
  min_rows: 200,
  failure_limit: 1,
  resolve_after: 3,
  severity: 'warning',
  accuracy_tolerance: 0.05,
  baseline_metric: null,
  max_error_rate: 0.01,
  max_p99_ms: 100,
  latency_alpha: DEFAULT_LATENCY_ALPHA,
  drift_rule: 'dataset',
  detector: 'adwin',
  delta: 0.002,
  retention_days: 30,
};

/** Every endpoint gets these at its first deploy (README "Monitors and incidents"). */
export const MONITOR_DEFAULTS: Record<MonitorKind, MonitorConfig> = {
  data_drift: COMMON,
  prediction_drift: COMMON,
  concept_drift: { ...COMMON, window_rows: 2000, min_rows: 100 },
  performance: { ...COMMON, min_rows: 100, failure_limit: 2, severity: 'critical' },
};

const MONITOR_CONFIG_KEYS = Object.keys(COMMON) as (keyof MonitorConfig)[];

/** How often the scheduler looks for due monitors. */
export const MONITOR_TICK_MS = 5000;
/** Due checks run per tick at most (the rest run at the next tick: no stampede after a long downtime). */
const PER_TICK = 20;
const PRUNE_EVERY_MS = 3_600_000;

export interface MonitorServiceOptions {
  core: CoreContext;
  clock: Clock;
  log: Logger;
  drift: DriftService;
  engine: ServingEngine;
  flushLog: () => void | Promise<void>;
  alerts: AlertHub;
  random?: () => number;
  /** Where checks' statistics run: the checks worker thread in the backend (default: the calling thread). */
  compute?: ComputeRunner;
}

export interface CheckResult {
  result: MonitorResultView;
  incident: IncidentView | null;
}

/**
 * Monitors of endpoints: created with defaults at an endpoint's first deploy, scheduled durably (next run in
 * SQLite, so a restart neither loses nor repeats a check; one that came due while no backend ran runs once at
 * start), one check at a time per monitor. Each check's result is stored; N consecutive failures open one
 * incident (audited, published to the alert channels) and M consecutive clean checks resolve it.
 */
export class MonitorService {
  readonly repo: MonitorRepository;
  /** Where checks' statistics run (the checks worker in the backend). */
  readonly compute: ComputeRunner | undefined;
  private readonly specs: MonitorSpecs;
  private readonly running = new Map<number, Promise<CheckResult>>();
  /** Endpoints whose four monitors are known to exist (monitors are never deleted). */
  private readonly ensured = new Set<string>();
  private lastPrune = 0;
  private readonly random: () => number;

  constructor(private readonly o: MonitorServiceOptions) {
    this.repo = new MonitorRepository(o.core.db, MONITOR_DEFAULTS);
    this.specs = new MonitorSpecs(o.core.db);
    this.random = o.random ?? Math.random;
    this.compute = o.compute;
  }

  /** Adds the monitors' tick to the runtime's scheduler; returns its removal. */
  schedule(scheduler: Pick<Scheduler, 'add'>): () => void {
    return scheduler.add({ name: 'monitors', intervalMs: MONITOR_TICK_MS, run: () => this.tick() });
  }

  /**
   * Creates the monitors of an endpoint that has none of a kind: the defaults, with the settings `mlops monitor
   * apply` stored for it over them; the first checks come one interval later.
   */
  ensure(endpoint: string): void {
    // Checked once per endpoint and process: the tick calls this every 5 s for every endpoint.
    if (this.ensured.has(endpoint)) return;
    this.ensured.add(endpoint);
    this.compute?.warm?.();
    const now = this.o.clock.now();
    for (const kind of MONITOR_KINDS) {
      const { paused, ...settings } = this.specs.get(endpoint, kind) ?? {};
      const cfg: MonitorConfig = { ...MONITOR_DEFAULTS[kind], ...settings };
      if (this.repo.create(endpoint, kind, cfg, now + this.interval(cfg), now)) {
        if (paused) this.repo.update(this.repo.get(endpoint, kind)!.id, { paused: true }, now);
        this.o.log.info({ endpoint, kind }, `monitor ${kind} of ${endpoint} created`);
      }
    }
  }

  /**
   * mlops.yaml's monitoring: section. Each listed endpoint's monitors become the defaults with its settings over them
   * (a setting left out returns to its default; paused changes only when given), checked together before any is
   * applied; the settings are kept, so an endpoint not deployed yet gets them at its first deploy. Changes are
   * audited as monitor.update/pause/resume.
   */
  apply(spec: MonitoringApply, actor: string): MonitoringApplied {
    const plan = Object.entries(spec.endpoints).flatMap(([endpoint, block]) =>
      MONITOR_KINDS.map((kind) => {
        const settings = kindSettings(block, kind);
        const { paused, ...cfg } = settings;
        const config: MonitorConfig = { ...MONITOR_DEFAULTS[kind], ...cfg };
        if (config.min_rows > config.window_rows) throw invalid(`endpoint '${endpoint}' ${kind}: min_rows (${config.min_rows}) cannot exceed window_rows (${config.window_rows})`);
        return { endpoint, kind, settings, config, paused };
      }),
    );
    const now = this.o.clock.now();
    return this.repo.transaction(() => ({
      applied: plan.map((p) => {
        this.specs.set(p.endpoint, p.kind, p.settings, spec.source ?? null, now);
        this.ensureServed(p.endpoint);
        const m = this.repo.get(p.endpoint, p.kind);
        if (!m) return { endpoint: p.endpoint, kind: p.kind, status: 'pending' as const, config: p.config };
        const same = MONITOR_CONFIG_KEYS.every((k) => m.config[k] === p.config[k]) && (p.paused === undefined || p.paused === m.paused);
        if (!same) this.set(p.endpoint, p.kind, { ...p.config, ...(p.paused !== undefined ? { paused: p.paused } : {}) }, actor);
        return { endpoint: p.endpoint, kind: p.kind, status: same ? ('unchanged' as const) : ('updated' as const), config: p.config };
      }),
    }));
  }

  /** Runs the due checks, one after another; a check that throws is stored as an error result. */
  async tick(): Promise<void> {
    const live = new Set(this.o.engine.names());
    for (const name of live) this.ensure(name);
    const now = this.o.clock.now();
    for (const m of this.repo.due(now, PER_TICK)) {
      // A deleted endpoint's monitors wait (keeping their history) instead of storing "not deployed" every interval.
      if (!live.has(m.endpoint)) this.repo.update(m.id, { nextRunAt: now + this.interval(m.config) }, now);
      else await this.check(m);
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.repo.prune(now);
    }
  }

  list(endpoint?: string): MonitorView[] {
    if (endpoint !== undefined) this.ensureServed(endpoint);
    else for (const name of this.o.engine.names()) this.ensure(name);
    return this.repo.list(endpoint).map((m) => this.view(m));
  }

  get(endpoint: string, kind: string): MonitorView {
    return this.view(this.row(endpoint, kind));
  }

  /** Changes settings (validated together) and/or pauses; a new interval reschedules the next run. Audited. */
  set(endpoint: string, kind: string, patch: MonitorPatch, actor: string): MonitorView {
    const m = this.row(endpoint, kind);
    const { paused, ...cfg } = patch;
    const config: MonitorConfig = { ...m.config, ...cfg };
    if (config.min_rows > config.window_rows) throw invalid(`min_rows (${config.min_rows}) cannot exceed window_rows (${config.window_rows})`);
    const now = this.o.clock.now();
    const rescheduled = config.interval_minutes !== m.config.interval_minutes || (m.paused && paused === false);
    this.repo.update(m.id, { config, ...(paused !== undefined ? { paused } : {}), ...(rescheduled ? { nextRunAt: now + this.interval(config) } : {}) }, now);
    const changed = Object.fromEntries(Object.entries(patch).filter(([k, v]) => (k === 'paused' ? v !== m.paused : (m.config as Record<string, unknown>)[k] !== v)));
    if (Object.keys(changed).length) {
      const before = Object.fromEntries(Object.keys(changed).map((k) => [k, k === 'paused' ? m.paused : (m.config as Record<string, unknown>)[k]]));
      this.o.core.audit.append({ actor, action: paused === true ? 'monitor.pause' : paused === false ? 'monitor.resume' : 'monitor.update', objectType: 'monitor', objectId: `${endpoint}/${kind}`, before, after: changed });
    }
    return this.get(endpoint, kind);
  }

  /** Runs the check now (joining one in flight) and times the next run from now. */
  runNow(endpoint: string, kind: string): Promise<CheckResult> {
    return this.check(this.row(endpoint, kind));
  }

  /**
   * The variants of the endpoint's latest stored data-drift check that reached a verdict (what ml_drift_score shows),
   * or null when it has none yet.
   */
  storedDrift(endpoint: string): DriftSampleSource[] | null {
    const m = this.repo.get(endpoint, 'data_drift');
    const r = m?.lastResultId ? this.repo.result(m.lastResultId) : null;
    if (!r || (r.status !== 'pass' && r.status !== 'fail')) return null;
    const variants = (r.details as { variants?: { variant: string; status: string; details?: { reference?: { kind: string } | null; features?: DriftSampleSource['features'] } }[] }).variants ?? [];
    return variants
      .filter((v) => (v.status === 'pass' || v.status === 'fail') && v.details?.features)
      .map((v) => ({ status: 'ok', model_name: v.variant.slice(0, v.variant.lastIndexOf('/')), reference: v.details!.reference ?? null, features: v.details!.features! }));
  }

  /**
   * ml_model_accuracy's rows: each version's accuracy from its endpoint's latest stored performance check (what the
   * monitor measured and judged, not a recompute at scrape time); versions without one come from `live`.
   */
  accuracyRows(live: () => AccuracyRow[]): AccuracyRow[] {
    const stored = new Map<string, AccuracyRow>();
    for (const m of this.repo.list().filter((x) => x.kind === 'performance' && x.lastResultId)) {
      const r = this.repo.result(m.lastResultId!);
      const variants = ((r?.details ?? {}) as { variants?: { variant: string; details?: { accuracy?: number | null } }[] }).variants ?? [];
      for (const v of variants) {
        const accuracy = v.details?.accuracy;
        if (typeof accuracy !== 'number') continue;
        const cut = v.variant.lastIndexOf('/');
        const row = { model_name: v.variant.slice(0, cut), model_version: v.variant.slice(cut + 1), segment: `endpoint:${m.endpoint}`, accuracy };
        stored.set(`${row.segment}\u0000${row.model_name}\u0000${row.model_version}`, row);
      }
    }
    const rows = live().filter((a) => !stored.has(`${a.segment}\u0000${a.model_name}\u0000${a.model_version}`));
    return [...stored.values(), ...rows];
  }

  results(endpoint: string, kind: string, limit: number, beforeId?: number): MonitorResultView[] {
    return this.repo.results(this.row(endpoint, kind).id, limit, beforeId);
  }

  result(id: number): MonitorResultView {
    const r = this.repo.result(id);
    if (!r) throw notFound(`Monitor result ${id} does not exist`);
    return r;
  }

  incidents(o: { status?: string; endpoint?: string; limit?: number }): IncidentView[] {
    return this.repo.incidents({ ...o, limit: o.limit ?? 100 });
  }

  incident(id: number): IncidentView {
    const i = this.repo.incident(id);
    if (!i) throw notFound(`Incident ${id} does not exist`);
    return i;
  }

  acknowledge(id: number, actor: string, reason: string): IncidentView {
    const before = this.incident(id);
    if (before.status !== 'open') throw new ApiError('RESOURCE_CONFLICT', `Incident ${id} is ${before.status}; only an open incident can be acknowledged`);
    const now = this.o.clock.now();
    this.repo.acknowledge(id, actor, reason, now);
    this.o.core.audit.append({ actor, action: 'incident.acknowledge', objectType: 'incident', objectId: String(id), before: { status: before.status }, after: { status: 'acknowledged' }, reason });
    return this.incident(id);
  }

  resolve(id: number, actor: string, reason: string): IncidentView {
    const before = this.incident(id);
    if (before.status === 'resolved') throw new ApiError('RESOURCE_CONFLICT', `Incident ${id} is already resolved`);
    const now = this.o.clock.now();
    this.repo.transaction(() => {
      this.repo.resolve(id, actor, reason, now);
      this.repo.resetCounters(before.monitor_id);
      this.o.core.audit.append({ actor, action: 'incident.resolve', objectType: 'incident', objectId: String(id), before: { status: before.status }, after: { status: 'resolved', by: 'hand' }, reason });
    });
    const after = this.incident(id);
    this.publish(after);
    return after;
  }

  private check(m: MonitorRow): Promise<CheckResult> {
    const inFlight = this.running.get(m.id);
    if (inFlight) return inFlight;
    const p = this.checkOnce(m).finally(() => this.running.delete(m.id));
    this.running.set(m.id, p);
    return p;
  }

  private async checkOnce(stale: MonitorRow): Promise<CheckResult> {
    const m = this.repo.byId(stale.id) ?? stale;
    const { core, drift, engine } = this.o;
    let out: CheckOutcome;
    try {
      out = await runCheck(
        { db: core.db, registry: core.registry, drift, flushLog: this.o.flushLog, endpoint: (n) => engine.find(n), ...(this.compute ? { compute: this.compute } : {}) },
        { endpoint: m.endpoint, kind: m.kind, config: m.config, state: m.state },
      );
    } catch (err) {
      this.o.log.error({ err, monitor: `${m.endpoint}/${m.kind}` }, `monitor ${m.kind} of ${m.endpoint} failed`);
      out = { status: 'error', score: null, summary: `the check failed: ${(err as Error).message}`, rows: 0, windowFrom: null, windowTo: null, details: {}, features: [] };
    }
    const now = this.o.clock.now();
    const failures = out.status === 'fail' ? m.failures + 1 : out.status === 'pass' ? 0 : m.failures;
    const passes = out.status === 'pass' ? m.passes + 1 : out.status === 'fail' ? 0 : m.passes;
    const changed: IncidentView[] = [];
    const resultId = this.repo.transaction(() => {
      const id = this.repo.record(
        { monitorId: m.id, checkedAt: now, status: out.status, score: out.score, summary: out.summary, rows: out.rows, windowFrom: out.windowFrom, windowTo: out.windowTo, details: out.details },
        { failures, passes, nextRunAt: now + this.interval(m.config), state: out.state ?? m.state },
      );
      const open = this.repo.unresolved(m.id);
      if (out.status === 'fail' && open) this.repo.touchIncident(open.id, id);
      else if (out.status === 'fail' && failures >= m.config.failure_limit) {
        const inc = this.repo.openIncident(m, m.config.severity, out.summary, id, now, { window: { rows: out.rows, from_ts: out.windowFrom, to_ts: out.windowTo }, features: out.features, ...(out.figures !== undefined ? { figures: out.figures } : {}) });
        core.audit.append({ actor: 'monitor', action: 'incident.open', objectType: 'incident', objectId: String(inc.id), before: null, after: { status: 'open', endpoint: m.endpoint, kind: m.kind, severity: inc.severity, result: id }, reason: out.summary });
        changed.push(inc);
      } else if (out.status === 'pass' && open && passes >= m.config.resolve_after) {
        const why = `${passes} consecutive clean checks`;
        this.repo.resolve(open.id, 'monitor', why, now);
        core.audit.append({ actor: 'monitor', action: 'incident.resolve', objectType: 'incident', objectId: String(open.id), before: { status: open.status }, after: { status: 'resolved', by: 'monitor', result: id }, reason: why });
        changed.push(this.repo.incident(open.id)!);
      }
      return id;
    });
    for (const inc of changed) this.publish(inc);
    return { result: this.repo.result(resultId)!, incident: this.repo.unresolved(m.id) ?? changed[0] ?? null };
  }

  private publish(inc: IncidentView): void {
    const alert: IncidentAlert = {
      incidentId: String(inc.id),
      monitorId: String(inc.monitor_id),
      endpoint: inc.endpoint,
      kind: inc.kind,
      severity: inc.severity,
      status: inc.status === 'resolved' ? 'resolved' : 'firing',
      summary: `${label(inc.kind)} on endpoint ${inc.endpoint}`,
      description: inc.summary,
      startsAt: inc.opened_at,
      endsAt: inc.resolved_at,
      labels: Object.fromEntries(inc.evidence.features.slice(0, 10).map((f, i) => [`feature_${i + 1}`, f])),
      evidencePath: inc.evidence.last_result_id ? `/api/v1/monitors/results/${inc.evidence.last_result_id}` : null,
    };
    this.o.alerts.publish(alert);
  }

  private view(m: MonitorRow): MonitorView {
    const last = m.lastResultId ? this.repo.result(m.lastResultId) : null;
    return {
      id: m.id,
      endpoint: m.endpoint,
      kind: m.kind,
      paused: m.paused,
      config: m.config,
      next_run_at: m.nextRunAt,
      last_run_at: m.lastRunAt,
      last_status: m.lastStatus,
      last_summary: last?.summary ?? null,
      failures: m.failures,
      passes: m.passes,
      incident: this.repo.unresolved(m.id),
    };
  }

  private row(endpoint: string, kind: string): MonitorRow {
    if (!MONITOR_KINDS.includes(kind as MonitorKind)) throw invalid(`Unknown monitor kind '${kind}'; one of ${MONITOR_KINDS.join(', ')}`);
    this.ensureServed(endpoint);
    const m = this.repo.get(endpoint, kind);
    if (!m) throw notFound(`Endpoint '${endpoint}' has no monitors (it was never deployed)`);
    return m;
  }

  private ensureServed(endpoint: string): void {
    if (this.o.engine.names().includes(endpoint)) this.ensure(endpoint);
  }

  /** The interval plus up to 10 % (at most 30 s) of jitter, so monitors created together do not run together. */
  private interval(c: MonitorConfig): number {
    const ms = c.interval_minutes * 60_000;
    return Math.round(ms + this.random() * Math.min(ms * 0.1, 30_000));
  }
}

function label(kind: MonitorKind): string {
  return { data_drift: 'Data drift', prediction_drift: 'Prediction drift', concept_drift: 'Concept drift', performance: 'Performance SLO breach' }[kind];
}
