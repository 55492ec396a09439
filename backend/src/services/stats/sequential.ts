/**
 * Always-valid sequential test for a difference in means (treatment − control): the mixture sequential probability
 * ratio test (mSPRT) of Johari, Pekelis & Walsh (2017, "Always valid inference") with a normal mixing distribution
 * N(0, τ²) over the effect. With the difference estimate Δ̂ and its variance V = s_t²/n_t + s_c²/n_c,
 *   Λ = √(V / (V + τ²)) · exp(τ²·Δ̂² / (2·V·(V + τ²))),
 * the always-valid p-value is p_n = min(p_{n−1}, 1/Λ_n), and the confidence sequence
 *   Δ̂ ± √(V·(V + τ²)/τ² · (ln((V + τ²)/V) + 2·ln(1/α))).
 * By Ville's inequality P(∃n: p_n ≤ α) ≤ α under H0, however often the results are looked at (asymptotically, as
 * V uses the sample variances). Tuning: τ² = (s_t² + s_c²)/n*, the variance of Δ̂ at n* observations per arm, which
 * makes the sequence tightest near n*; default n* = 5,000 per arm (GrowthBook's default tuning).
 */

export interface SequentialOptions {
  alpha: number;
  /** Per-arm sample size where the confidence sequence is tightest. */
  tuningN: number;
  /** Observations per arm before the first evaluation (variance estimates need a few). */
  minPerArm: number;
}

export const SEQUENTIAL_DEFAULTS: SequentialOptions = { alpha: 0.05, tuningN: 5000, minPerArm: 10 };

export interface SequentialState {
  n: [number, number];
  difference: number;
  /** Always-valid p-value (non-increasing over time). */
  pValue: number;
  /** The confidence sequence at this moment. */
  interval: [number, number];
  /** The running intersection of every interval so far: also valid at all times. */
  runningInterval: [number, number];
  /** 0-based index of the observation at which p first fell to α or below, or null. */
  rejectedAt: number | null;
  /** V = s_t²/n_t + s_c²/n_c at the last look (NaN before the first): Δ̂ ± z·√V is the fixed-n interval. */
  variance: number;
}

/** Mixture likelihood ratio Λ and confidence-sequence radius for one look. */
export function msprtLook(diff: number, v: number, tau2: number, alpha: number): { lambda: number; radius: number } {
  if (!(v > 0) || !(tau2 > 0)) return { lambda: 1, radius: Infinity };
  const logLambda = 0.5 * Math.log(v / (v + tau2)) + (tau2 * diff * diff) / (2 * v * (v + tau2));
  const radius = Math.sqrt(((v * (v + tau2)) / tau2) * (Math.log((v + tau2) / v) + 2 * Math.log(1 / alpha)));
  return { lambda: Math.exp(logLambda), radius };
}

/** Feeds observations one at a time (arm 0 = control, arm 1 = treatment), in arrival order. */
export class SequentialTest {
  readonly options: SequentialOptions;
  private count: [number, number] = [0, 0];
  private mean: [number, number] = [0, 0];
  private m2: [number, number] = [0, 0];
  private seen = 0;
  private p = 1;
  private lo = -Infinity;
  private hi = Infinity;
  private current: [number, number] = [-Infinity, Infinity];
  private rejected: number | null = null;
  private v = NaN;

  constructor(options: Partial<SequentialOptions> = {}) {
    this.options = { ...SEQUENTIAL_DEFAULTS, ...options };
  }

  add(arm: 0 | 1, x: number): void {
    const index = this.seen++;
    const n = ++this.count[arm];
    const d = x - this.mean[arm];
    this.mean[arm] += d / n;
    this.m2[arm] += d * (x - this.mean[arm]);
    this.evaluate(index);
  }

  private evaluate(index: number): void {
    const [nc, nt] = this.count;
    if (Math.min(nc, nt) < Math.max(2, this.options.minPerArm)) return;
    const vc = this.m2[0] / (nc - 1);
    const vt = this.m2[1] / (nt - 1);
    const v = vt / nt + vc / nc;
    const tau2 = (vt + vc) / this.options.tuningN;
    const diff = this.mean[1] - this.mean[0];
    this.v = v;
    const { lambda, radius } = msprtLook(diff, v, tau2, this.options.alpha);
    this.p = Math.min(this.p, 1 / lambda);
    this.current = [diff - radius, diff + radius];
    this.lo = Math.max(this.lo, diff - radius);
    this.hi = Math.min(this.hi, diff + radius);
    if (this.rejected === null && this.p <= this.options.alpha) this.rejected = index;
  }

  state(): SequentialState {
    return {
      n: [this.count[0], this.count[1]],
      difference: this.mean[1] - this.mean[0],
      pValue: this.p,
      interval: this.current,
      runningInterval: [this.lo, this.hi],
      rejectedAt: this.rejected,
      variance: this.v,
    };
  }
}
