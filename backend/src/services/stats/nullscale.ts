/**
 * Sample-size-aware thresholds for the distance methods. The configured thresholds (PSI 0.2, Wasserstein/σ 0.1,
 * JS 0.1) are effect sizes; on small batches sampling noise alone reaches them (at 200 rows per side two methods
 * voted drift on 62% of identical distributions). So each distance is also compared with the 99th percentile of
 * its own no-change distribution at the batch's sizes, and the effective threshold is the larger of the two.
 * With KS at α = 0.05 and the three distances at 1% each, a 2-vote drift needs at least one distance vote, so the
 * ensemble's no-change false-alarm rate is at most about 3% (union bound) at any size; from ~1,000 rows per side
 * the floor is the larger and nothing changes.
 */
import { chi2Sf } from './special';

/** The null quantile each distance is held to. */
export const NULL_QUANTILE = 0.99;

/**
 * 99th percentile of R = ∫|B(F(x))|dx / ∫√(F(1−F))dx, B a Brownian bridge: the limit of
 * W₁ / (√(1/n + 1/m) · ∫√(F(1−F))dx) when both samples come from F. E[R] = √(2/π) for every F; the tail depends on
 * F (and, at small n, on the reference's own estimate of the scale). Calibrated by simulation, 5,000 pairs each,
 * scale taken from the reference sample as the check does: n = m = 200: normal 1.77, uniform 1.94, exponential
 * 1.99, lognormal(σ = 1) 2.34; n = m = 2,000: 1.64, 1.90, 1.72, 1.83. 2.0 covers the light-tailed ones; a heavy
 * tail at 200 rows gets ~1.5% per method instead of 1%, still inside the ensemble's bound.
 */
export const WASSERSTEIN_NULL_Q99 = 2.0;

/** χ²_k quantile by bisection on the upper tail (k ≥ 1). */
export function chi2Quantile(p: number, k: number): number {
  let lo = 0;
  let hi = k + 20 * Math.sqrt(2 * k) + 20;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (1 - chi2Sf(mid, k) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const harmonic = (n: number, m: number) => 1 / n + 1 / m;

/**
 * PSI over B bins, no change: PSI = Σ (a − e)·ln(a/e) ≈ Σ (a − e)²/π (Jeffreys divergence to second order), and
 * Σ (a − e)²/π / (1/n + 1/m) is the chi-square homogeneity statistic, ≈ χ²_{B−1}. Null quantile: χ²_{B−1,q}·(1/n + 1/m).
 */
export function psiNullQuantile(bins: number, n: number, m: number, q = NULL_QUANTILE): number {
  return bins < 2 ? 0 : chi2Quantile(q, bins - 1) * harmonic(n, m);
}

/**
 * Jensen–Shannon distance (base 2) over B bins, no change. With d = p − q and μ = (p + q)/2,
 * KL(p‖μ) ≈ KL(q‖μ) ≈ Σ d²/(8μ), so JSD ≈ Σ d²/(8μ) nats = χ²·(1/n + 1/m)/(8 ln 2) bits, and the distance is
 * its square root: √(χ²_{B−1,q}·(1/n + 1/m)/(8 ln 2)).
 */
export function jsNullQuantile(bins: number, n: number, m: number, q = NULL_QUANTILE): number {
  return bins < 2 ? 0 : Math.sqrt((chi2Quantile(q, bins - 1) * harmonic(n, m)) / (8 * Math.LN2));
}

/**
 * ∫√(F(1−F))dx of the reference's ECDF, from its sorted values or its quantile sketch (point i of m sits at
 * F ≈ (i + 1)/m): the scale of the Wasserstein distance between two samples of F.
 */
export function wassersteinNullScale(sorted: ArrayLike<number>): number {
  const m = sorted.length;
  let s = 0;
  for (let i = 0; i + 1 < m; i++) {
    const f = (i + 1) / m;
    s += Math.sqrt(f * (1 - f)) * (sorted[i + 1]! - sorted[i]!);
  }
  return s;
}

/** Normalised Wasserstein, no change: R_q · ∫√(F(1−F))dx / σ · √(1/n + 1/m). */
export function wassersteinNullQuantile(sortedRef: ArrayLike<number>, std: number, n: number, m: number): number {
  return (WASSERSTEIN_NULL_Q99 * wassersteinNullScale(sortedRef) * Math.sqrt(harmonic(n, m))) / std;
}
