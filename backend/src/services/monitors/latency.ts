/**
 * The performance monitor's p99 latency SLO as a test, not as the window's largest value. "p99 ≤ L" means at most
 * 1 % of requests take longer than L. Over a window of n requests with k of them over L, the check fails only when
 * a one-sided binomial test rejects P(latency > L) ≤ 1 % at level α: P(X ≥ k) ≤ α for X ~ Binomial(n, 0.01).
 * The observed p99 of 30 requests is nearly their maximum, so one stall of a busy machine pushed it over the limit;
 * the test lets a stall or two pass (2 of 30: p = 0.036) and fails a regression at once (10 of 10: p = 10⁻²⁰).
 */
import { betaI } from '../stats/special';

/** The share of requests "p99 ≤ L" allows over L. */
export const SLO_EXCESS_SHARE = 0.01;
/** The test's level when a monitor's config has none (monitors stored before latency_alpha existed). */
export const DEFAULT_LATENCY_ALPHA = 0.001;

export interface LatencyTest {
  /** The observed p99 of the window (nearest rank), in ms. */
  p99_ms: number;
  limit_ms: number;
  /** Requests in the window, and how many took longer than the limit. */
  n: number;
  over: number;
  /** P(X ≥ over) for X ~ Binomial(n, 1 %): how likely that many are under an SLO that holds. */
  p_value: number;
  alpha: number;
  /** p_value ≤ alpha: the window shows the SLO broken. */
  breached: boolean;
}

/** P(X ≥ k) for X ~ Binomial(n, p), through the regularized incomplete beta function I_p(k, n − k + 1). */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return Math.min(1, Math.max(0, betaI(k, n - k + 1, p)));
}

/** The SLO test over a window's latencies (at least one). */
export function latencyTest(latencies: readonly number[], limitMs: number, alpha: number): LatencyTest {
  const sorted = [...latencies].sort((a, b) => a - b);
  const n = sorted.length;
  const over = sorted.filter((x) => x > limitMs).length;
  const pValue = binomialSf(over, n, SLO_EXCESS_SHARE);
  return { p99_ms: sorted[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]!, limit_ms: limitMs, n, over, p_value: pValue, alpha, breached: pValue <= alpha };
}
