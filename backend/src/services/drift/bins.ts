/**
 * The drift report's charts, computed from what a check already has: the stored reference profile and the current
 * window. Pure and bounded: at most MAX_FEATURES features, `bins` ≤ 50 numeric bins, MAX_CATEGORIES bars.
 */
import type { CategoryBins, FeatureBins, NumericBins } from '../../api/v1/contract-drift';
import type { MonitorResultView } from '../../api/v1/contract-monitors';
import type { DriftTimeline } from '../../api/v1/contract-drift';
import { equalWidthEdges, type CategoricalProfile, type NumericProfile, type RawColumn, type ReferenceProfile } from '../stats';

export const DEFAULT_BINS = 20;
export const MAX_FEATURES = 100;
export const MAX_CATEGORIES = 20;

/** Index of the bin [e_k, e_{k+1}) holding v (the last bin closed); values outside clamp to the end bins. */
function binOf(edges: readonly number[], v: number): number {
  const n = edges.length - 1;
  if (v <= edges[0]!) return 0;
  if (v >= edges[n]!) return n - 1;
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (v >= edges[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
}

/**
 * Equal-width bins over both sides' range. The reference's shares come from its sketch: each kept order statistic
 * stands for 1/m of the reference (exact when the profile kept every value), so a share is within 1/m per edge.
 */
export function numericBins(feature: string, ref: NumericProfile, current: ArrayLike<number>, bins = DEFAULT_BINS): NumericBins {
  let lo = ref.min;
  let hi = ref.max;
  for (let i = 0; i < current.length; i++) {
    const v = current[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const edges = equalWidthEdges(lo, hi, bins);
  const r = new Array<number>(bins).fill(0);
  const c = new Array<number>(bins).fill(0);
  const points = ref.sketch.points;
  for (let i = 0; i < points.length; i++) r[binOf(edges, points[i]!)]!++;
  for (let i = 0; i < current.length; i++) c[binOf(edges, current[i]!)]!++;
  return {
    feature,
    kind: 'numeric',
    edges,
    reference: shares(r),
    current: shares(c),
    reference_count: ref.count,
    current_count: current.length,
    reference_points: points.length,
    reference_exact: ref.sketch.exact,
  };
}

/** Categories by their larger share on either side; past MAX_CATEGORIES − 1 the rest is summed into '(other)'. */
export function categoryBins(feature: string, ref: CategoricalProfile, current: ReadonlyMap<string, number>): CategoryBins {
  let currentCount = 0;
  for (const v of current.values()) currentCount += v;
  const refShare = (k: string) => (ref.count ? (ref.counts[k] ?? 0) / ref.count : 0);
  const curShare = (k: string) => (currentCount ? (current.get(k) ?? 0) / currentCount : 0);
  const all = [...new Set([...Object.keys(ref.counts), ...current.keys()])].sort((a, b) => Math.max(refShare(b), curShare(b)) - Math.max(refShare(a), curShare(a)) || (a < b ? -1 : 1));
  const fold = all.length > MAX_CATEGORIES;
  const kept = fold ? all.slice(0, MAX_CATEGORIES - 1) : all;
  const rest = fold ? all.slice(MAX_CATEGORIES - 1) : [];
  const sum = (ks: string[], f: (k: string) => number) => ks.reduce((a, k) => a + f(k), 0);
  return {
    feature,
    kind: 'categorical',
    categories: fold ? [...kept, '(other)'] : kept,
    reference: [...kept.map(refShare), ...(fold ? [sum(rest, refShare)] : [])],
    current: [...kept.map(curShare), ...(fold ? [sum(rest, curShare)] : [])],
    reference_count: ref.count,
    current_count: currentCount,
    folded: rest.length,
  };
}

/** Bins of every feature both sides have (reference order), at most MAX_FEATURES of them. */
export function featureBins(profile: ReferenceProfile, columns: ReadonlyMap<string, RawColumn>, bins = DEFAULT_BINS): { features: FeatureBins[]; omitted: number } {
  const out: FeatureBins[] = [];
  let omitted = 0;
  for (const [name, ref] of Object.entries(profile.features)) {
    const col = columns.get(name);
    if (!col) continue;
    if (out.length >= MAX_FEATURES) {
      omitted++;
      continue;
    }
    if (ref.kind === 'numeric' && col.kind === 'numeric' && col.values.length > 0) out.push(numericBins(name, ref, col.values, bins));
    else if (ref.kind === 'categorical' && col.kind === 'categorical') out.push(categoryBins(name, ref, col.counts));
  }
  return { features: out, omitted };
}

interface StoredVariant {
  variant?: string;
  status?: string;
  score?: number | null;
  details?: { features?: { feature: string; kind: string; methods: { method: string; score: number; p_value?: number; threshold: number; drift: boolean }[] }[] };
}

/**
 * The data-drift monitor's stored checks (newest first, as the repository reads them) as one line per variant and
 * feature: `method`'s score (its p-value for ks and chi2) and the threshold each check used, oldest first.
 */
export function driftTimeline(endpoint: string, method: string, results: readonly MonitorResultView[]): DriftTimeline {
  const variants = new Map<string, DriftTimeline['variants'][number]>();
  const features = new Map<string, Map<string, DriftTimeline['variants'][number]['features'][number]>>();
  for (const r of [...results].reverse()) {
    const stored = ((r.details ?? {}) as { variants?: StoredVariant[] }).variants ?? [];
    for (const v of stored) {
      if (!v.variant) continue;
      let line = variants.get(v.variant);
      if (!line) variants.set(v.variant, (line = { variant: v.variant, checks: [], features: [] }));
      const verdict = v.status === 'pass' || v.status === 'fail';
      line.checks.push({ t: r.checked_at, status: v.status ?? 'unknown', drifted_share: verdict && typeof v.score === 'number' ? v.score : null });
      let byFeature = features.get(v.variant);
      if (!byFeature) features.set(v.variant, (byFeature = new Map()));
      for (const f of v.details?.features ?? []) {
        const m = f.methods.find((x) => x.method === method);
        if (!m) continue;
        let fl = byFeature.get(f.feature);
        if (!fl) {
          byFeature.set(f.feature, (fl = { feature: f.feature, kind: f.kind, points: [] }));
          line.features.push(fl);
        }
        fl.points.push({ t: r.checked_at, score: m.p_value ?? m.score, threshold: m.threshold, drift: m.drift });
      }
    }
  }
  return { endpoint, method, checks: results.length, variants: [...variants.values()] };
}
