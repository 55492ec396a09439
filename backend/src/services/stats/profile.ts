/**
 * Reference profiles: what a drift check needs from the training data, computed once (at registration) and
 * serialisable as JSON, so a later check costs O(current batch) and never re-reads the training data.
 *
 * Per numeric feature: count, missing, min/max, mean/std, the deciles with the reference's counts in the PSI bins,
 * the 10-bin equal-width histogram for Jensen–Shannon, and a quantile sketch for KS and Wasserstein.
 *
 * The sketch keeps m order statistics, the values at ranks ⌈i·n/m⌉ for i = 1..m (all values when n ≤ m, and the
 * check is then exact). Its ECDF F̂ satisfies 0 ≤ F(x) − F̂(x) < 1/m for every x, because at least ⌈i·n/m⌉ and fewer
 * than ⌈(i+1)·n/m⌉ reference values lie at or below any x between the i-th and (i+1)-th kept value. Hence:
 * - KS: |D̂ − D| < 1/m (the sup-norm moves by less than 1/m);
 * - Wasserstein-1: |Ŵ − W| ≤ ∫|F − F̂| dx ≤ (max − min)/m, and the normalised score moves by at most that / std.
 * With the default m = 2048: KS within 0.00049. The KS p-value is computed for D̂ with the reference's true n.
 */
import type { SketchScratch } from './bucketed';
import { countsBetweenEdges, decileEdges, clippedHistogramSorted, equalWidthEdges } from './distances';
import { meanStd, quantileAt, quantileRanks } from './quantiles';
import { selectRanks } from './select';

export const DEFAULT_SKETCH_SIZE = 2048;
export const JS_BINS = 10;

export interface NumericProfile {
  kind: 'numeric';
  count: number;
  missing: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  deciles: number[];
  decileCounts: number[];
  histogram: { edges: number[]; counts: number[] };
  sketch: { exact: boolean; points: ArrayLike<number> };
}

export interface CategoricalProfile {
  kind: 'categorical';
  count: number;
  missing: number;
  counts: Record<string, number>;
}

export type FeatureProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  format: 'mlops-reference-profile';
  version: 1;
  /** 0 when every value is kept (exact). */
  sketchSize: number;
  features: Record<string, FeatureProfile>;
  /** Features present in the reference without a single value. */
  empty?: string[];
}

/** Builds a numeric profile from an ascending-sorted, finite, non-empty sample. */
export function numericProfile(sorted: Float64Array, missing: number, sketchSize = DEFAULT_SKETCH_SIZE): NumericProfile {
  const n = sorted.length;
  const { mean, std } = meanStd(sorted);
  const deciles = decileEdges(sorted);
  const edges = equalWidthEdges(sorted[0]!, sorted[n - 1]!, JS_BINS);
  return {
    kind: 'numeric',
    count: n,
    missing,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean,
    std,
    deciles,
    decileCounts: countsBetweenEdges(sorted, deciles),
    histogram: { edges, counts: clippedHistogramSorted(sorted, edges) },
    sketch: { exact: n <= sketchSize, points: n <= sketchSize ? sorted : quantileSketch(sorted, sketchSize) },
  };
}

/**
 * The same profile as numericProfile gives for the sorted sample, from finite values in any order, when
 * n > sketchSize: the deciles' and the sketch's order statistics are selected (select.ts), not sorted for.
 */
export function numericProfileUnsorted(values: Float64Array, missing: number, sketchSize = DEFAULT_SKETCH_SIZE, scratch?: SketchScratch): NumericProfile {
  const n = values.length;
  if (n <= sketchSize) throw new Error('numericProfileUnsorted needs more values than sketch points');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const { mean, std } = meanStd(values);
  const ps = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => k / 10);
  const sketchRanks = Array.from({ length: sketchSize }, (_, i) => Math.ceil(((i + 1) * n) / sketchSize) - 1);
  const ranks = [...new Set([...ps.flatMap((p) => quantileRanks(n, p)), ...sketchRanks])].sort((a, b) => a - b);
  const sel = selectRanks(values, ranks, scratch);
  const byRank = new Map(ranks.map((r, i) => [r, sel.at[i]!]));
  const at = (r: number) => byRank.get(r)!;
  const deciles = ps.map((p) => quantileAt(n, p, at));
  const edges = equalWidthEdges(min, max, JS_BINS);
  const bins = (cuts: number[]) => [...cuts, n].map((c, i) => c - (i ? cuts[i - 1]! : 0));
  return {
    kind: 'numeric',
    count: n,
    missing,
    min,
    max,
    mean,
    std,
    deciles,
    decileCounts: bins(sel.below(deciles)),
    histogram: { edges, counts: bins(sel.below(edges.slice(1, -1))) },
    sketch: { exact: false, points: Float64Array.from(sketchRanks, at) },
  };
}

/** The order statistics at ranks ⌈i·n/m⌉, i = 1..m. */
export function quantileSketch(sorted: ArrayLike<number>, m: number): Float64Array {
  const n = sorted.length;
  const out = new Float64Array(m);
  for (let i = 1; i <= m; i++) out[i - 1] = sorted[Math.ceil((i * n) / m) - 1]!;
  return out;
}

export function categoricalProfile(counts: ReadonlyMap<string, number>, missing: number): CategoricalProfile {
  let count = 0;
  for (const v of counts.values()) count += v;
  return { kind: 'categorical', count, missing, counts: Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}

/** JSON text of a profile (typed arrays become plain arrays). */
export function serializeProfile(p: ReferenceProfile): string {
  return JSON.stringify(p, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v));
}

/** Parses and checks a profile written by serializeProfile; throws a message naming the first problem. */
export function parseProfile(text: string): ReferenceProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('reference profile is not valid JSON');
  }
  const p = raw as Partial<ReferenceProfile>;
  if (p?.format !== 'mlops-reference-profile' || p.version !== 1) throw new Error('not an mlops reference profile (version 1)');
  if (typeof p.features !== 'object' || p.features === null) throw new Error('reference profile has no features');
  for (const [name, f] of Object.entries(p.features)) {
    const ok =
      f?.kind === 'categorical'
        ? typeof f.counts === 'object' && f.count > 0
        : f?.kind === 'numeric' &&
          f.count > 0 &&
          Array.isArray(f.deciles) && f.deciles.length === 9 &&
          Array.isArray(f.decileCounts) && f.decileCounts.length === 10 &&
          Array.isArray(f.histogram?.edges) && f.histogram.edges.length === JS_BINS + 1 &&
          Array.isArray(f.sketch?.points) && f.sketch.points.length > 0;
    if (!ok) throw new Error(`reference profile: feature '${name}' is malformed`);
  }
  return p as ReferenceProfile;
}
