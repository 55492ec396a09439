import { mulberry32 } from '../../util/random';
import { logFactorial } from './special';
import { quantileSorted } from './quantiles';

/**
 * Paired comparison of two classifiers scored on the same labelled rows (champion A, challenger B): McNemar's test
 * on the discordant pairs and a paired bootstrap interval for the accuracy difference B − A.
 */

export interface McNemar {
  /** Rows only B got right, and rows only A got right (the discordant pairs). */
  b_only: number;
  a_only: number;
  /** Exact two-sided p-value: 2·P(X ≤ min) for X ~ Binomial(b_only + a_only, ½), capped at 1 (statsmodels' exact=True). */
  p_exact: number;
  /** Mid-p: the exact p-value less P(X = min) (Fagerland, Lydersen and Laake 2013), less conservative at the same level. */
  p_mid: number;
}

export function mcnemar(bOnly: number, aOnly: number): McNemar {
  const n = bOnly + aOnly;
  const k = Math.min(bOnly, aOnly);
  if (n === 0) return { b_only: bOnly, a_only: aOnly, p_exact: 1, p_mid: 1 };
  const logHalfN = n * Math.LN2;
  const pmf = (i: number) => Math.exp(logFactorial(n) - logFactorial(i) - logFactorial(n - i) - logHalfN);
  let cdf = 0;
  for (let i = 0; i <= k; i++) cdf += pmf(i);
  const atK = pmf(k);
  return { b_only: bOnly, a_only: aOnly, p_exact: Math.min(1, 2 * cdf), p_mid: Math.min(1, 2 * cdf - atK) };
}

export interface BootstrapInterval {
  /** Observed accuracy of B minus accuracy of A. */
  diff: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
  seed: number;
}

/**
 * Percentile bootstrap of acc(B) − acc(A) over resampled rows (pairs kept together). Each row is +1 (only B right),
 * −1 (only A right) or 0, so a resample is n draws of a row index; the interval is numpy's linear quantiles of the
 * resampled differences. Seeded (mulberry32): the same inputs give the same interval.
 */
export function pairedBootstrap(rows: Int8Array, o: { resamples?: number; seed?: number; confidence?: number } = {}): BootstrapInterval {
  const resamples = o.resamples ?? 2000;
  const seed = o.seed ?? 20261205;
  const confidence = o.confidence ?? 0.95;
  const n = rows.length;
  if (n === 0) throw new Error('a paired bootstrap needs at least one row');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rows[i]!;
  const rnd = mulberry32(seed);
  const diffs = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += rows[Math.floor(rnd() * n)]!;
    diffs[r] = s / n;
  }
  diffs.sort();
  const tail = (1 - confidence) / 2;
  return { diff: sum / n, lower: quantileSorted(diffs, tail), upper: quantileSorted(diffs, 1 - tail), confidence, resamples, seed };
}

export type CompareVerdict = 'better' | 'non_inferior' | 'worse' | 'inconclusive';

/**
 * better: the interval's lower bound is above 0 and McNemar's mid-p is below α; non_inferior: the lower bound is
 * at or above −margin (B loses at most `margin` accuracy); worse: the upper bound is below 0 and the mid-p below α;
 * inconclusive otherwise (too few discordant rows to tell).
 */
export function compareVerdict(ci: Pick<BootstrapInterval, 'lower' | 'upper'>, test: Pick<McNemar, 'p_mid'>, margin: number, alpha: number): { verdict: CompareVerdict; reason: string } {
  const pct = (x: number) => `${(x * 100).toFixed(2)} pp`;
  const range = `[${pct(ci.lower)}, ${pct(ci.upper)}]`;
  if (ci.lower > 0 && test.p_mid < alpha) return { verdict: 'better', reason: `the interval ${range} is above 0 and McNemar's mid-p ${test.p_mid.toPrecision(3)} < ${alpha}` };
  if (ci.lower >= -margin) return { verdict: 'non_inferior', reason: `the interval ${range} stays at or above −${pct(margin)} (the non-inferiority margin)` };
  if (ci.upper < 0 && test.p_mid < alpha) return { verdict: 'worse', reason: `the interval ${range} is below 0 and McNemar's mid-p ${test.p_mid.toPrecision(3)} < ${alpha}` };
  return { verdict: 'inconclusive', reason: `the interval ${range} reaches below −${pct(margin)} without showing a loss (mid-p ${test.p_mid.toPrecision(3)})` };
}
