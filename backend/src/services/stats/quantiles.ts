/** Order statistics on ascending-sorted samples, with numpy's defaults. */

/** numpy's default ('linear', type 7) quantile of an ascending-sorted sample, 0 ≤ p ≤ 1. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  return quantileAt(sorted.length, p, (i) => sorted[i]!);
}

/** The ranks (0-based) numpy's linear quantile p of n values reads. */
export function quantileRanks(n: number, p: number): [number, number] {
  const lo = Math.floor((n - 1) * p);
  return [lo, Math.min(lo + 1, n - 1)];
}

/** numpy's linear quantile from the order statistic at each rank (`at(i)`, 0-based). */
export function quantileAt(n: number, p: number, at: (rank: number) => number): number {
  if (n === 0) throw new Error('quantile of an empty sample');
  const h = (n - 1) * p;
  const [lo, hi] = quantileRanks(n, p);
  const t = h - lo;
  const a = at(lo);
  const b = at(hi);
  // numpy's lerp: evaluated from the nearer end so t = 0 and t = 1 reproduce the data exactly.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** p50/p95/p99 (or any list) as numpy.percentile gives them. */
export function percentiles(values: ArrayLike<number>, ps: readonly number[] = [50, 95, 99]): Record<string, number> {
  const s = sortedCopy(values);
  return Object.fromEntries(ps.map((p) => [`p${p}`, quantileSorted(s, p / 100)]));
}

/** Index of the first element ≥ x (searchsorted side='left'). */
export function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x (searchsorted side='right'). */
export function upperBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Population mean and standard deviation (ddof = 0, numpy's default), two-pass for accuracy. */
export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(ss / n) };
}
