/**
 * Distribution distances used for data drift: PSI, Wasserstein-1 and Jensen–Shannon, on sorted samples or on
 * histograms. All take the reference first and the current batch second.
 */
import { lowerBound, quantileSorted } from './quantiles';

/** Proportions that are exactly zero are replaced by this before PSI's logarithm. */
export const PSI_EPSILON = 1e-4;

/** PSI = Σ (a − e)·ln(a / e) over proportions, zeros replaced by PSI_EPSILON. */
export function psiFromCounts(expected: readonly number[], actual: readonly number[]): number {
  const te = sum(expected);
  const ta = sum(actual);
  let psi = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]! / te || PSI_EPSILON;
    const a = actual[i]! / ta || PSI_EPSILON;
    psi += (a - e) * Math.log(a / e);
  }
  return psi;
}

/** The reference's deciles (numpy linear): PSI's interior bin edges; the outer edges are −∞ and +∞. */
export function decileEdges(sortedRef: ArrayLike<number>): number[] {
  return [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => quantileSorted(sortedRef, k / 10));
}

/** Counts per bin [e_k, e_{k+1}) with −∞/+∞ outer edges, from a sorted sample. */
export function countsBetweenEdges(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const cuts = [0, ...edges.map((e) => lowerBound(sorted, e)), sorted.length];
  return cuts.slice(1).map((c, i) => c - cuts[i]!);
}

/** numpy.linspace(lo, hi, bins + 1) as numpy computes it, widening a zero range by ±0.5 as numpy.histogram does. */
export function equalWidthEdges(lo: number, hi: number, bins: number): number[] {
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const step = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => i * step + lo);
  edges[bins] = hi;
  return edges;
}

/**
 * Counts in equal-width bins (numpy.histogram semantics: [e_k, e_{k+1}), last bin closed), with values outside
 * the edges clipped into the end bins. Input sorted ascending.
 */
export function clippedHistogramSorted(sorted: ArrayLike<number>, edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts: number[] = [];
  let prev = 0;
  for (let k = 1; k <= bins; k++) {
    const cut = k === bins ? sorted.length : lowerBound(sorted, edges[k]!);
    counts.push(cut - prev);
    prev = cut;
  }
  return counts;
}

/** Jensen–Shannon distance (base 2, in [0, 1]) between two histograms over the same bins; scipy's definition. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const sp = sum(p);
  const sq = sum(q);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) js += a * Math.log(a / m);
    if (b > 0) js += b * Math.log(b / m);
  }
  return Math.sqrt(Math.max(0, js / 2) / Math.LN2);
}

/** Wasserstein-1 distance ∫|F − G| between the empirical distributions of two sorted samples. */
export function wassersteinSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return ksAndWasserstein(a, b).wasserstein;
}

/**
 * One merge of two sorted samples giving both the KS gap in exact integer form, h = max|i·n2 − j·n1| (so
 * D = h/(n1·n2)), and the Wasserstein-1 distance: the two share the walk, which costs about as much as
 * reading the data once.
 */
export function ksAndWasserstein(a: ArrayLike<number>, b: ArrayLike<number>): { h: number; d: number; wasserstein: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let gap = 0;
  let h = 0;
  let area = 0;
  let x = Math.min(a[0]!, b[0]!);
  // One element per step: a tie adds |gap|·0 to the area, and the gap counts for KS only once no copy of the value
  // is left on either side.
  while (i < n1 && j < n2) {
    const av = a[i]!;
    const bv = b[j]!;
    let v: number;
    if (av <= bv) {
      v = av;
      area += (gap < 0 ? -gap : gap) * (v - x);
      gap += n2;
      i++;
    } else {
      v = bv;
      area += (gap < 0 ? -gap : gap) * (v - x);
      gap -= n1;
      j++;
    }
    x = v;
    if ((i < n1 && a[i] === v) || (j < n2 && b[j] === v)) continue;
    const ag = gap < 0 ? -gap : gap;
    if (ag > h) h = ag;
  }
  // Once one sample is exhausted the gap shrinks towards 0; it still counts after the value that was tied when
  // the other side ran out.
  for (; i < n1; i++) {
    const v = a[i]!;
    area += (gap < 0 ? -gap : gap) * (v - x);
    gap += n2;
    x = v;
    if (i + 1 < n1 && a[i + 1] === v) continue;
    const ag = gap < 0 ? -gap : gap;
    if (ag > h) h = ag;
  }
  for (; j < n2; j++) {
    const v = b[j]!;
    area += (gap < 0 ? -gap : gap) * (v - x);
    gap -= n1;
    x = v;
    if (j + 1 < n2 && b[j + 1] === v) continue;
    const ag = gap < 0 ? -gap : gap;
    if (ag > h) h = ag;
  }
  return { h, d: h / (n1 * n2), wasserstein: area / n1 / n2 };
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
