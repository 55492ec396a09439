/**
 * Recent feature values of one served model: the first `size` values after it started serving are the
 * reference, the last `size` the current window. Percentiles of the current window and the PSI between the
 * two feed `ml_feature_distribution` and `ml_drift_score`.
 */
export class FeatureWindows {
  private readonly reference: Float64Array[];
  private readonly recent: Float64Array[];
  private refCount = 0;
  private recentCount = 0;

  constructor(
    readonly features: readonly string[],
    private readonly size = 1024,
  ) {
    this.reference = features.map(() => new Float64Array(size));
    this.recent = features.map(() => new Float64Array(size));
  }

  /** Row-major values, `features.length` per row. */
  add(values: Float64Array): void {
    const k = this.features.length;
    if (k === 0) return;
    for (let r = 0; r + k <= values.length; r += k) {
      if (this.refCount < this.size) {
        for (let c = 0; c < k; c++) this.reference[c]![this.refCount] = values[r + c]!;
        this.refCount++;
      }
      const slot = this.recentCount % this.size;
      for (let c = 0; c < k; c++) this.recent[c]![slot] = values[r + c]!;
      this.recentCount++;
    }
  }

  get observed(): number {
    return this.recentCount;
  }

  percentiles(feature: number, ps: readonly number[]): number[] | null {
    const n = Math.min(this.recentCount, this.size);
    if (n === 0) return null;
    const sorted = this.recent[feature]!.slice(0, n).sort();
    return ps.map((p) => sorted[Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))))]!);
  }

  /** Population stability index of the recent window against the reference (10 reference-quantile bins). */
  psi(feature: number): number | null {
    const nRef = Math.min(this.refCount, this.size);
    const nCur = Math.min(this.recentCount, this.size);
    if (nRef < 100 || nCur < 100) return null;
    return populationStability(this.reference[feature]!.slice(0, nRef), this.recent[feature]!.slice(0, nCur));
  }
}

export function populationStability(reference: Float64Array, current: Float64Array, bins = 10): number {
  const ref = reference.slice().sort();
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) edges.push(ref[Math.floor((i * ref.length) / bins)]!);
  const share = (xs: Float64Array): number[] => {
    const counts = new Array<number>(bins).fill(0);
    for (const x of xs) {
      let b = 0;
      while (b < edges.length && x >= edges[b]!) b++;
      counts[b]!++;
    }
    // A floor on empty bins keeps the log finite, as every PSI implementation does.
    return counts.map((c) => Math.max(c / xs.length, 1e-4));
  };
  const e = share(reference);
  const a = share(current);
  let psi = 0;
  for (let i = 0; i < bins; i++) psi += (a[i]! - e[i]!) * Math.log(a[i]! / e[i]!);
  return psi;
}
