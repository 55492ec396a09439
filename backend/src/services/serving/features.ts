/**
 * Recent feature values of one served model: a ring of the last `size` rows, whose percentiles feed
 * `ml_feature_distribution`. Drift is not computed here: the drift service compares the prediction log with the
 * version's reference profile on demand (services/drift), so a request only copies its values into the ring.
 */
export class FeatureWindows {
  private readonly recent: Float64Array[];
  private recentCount = 0;

  constructor(
    readonly features: readonly string[],
    private readonly size = 1024,
  ) {
    this.recent = features.map(() => new Float64Array(size));
  }

  /** Row-major values, `features.length` per row. */
  add(values: Float64Array): void {
    const k = this.features.length;
    if (k === 0) return;
    for (let r = 0; r + k <= values.length; r += k) {
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
}
