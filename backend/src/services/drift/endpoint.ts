/**
 * Drift of an endpoint's served inputs: per live variant, the newest rows of the prediction log against the
 * served version's reference profile, through the statistics engine (PSI, KS, Wasserstein, JS, the ensemble vote).
 * A version without a training profile falls back to its first served window (the oldest FIRST_WINDOW logged
 * rows, profiled once and stored), and the report says which reference it used. Computed on demand and cached
 * for a few seconds: nothing here runs per request.
 */
import type { DriftHistory, DriftReference, EndpointDrift, VariantDrift } from '../../api/v1/contract';
import type { DriftBins, VariantBins } from '../../api/v1/contract-drift';
import { notFound } from '../../util/errors';
import { buildReferenceProfile, currentColumns, driftReport } from '../stats';
import { DEFAULT_BINS, featureBins } from './bins';
import type { Profiler } from './profiler';
import type { DriftRepository, LoggedFeatures, StoredProfile } from './repository';
import { logRead, profileRead } from '../monitors/reads';
import { asReferenceKinds, FIRST_WINDOW, MIN_ROWS, restrict, toColumns, variantDrift, type VariantCompute } from './variant';

export const DEFAULT_WINDOW = 1000;
export { FIRST_WINDOW, MIN_ROWS } from './variant';

export class EndpointDriftService {
  private readonly cache = new Map<string, { at: number; report: EndpointDrift }>();

  constructor(
    private readonly repo: DriftRepository,
    private readonly profiler: Profiler,
    private readonly flushLog: () => void | Promise<void> = () => undefined,
  ) {}

  /** `compute` reads each variant's window and runs its statistics: here by default, in the checks worker for a monitor's check. */
  async report(endpoint: string, window = DEFAULT_WINDOW, maxAgeMs = 0, compute?: VariantCompute): Promise<EndpointDrift> {
    const key = `${endpoint}\u0000${window}`;
    const hit = this.cache.get(key);
    if (hit && maxAgeMs > 0 && Date.now() - hit.at <= maxAgeMs) return hit.report;
    const cfg = this.repo.endpoint(endpoint);
    if (!cfg) throw notFound(`Endpoint '${endpoint}' does not exist`);
    await this.flushLog();
    const variants: VariantDrift[] = [];
    for (const v of liveVariants(cfg.variants)) variants.push(await this.variant(endpoint, v.id, v.role, window, compute));
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
    await this.flushLog();
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
    await this.flushLog();
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

  private async variant(endpoint: string, id: string, role: string, window: number, compute?: VariantCompute): Promise<VariantDrift> {
    const { model, version } = splitId(id);
    const base = { variant: id, model, version, role, window };
    if (compute) {
      // A stored profile is read (and parsed, once) where the statistics run, with the window: not on this thread.
      const stored = this.repo.meta(model, version);
      const ready = stored?.status === 'ready' && stored.hasProfile ? stored : null;
      const built = ready ? null : await this.reference(model, version);
      const reference = ready ?? built;
      const profile = ready ? profileRead(model, version, ready.createdAt) : built?.profile;
      const ref = reference && profile ? { profile, kind: reference.kind, source: reference.source, rows: reference.rows, createdAt: reference.createdAt } : null;
      return compute({ ...base, reference: ref, logged: logRead({ endpoint, model, version, limit: window, afterId: reference?.logThroughId ?? 0 }, 'features') });
    }
    const reference = await this.reference(model, version);
    const ref = reference?.profile ? { profile: reference.profile, kind: reference.kind, source: reference.source, rows: reference.rows, createdAt: reference.createdAt } : null;
    return variantDrift({ ...base, reference: ref, logged: this.repo.recentRaw(endpoint, model, version, window, reference?.logThroughId ?? 0) });
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

function splitId(id: string): { model: string; version: number } {
  const cut = id.lastIndexOf('/');
  return { model: id.slice(0, cut), version: Number(id.slice(cut + 1)) };
}

