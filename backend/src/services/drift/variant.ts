/**
 * The statistics of one variant's drift, from rows already read: pure (no store, no clock), so a monitor's check can
 * run it in the checks worker thread and the Drift view on the main thread, with the same result.
 */
import type { DriftReference, FeatureDriftView, VariantDrift } from '../../api/v1/contract';
import { currentColumns, driftReport, type FeatureDrift, type RawColumn, type ReferenceProfile } from '../stats';
import type { Reading } from '../monitors/reads';
import type { LoggedFeatures, ProfileKind } from './repository';

/** Fewer current rows than this give no verdict. */
export const MIN_ROWS = 30;
/** Rows of a version's first served window, when it has no training profile. */
export const FIRST_WINDOW = 1000;

/** What a variant's drift needs: its reference profile and its newest logged requests as stored (features as JSON text). */
export interface VariantDriftJob {
  variant: string;
  model: string;
  version: number;
  role: string;
  window: number;
  reference: { profile: ReferenceProfile; kind: ProfileKind; source: string; rows: number | null; createdAt: number } | null;
  /** Newest first, `features` as the log's JSON text. */
  logged: { id: number; ts: number; features: string }[];
}

/** Reads a variant's window and runs its drift job (a monitor's check: in the checks worker, on its own connection). */
export type VariantCompute = (job: Reading<VariantDriftJob>) => Promise<VariantDrift>;

export function variantDrift(job: VariantDriftJob): VariantDrift {
  const { variant: id, reference } = job;
  const base = { variant: id, model_name: job.model, model_version: job.version, role: job.role };
  const empty = { drift: null, drifted_features: 0, drifted_share: 0, features: [], skipped: [] };
  const current = job.logged.map((r) => ({ id: r.id, ts: r.ts, features: JSON.parse(r.features) as unknown }));
  const { columns, rows, from, to } = toColumns(current, job.window);
  const win = { rows, from_ts: from, to_ts: to };
  if (!reference) {
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

/** The profile's features that the model is served with (a training file may hold more columns). */
export function restrict(p: ReferenceProfile, served: readonly string[]): ReferenceProfile {
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
