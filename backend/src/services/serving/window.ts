/**
 * The last requests of one variant (a bounded ring of latency and outcome), for guardrails and `GET /endpoints`:
 * error rate and p50/p99 over the most recent `windowMs`.
 */
export class RollingWindow {
  private readonly at: Float64Array;
  private readonly latency: Float64Array;
  private readonly failed: Uint8Array;
  private next = 0;
  private size = 0;
  total = 0;
  errors = 0;

  constructor(
    private readonly capacity = 4096,
    readonly windowMs = 30_000,
  ) {
    this.at = new Float64Array(capacity);
    this.latency = new Float64Array(capacity);
    this.failed = new Uint8Array(capacity);
  }

  record(latencyMs: number, ok: boolean, now = Date.now()): void {
    this.at[this.next] = now;
    this.latency[this.next] = latencyMs;
    this.failed[this.next] = ok ? 0 : 1;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
    this.total++;
    if (!ok) this.errors++;
  }

  summary(now = Date.now()): WindowSummary {
    // A typed array sorts numerically without a comparator: several times faster than number[] with one, and this
    // runs on the serving thread (guardrails every tick, each endpoint view).
    const all = new Float64Array(this.size);
    let n = 0;
    let errors = 0;
    for (let i = 0; i < this.size; i++) {
      if (now - this.at[i]! > this.windowMs) continue;
      all[n++] = this.latency[i]!;
      errors += this.failed[i]!;
    }
    const lat = all.subarray(0, n).sort();
    const q = (p: number): number | null => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]! : null);
    return { requests: lat.length, errors, errorRate: lat.length ? errors / lat.length : 0, p50Ms: q(0.5), p99Ms: q(0.99) };
  }

  reset(): void {
    this.size = 0;
    this.next = 0;
  }
}

export interface WindowSummary {
  requests: number;
  errors: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
}
