/**
 * Drift of an endpoint's served inputs: per live variant, the newest rows of the prediction log against the
 * served version's reference profile, through the statistics engine (PSI, KS, Wasserstein, JS, the ensemble vote).
 * A version without a training profile falls back to its first served window (the oldest FIRST_WINDOW logged
 * rows, profiled once and stored), and the report says which reference it used. Computed on demand and cached
 * for a few seconds: nothing here runs per request.
 */
import type { DriftHistory, DriftReference, EndpointDrift, FeatureDriftView, VariantDrift } from '../../api/v1/contract';
import type { DriftBins, VariantBins } from '../../api/v1/contract-drift';
import { notFound } from '../../util/errors';
import { buildReferenceProfile, currentColumns, driftReport, type FeatureDrift, type RawColumn, type ReferenceProfile } from '../stats';
import { DEFAULT_BINS, featureBins } from './bins';
import type { Profiler } from './profiler';
import type { DriftRepository, LoggedFeatures, StoredProfile } from './repository';

export const DEFAULT_WINDOW = 1000;
/** Fewer current rows than this give no verdict. */
export const MIN_ROWS = 30;
/** Rows of a version's first served window, when it has no training profile. */
export const FIRST_WINDOW = 1000;

export class EndpointDriftService {
  private readonly cache = new Map<string, { at: number; report: EndpointDrift }>();

  constructor(
    private readonly repo: DriftRepository,
    private readonly profiler: Profiler,
    private readonly flushLog: () => void = () => undefined,
  ) {}

  async report(endpoint: string, window = DEFAULT_WINDOW, maxAgeMs = 0): Promise<EndpointDrift> {
    const key = `${endpoint}\u0000${window}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at <= maxAgeMs) return hit.report;
    const cfg = this.repo.endpoint(endpoint);
    if (!cfg) throw notFound(`Endpoint '${endpoint}' does not exist`);
    this.flushLog();
    const variants: VariantDrift[] = [];
    for (const v of liveVariants(cfg.variants)) variants.push(await this.variant(endpoint, v.id, v.role, window));
    const report: EndpointDrift = { endpoint, checked_at: Date.now(), window, min_rows: MIN_ROWS, variants };
    this.cache.set(key, { at: report.checked_at, report });
    return report;
  }

  /**
   * PSI per feature and time bucket (the Monitoring heatmap) for the endpoint's stable variant, against the same
   * reference as `report`. Buckets with fewer than MIN_ROWS rows are null. At most 50,000 logged requests are read.
   */
  async history(endpoint: string, bucketMs = 60_000, buckets = 30): Promise<DriftHistory> {
    const cfg = this.repo.endpoint(endpoint);
    if (!cfg) throw notFound(`Endpoint '${endpoint}' does not exist`);
    const stable = cfg.variants.find((v) => v.role === 'stable');
    this.flushLog();
    const end = Math.floor(Date.now() / bucketMs) * bucketMs + bucketMs;
    const starts = Array.from({ length: buckets }, (_, i) => end - (buckets - i) * bucketMs);
    const empty: DriftHistory = { endpoint, variant: stable?.id ?? null, reference: null, method: 'psi', bucket_ms: bucketMs, buckets: starts, features: [], scores: [] };
    if (!stable) return empty;
    const { model, version } = splitId(stable.id);
    const reference = await this.reference(model, version);
    if (!reference?.profile) return empty;
    const logged = this.repo.since(endpoint, model, version, starts[0]!, reference.logThroughId ?? 0, 50_000);
    const byBucket = starts.map(() => [] as LoggedFeatures[]);
    for (const l of logged) {
      const i = Math.floor((l.ts - starts[0]!) / bucketMs);
      if (i >= 0 && i < buckets) byBucket[i]!.push(l);
    }
    const features = Object.keys(reference.profile.features);
    const scores = features.map(() => starts.map((): number | null => null));
    byBucket.forEach((ls, b) => {
      const { columns, rows } = toColumns(ls, Number.MAX_SAFE_INTEGER);
      if (rows < MIN_ROWS) return;
      const r = driftReport(restrict(reference.profile!, [...columns.keys()]), currentColumns(asReferenceKinds(reference.profile!, columns)));
      for (const f of r.features) {
        const i = features.indexOf(f.feature);
        const psi = f.methods.find((m) => m.method === 'psi');
        if (i >= 0 && psi) scores[i]![b] = psi.score;
      }
    });
    const ref: DriftReference = { kind: reference.kind, source: reference.source, rows: reference.rows, created_at: reference.createdAt };
    return { ...empty, reference: ref, features, scores };
  }

  /** Every endpoint's report (the Drift tree), each at most `maxAgeMs` old. */
  async all(maxAgeMs = 0): Promise<EndpointDrift[]> {
    const out: EndpointDrift[] = [];
    for (const name of this.repo.endpointNames()) out.push(await this.report(name, DEFAULT_WINDOW, maxAgeMs));
    return out;
  }

  /**
   * The report's charts: per live variant, each feature's reference and current window in the same bins (numeric)
   * or categories, from the same reference and window a report of this `window` uses.
   */
  async bins(endpoint: string, window = DEFAULT_WINDOW, bins = DEFAULT_BINS): Promise<DriftBins> {
    const cfg = this.repo.endpoint(endpoint);
    if (!cfg) throw notFound(`Endpoint '${endpoint}' does not exist`);
    this.flushLog();
    const variants: VariantBins[] = [];
    for (const v of liveVariants(cfg.variants)) {
      const { reference, columns, rows } = await this.current(endpoint, v.id, window);
      const base = { variant: v.id, window_rows: rows, features: [], omitted: 0 };
      const ref: DriftReference | null = reference ? { kind: reference.kind, source: reference.source, rows: reference.rows, created_at: reference.createdAt } : null;
      if (!reference?.profile) variants.push({ ...base, status: 'no_reference', reference: null, message: `${v.id} has no reference profile yet` });
      else if (rows < MIN_ROWS) variants.push({ ...base, status: 'insufficient_data', reference: ref, message: `${rows} logged rows since the reference; a chart needs at least ${MIN_ROWS}` });
      else variants.push({ ...base, status: 'ok', reference: ref, ...featureBins(reference.profile, asReferenceKinds(reference.profile, columns), bins) });
    }
    return { endpoint, window, bins, variants };
  }

  /** The reference of a variant's version and its current window (the newest `window` rows logged after it). */
  private async current(endpoint: string, id: string, window: number): Promise<{ reference: StoredProfile | null } & ReturnType<typeof toColumns>> {
    const { model, version } = splitId(id);
    const reference = await this.reference(model, version);
    const current = reference ? this.repo.recent(endpoint, model, version, window, reference.logThroughId ?? 0) : this.repo.recent(endpoint, model, version, window);
    return { reference, ...toColumns(current, window) };
  }

  private async variant(endpoint: string, id: string, role: string, window: number): Promise<VariantDrift> {
    const { model, version } = splitId(id);
    const base = { variant: id, model_name: model, model_version: version, role };
    const empty = { drift: null, drifted_features: 0, drifted_share: 0, features: [], skipped: [] };
    const { reference, columns, rows, from, to } = await this.current(endpoint, id, window);
    const win = { rows, from_ts: from, to_ts: to };
    if (!reference?.profile) {
      return { ...base, ...empty, status: 'no_reference', window: win, reference: null, message: `${id} has no reference profile (set one with: mlops models profile ${id} --reference train.csv) and has served fewer than ${FIRST_WINDOW} logged rows for a first-window fallback` };
    }
    const ref: DriftReference = { kind: reference.kind, source: reference.source, rows: reference.rows, created_at: reference.createdAt };
    if (rows < MIN_ROWS) {
      return { ...base, ...empty, status: 'insufficient_data', window: win, reference: ref, message: `${rows} logged rows since the reference; a check needs at least ${MIN_ROWS}` };
    }
    const served = restrict(reference.profile, [...columns.keys()]);
    if (Object.keys(served.features).length === 0) {
      const names = Object.keys(reference.profile.features).slice(0, 5).join(', ');
      return { ...base, ...empty, status: 'no_reference', window: win, reference: ref, message: `the reference profile describes ${names || 'no feature'} but ${id} is served with ${[...columns.keys()].join(', ')}: give the model a column signature naming its features, or a profile of those columns` };
    }
    const r = driftReport(served, currentColumns(asReferenceKinds(served, columns)));
    return {
      ...base,
      status: 'ok',
      window: win,
      reference: ref,
      drift: r.drift,
      drifted_features: r.driftedFeatures,
      drifted_share: r.driftedShare,
      features: r.features.map(featureView),
      skipped: r.skipped,
    };
  }

  /** The training profile, else the stored first window, else a first window made now if enough rows exist. */
  private async reference(model: string, version: number): Promise<StoredProfile | null> {
    const stored = await this.profiler.ensure(model, version);
    if (stored?.status === 'ready') return stored;
    const first = this.repo.first(model, version, FIRST_WINDOW);
    const { columns, rows, lastId } = toColumns(first, FIRST_WINDOW);
    if (rows < FIRST_WINDOW || columns.size === 0 || lastId === null) return null;
    const why = stored?.status === 'failed' ? `the registered training data could not be read: ${stored.message}` : 'no training profile was registered';
    return this.repo.put({
      name: model,
      version,
      status: 'ready',
      kind: 'first_window',
      profile: buildReferenceProfile(columns),
      source: `first ${rows} served rows (${why})`,
      rows,
      message: null,
      logThroughId: lastId,
    });
  }
}

const ROLE_ORDER: Record<string, number> = { stable: 0, candidate: 1 };

/** Variants taking live traffic, the stable first. */
function liveVariants<V extends { id: string; role: string }>(vs: readonly V[]): V[] {
  return vs.filter((v) => v.role === 'stable' || v.role === 'candidate').sort((a, b) => ROLE_ORDER[a.role]! - ROLE_ORDER[b.role]!);
}

/**
 * Served values are numbers; a feature the reference profiles as categorical (a profile's category counts, e.g.
 * codes "0", "1", "2") is compared by category, each served value read as its text.
 */
export function asReferenceKinds(p: ReferenceProfile, columns: ReadonlyMap<string, RawColumn>): Map<string, RawColumn> {
  const out = new Map(columns);
  for (const [name, col] of columns) {
    if (p.features[name]?.kind !== 'categorical' || col.kind !== 'numeric') continue;
    const counts = new Map<string, number>();
    for (let i = 0; i < col.values.length; i++) {
      const k = String(col.values[i]);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    out.set(name, { kind: 'categorical', counts, missing: col.missing });
  }
  return out;
}

function splitId(id: string): { model: string; version: number } {
  const cut = id.lastIndexOf('/');
  return { model: id.slice(0, cut), version: Number(id.slice(cut + 1)) };
}

/** The profile's features that the model is served with (a training file may hold more columns). */
function restrict(p: ReferenceProfile, served: readonly string[]): ReferenceProfile {
  const keep = new Set(served);
  return { ...p, features: Object.fromEntries(Object.entries(p.features).filter(([k]) => keep.has(k))), empty: (p.empty ?? []).filter((k) => keep.has(k)) };
}

export function severityOf(f: FeatureDrift): FeatureDriftView['severity'] {
  if (f.drift) return f.votes === f.methods.length ? 'high' : 'medium';
  return f.votes > 0 ? 'low' : 'none';
}

function featureView(f: FeatureDrift): FeatureDriftView {
  return {
    feature: f.feature,
    kind: f.kind,
    drift: f.drift,
    severity: severityOf(f),
    votes: f.votes,
    methods: f.methods.map((m) => ({ method: m.method, score: m.score, ...(m.pValue !== undefined ? { p_value: m.pValue } : {}), threshold: m.threshold, drift: m.drift })),
    psi_band: f.psiBand,
    reference_count: f.referenceCount,
    current_count: f.currentCount,
  };
}

/** Logged `{columns, rows}` into numeric columns, at most `limit` rows (newest or oldest first, as given). */
export function toColumns(logged: readonly LoggedFeatures[], limit: number): { columns: Map<string, RawColumn>; rows: number; from: number | null; to: number | null; lastId: number | null } {
  const values = new Map<string, number[]>();
  let rows = 0;
  let from: number | null = null;
  let to: number | null = null;
  let lastId: number | null = null;
  for (const l of logged) {
    const f = l.features as { columns?: unknown; rows?: unknown } | null;
    if (!f || !Array.isArray(f.columns) || !Array.isArray(f.rows)) continue;
    const names = f.columns as string[];
    for (const row of f.rows as unknown[]) {
      if (rows >= limit || !Array.isArray(row)) break;
      names.forEach((n, i) => {
        const v = row[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) return;
        let col = values.get(n);
        if (!col) values.set(n, (col = []));
        col.push(v);
      });
      rows++;
      from = from === null ? l.ts : Math.min(from, l.ts);
      to = to === null ? l.ts : Math.max(to, l.ts);
      lastId = l.id;
    }
    if (rows >= limit) break;
  }
  const columns = new Map<string, RawColumn>([...values].map(([n, v]) => [n, { kind: 'numeric', values: Float64Array.from(v), missing: rows - v.length }]));
  return { columns, rows, from, to, lastId };
}
