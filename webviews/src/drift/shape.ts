/** The drift report's chart data from the backend's bins and timeline: pure, no Chart.js (tested on its own). */
import type { CategoryBins, DriftFeature, DriftTimeline, NumericBins } from '../protocol/drift';
import { fmt } from '../shared/dom';

/** Reference and current as percentages of their own rows over the same bars. */
export interface OverlayData {
  labels: string[];
  reference: number[];
  current: number[];
}

const pct = (xs: readonly number[]) => xs.map((x) => Math.round(x * 10_000) / 100);

/** Numeric: one bar per bin, labelled by its range. */
export function histogramData(b: NumericBins): OverlayData {
  return { labels: b.reference.map((_, i) => `${fmt(b.edges[i])}–${fmt(b.edges[i + 1])}`), reference: pct(b.reference), current: pct(b.current) };
}

/** Categorical: one bar per category (the backend orders them by share and folds the tail into '(other)'). */
export function categoryData(b: CategoryBins): OverlayData {
  return { labels: [...b.categories], reference: pct(b.reference), current: pct(b.current) };
}

export interface TimelineData {
  score: { x: number; y: number }[];
  threshold: { x: number; y: number }[];
  /** Indexes of the checks where this method said drift (drawn as larger points). */
  drifted: number[];
}

export function timelineData(f: DriftTimeline['variants'][number]['features'][number]): TimelineData {
  return {
    score: f.points.map((p) => ({ x: p.t, y: p.score })),
    threshold: f.points.map((p) => ({ x: p.t, y: p.threshold })),
    drifted: f.points.flatMap((p, i) => (p.drift ? [i] : [])),
  };
}

const METHOD_NAMES: Record<string, string> = { psi: 'PSI', ks: 'KS p', wasserstein_norm: 'Wass/σ', jensen_shannon: 'JS', chi2: 'χ² p' };

/** "PSI > 0.2 · KS p < 0.05 · …": each method's threshold as this check used it (p-values drift below theirs). */
export function thresholdsText(f: DriftFeature): string {
  return f.methods.map((m) => `${METHOD_NAMES[m.method] ?? m.method} ${m.p_value !== undefined ? '<' : m.method === 'psi' ? '>' : '≥'} ${fmt(m.threshold)}`).join(' · ');
}

/** "reference 2000 rows (exact) · current 600 rows". */
export function samplesText(b: NumericBins | CategoryBins): string {
  const how = b.kind === 'numeric' ? (b.reference_exact ? ' (every value kept)' : ` (from a ${b.reference_points}-point sketch)`) : '';
  return `reference ${b.reference_count} rows${how} · current ${b.current_count} rows`;
}

export function methodName(m: string): string {
  return METHOD_NAMES[m] ?? m;
}
