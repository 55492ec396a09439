/**
 * Data drift: per-feature method scores, each against its threshold, an ensemble vote per feature, and a dataset
 * verdict. Numeric features use PSI, KS, normalised Wasserstein and Jensen–Shannon; categorical ones PSI,
 * chi-square (test of homogeneity, no continuity correction) and Jensen–Shannon.
 */
import { SketchScratch, compareToSketch } from './bucketed';
import { chi2Contingency } from './chisquare';
import { clippedHistogramSorted, countsBetweenEdges, jensenShannon, ksAndWasserstein, psiFromCounts } from './distances';
import { ksPValue } from './ks';
import { jsNullQuantile, psiNullQuantile, wassersteinNullQuantile } from './nullscale';
import type { CategoricalProfile, FeatureProfile, NumericProfile, ReferenceProfile } from './profile';

export interface DriftThresholds {
  /** PSI above this drifts (bands: < 0.1 none, 0.1–0.2 moderate, > 0.2 drift). */
  psi: number;
  /** KS and chi-square p-values below this drift (divided by the number of features with `bonferroni`). */
  pValue: number;
  /** Wasserstein distance / reference std at or above this drifts. */
  wassersteinNorm: number;
  /** Jensen–Shannon distance (base 2) at or above this drifts. */
  jensenShannon: number;
  /** A feature drifts when at least this many of its methods say so. */
  minVotes: number;
  /** The dataset drifts when the share of drifted features is at least this. */
  datasetShare: number;
  bonferroni: boolean;
  /**
   * Raise the PSI, Wasserstein and JS thresholds to their no-change 99th percentile at the batch's sizes when that
   * is larger (small batches); the values above are then floors. See nullscale.ts.
   */
  sampleSizeAware: boolean;
}

export const DEFAULT_THRESHOLDS: DriftThresholds = {
  psi: 0.2,
  pValue: 0.05,
  wassersteinNorm: 0.1,
  jensenShannon: 0.1,
  minVotes: 2,
  datasetShare: 0.5,
  bonferroni: false,
  sampleSizeAware: true,
};

/** Evidently's floor for the normalising std, so a constant reference gives a finite score. */
export const MIN_NORM_STD = 1e-3;

export type MethodName = 'psi' | 'ks' | 'wasserstein_norm' | 'jensen_shannon' | 'chi2';

export interface MethodResult {
  method: MethodName;
  /** PSI, KS D, normalised Wasserstein, JS distance or chi-square statistic. */
  score: number;
  pValue?: number;
  /**
   * The threshold the verdict used: a p-value for ks/chi2, a score otherwise; for the distances the larger of the
   * configured floor and the no-change 99th percentile at these sample sizes.
   */
  threshold: number;
  /** Distances only: the configured threshold (effect size) that `threshold` never goes below. */
  floor?: number;
  drift: boolean;
  note?: string;
}

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  referenceCount: number;
  currentCount: number;
  currentMissing: number;
  methods: MethodResult[];
  votes: number;
  drift: boolean;
  psiBand: 'none' | 'moderate' | 'drift';
  unseenCategories?: string[];
}

export interface SkippedFeature {
  feature: string;
  reason: string;
}

export interface DriftReport {
  features: FeatureDrift[];
  skipped: SkippedFeature[];
  driftedFeatures: number;
  driftedShare: number;
  drift: boolean;
  thresholds: DriftThresholds;
}

/**
 * The current batch of one feature: finite numbers, ascending (`sorted`) or in any order (`values`, checked in
 * O(n) against the profile without sorting; what `currentColumns` gives), or category counts.
 */
export type CurrentColumn =
  | { kind: 'numeric'; sorted: Float64Array; missing: number }
  | { kind: 'numeric'; values: Float64Array; missing: number; sorted?: undefined }
  | { kind: 'categorical'; counts: ReadonlyMap<string, number>; missing: number };

export function psiBand(psi: number): FeatureDrift['psiBand'] {
  return psi > 0.2 ? 'drift' : psi >= 0.1 ? 'moderate' : 'none';
}

/** PSI bin counts, JS histogram counts, KS gap and Wasserstein of a current batch against a profile. */
function numericStats(ref: NumericProfile, values: Float64Array, isSorted: boolean, scratch?: SketchScratch): { psiCounts: number[]; jsCounts: number[]; h: number; d: number; wasserstein: number } {
  // Against many reference points (an exact profile) the lookup grid outgrows the cache and sorting the batch is
  // cheaper or close (1M values, CPU: 2,048 points 45 ms vs 150 ms sorting; 16,384: 70 vs 176; 65,536: 127 vs
  // 182; 262,144: 323 vs 166; an unprepared 50,000-point profile against 50,000 values loses).
  if (isSorted || ref.sketch.points.length > BUCKETED_MAX_POINTS) {
    const cur = isSorted ? values : values.slice().sort();
    return { psiCounts: countsBetweenEdges(cur, ref.deciles), jsCounts: clippedHistogramSorted(cur, ref.histogram.edges), ...ksAndWasserstein(ref.sketch.points, cur) };
  }
  const cur = values;
  const jsEdges = ref.histogram.edges.slice(1, -1);
  const { below, ...ks } = compareToSketch(ref.sketch.points, cur, [...ref.deciles, ...jsEdges], scratch);
  const bins = (cuts: number[]) => [...cuts, cur.length].map((c, i) => c - (i ? cuts[i - 1]! : 0));
  return { psiCounts: bins(below.slice(0, ref.deciles.length)), jsCounts: bins(below.slice(ref.deciles.length)), ...ks };
}

const BUCKETED_MAX_POINTS = 16_384;

/**
 * `cur` is ascending unless `isSorted` is false (then any order, checked without sorting it; `scratch` lets the
 * columns of one report share working memory).
 */
export function compareNumeric(name: string, ref: NumericProfile, cur: Float64Array, missing: number, t: DriftThresholds, alpha: number, isSorted = true, scratch?: SketchScratch): FeatureDrift {
  const ks = numericStats(ref, cur, isSorted, scratch);
  const psi = psiFromCounts(ref.decileCounts, ks.psiCounts);
  const points = ref.sketch.points;
  // With a sketch, D̂ = h'/(m·n2) is rescaled to the reference's true n before looking up the p-value.
  const h = ref.sketch.exact ? ks.h : Math.round(ks.d * ref.count * cur.length);
  const { pValue } = ksPValue(ref.count, cur.length, h);
  const wn = ks.wasserstein / Math.max(ref.std, MIN_NORM_STD);
  const js = jensenShannon(ref.histogram.counts, ks.jsCounts);
  const sketchNote = ref.sketch.exact ? undefined : `from a ${points.length}-point sketch (D error < ${(1 / points.length).toPrecision(2)})`;
  const n = ref.count;
  const m = cur.length;
  const aware = t.sampleSizeAware;
  const psiT = aware ? Math.max(t.psi, psiNullQuantile(ref.decileCounts.length, n, m)) : t.psi;
  const wnT = aware ? Math.max(t.wassersteinNorm, wassersteinNullQuantile(points, Math.max(ref.std, MIN_NORM_STD), n, m)) : t.wassersteinNorm;
  const jsT = aware ? Math.max(t.jensenShannon, jsNullQuantile(ref.histogram.counts.length, n, m)) : t.jensenShannon;
  const methods: MethodResult[] = [
    { method: 'psi', score: psi, threshold: psiT, floor: t.psi, drift: psi > psiT },
    { method: 'ks', score: ks.d, pValue, threshold: alpha, drift: pValue < alpha, ...(sketchNote ? { note: sketchNote } : {}) },
    { method: 'wasserstein_norm', score: wn, threshold: wnT, floor: t.wassersteinNorm, drift: wn >= wnT },
    { method: 'jensen_shannon', score: js, threshold: jsT, floor: t.jensenShannon, drift: js >= jsT },
  ];
  return verdict(name, 'numeric', ref.count, cur.length, missing, methods, t, psi);
}

export function compareCategorical(name: string, ref: CategoricalProfile, cur: ReadonlyMap<string, number>, missing: number, t: DriftThresholds, alpha: number): FeatureDrift {
  const cats = [...new Set([...Object.keys(ref.counts), ...cur.keys()])].sort();
  const r = cats.map((c) => ref.counts[c] ?? 0);
  const c = cats.map((k) => cur.get(k) ?? 0);
  const psi = psiFromCounts(r, c);
  const js = jensenShannon(r, c);
  const chi = chi2Contingency([r, c], false);
  let currentCount = 0;
  for (const v of cur.values()) currentCount += v;
  // Categories seen on either side are the bins; one category alone carries no distance to test.
  const bins = cats.length;
  const psiT = t.sampleSizeAware ? Math.max(t.psi, psiNullQuantile(bins, ref.count, currentCount)) : t.psi;
  const jsT = t.sampleSizeAware ? Math.max(t.jensenShannon, jsNullQuantile(bins, ref.count, currentCount)) : t.jensenShannon;
  const methods: MethodResult[] = [
    { method: 'psi', score: psi, threshold: psiT, floor: t.psi, drift: psi > psiT },
    { method: 'chi2', score: chi.statistic, pValue: chi.pValue, threshold: alpha, drift: chi.pValue < alpha },
    { method: 'jensen_shannon', score: js, threshold: jsT, floor: t.jensenShannon, drift: js >= jsT },
  ];
  const out = verdict(name, 'categorical', ref.count, currentCount, missing, methods, t, psi);
  const unseen = cats.filter((k) => ref.counts[k] === undefined);
  return unseen.length ? { ...out, unseenCategories: unseen } : out;
}

function verdict(feature: string, kind: FeatureDrift['kind'], referenceCount: number, currentCount: number, currentMissing: number, methods: MethodResult[], t: DriftThresholds, psi: number): FeatureDrift {
  const votes = methods.filter((m) => m.drift).length;
  return { feature, kind, referenceCount, currentCount, currentMissing, methods, votes, drift: votes >= t.minVotes, psiBand: psiBand(psi) };
}

/**
 * Compares a current batch with a reference profile. Features in only one of them, or with no values on one side,
 * are listed under `skipped` with the reason and do not count towards the drifted share.
 */
export function driftReport(profile: ReferenceProfile, current: ReadonlyMap<string, CurrentColumn>, thresholds: Partial<DriftThresholds> = {}): DriftReport {
  const t = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const skipped: SkippedFeature[] = [];
  const pairs: [string, FeatureProfile, CurrentColumn][] = [];
  for (const [name, ref] of Object.entries(profile.features)) {
    const cur = current.get(name);
    if (!cur) skipped.push({ feature: name, reason: 'missing from the current data' });
    else if (ref.kind !== cur.kind) skipped.push({ feature: name, reason: `reference is ${ref.kind} but current is ${cur.kind}` });
    else if ((cur.kind === 'numeric' ? (cur.sorted ?? cur.values).length : sumCounts(cur.counts)) === 0) skipped.push({ feature: name, reason: 'no values in the current data' });
    else pairs.push([name, ref, cur]);
  }
  const empty = new Set(profile.empty ?? []);
  for (const name of current.keys()) {
    if (!(name in profile.features)) skipped.push({ feature: name, reason: empty.has(name) ? 'no values in the reference' : 'missing from the reference' });
  }
  const alpha = t.bonferroni && pairs.length > 0 ? t.pValue / pairs.length : t.pValue;
  const scratch = new SketchScratch();
  const features = pairs.map(([name, ref, cur]) =>
    ref.kind === 'numeric' && cur.kind === 'numeric'
      ? compareNumeric(name, ref, cur.sorted ?? cur.values, cur.missing, t, alpha, cur.sorted !== undefined, scratch)
      : compareCategorical(name, ref as CategoricalProfile, (cur as { counts: ReadonlyMap<string, number> }).counts, cur.missing, t, alpha),
  );
  const driftedFeatures = features.filter((f) => f.drift).length;
  const driftedShare = features.length ? driftedFeatures / features.length : 0;
  return { features, skipped, driftedFeatures, driftedShare, drift: features.length > 0 && driftedShare >= t.datasetShare, thresholds: t };
}

function sumCounts(m: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}
