/**
 * Fixed-horizon A/B statistics. Conventions: the first argument is the treatment, the second the control, so a
 * positive statistic or difference means "treatment higher". Variances are sample variances (ddof = 1).
 */
import { normalQuantile, normalSf, tQuantile, tSf } from './special';

export interface Summary {
  n: number;
  mean: number;
  /** Sample variance (ddof = 1). */
  variance: number;
}

export interface TTestResult {
  statistic: number;
  df: number;
  pValue: number;
}

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** Welford's running mean and variance. */
export function summarize(values: ArrayLike<number>): Summary {
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
  }
  const n = values.length;
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : 0 };
}

function requireTwo(a: Summary, b: Summary): void {
  if (a.n < 2 || b.n < 2) throw new Error('a t-test needs at least 2 observations per variant');
}

/** Welch's unequal-variance t-test (scipy ttest_ind(equal_var=False)). */
export function welchTTest(t: Summary, c: Summary): TTestResult {
  requireTwo(t, c);
  const vt = t.variance / t.n;
  const vc = c.variance / c.n;
  const se = Math.sqrt(vt + vc);
  if (se === 0) return degenerate(t.mean - c.mean, t.n + c.n - 2);
  const df = (vt + vc) ** 2 / (vt ** 2 / (t.n - 1) + vc ** 2 / (c.n - 1));
  const statistic = (t.mean - c.mean) / se;
  return { statistic, df, pValue: 2 * tSf(Math.abs(statistic), df) };
}

/** Student's pooled-variance t-test (scipy ttest_ind(equal_var=True)). */
export function studentTTest(t: Summary, c: Summary): TTestResult {
  requireTwo(t, c);
  const df = t.n + c.n - 2;
  const sp2 = ((t.n - 1) * t.variance + (c.n - 1) * c.variance) / df;
  const se = Math.sqrt(sp2 * (1 / t.n + 1 / c.n));
  if (se === 0) return degenerate(t.mean - c.mean, df);
  const statistic = (t.mean - c.mean) / se;
  return { statistic, df, pValue: 2 * tSf(Math.abs(statistic), df) };
}

// Both samples constant: equal means are no evidence (p = 1); different means are certain (p = 0).
function degenerate(diff: number, df: number): TTestResult {
  return diff === 0 ? { statistic: 0, df, pValue: 1 } : { statistic: Math.sign(diff) * Infinity, df, pValue: 0 };
}

/** Cohen's d with the pooled standard deviation (ddof = 1). */
export function cohensD(t: Summary, c: Summary): number {
  const sp2 = ((t.n - 1) * t.variance + (c.n - 1) * c.variance) / (t.n + c.n - 2);
  return sp2 > 0 ? (t.mean - c.mean) / Math.sqrt(sp2) : 0;
}

/** Mean difference with Welch's t interval (scipy's ttest_ind(...).confidence_interval()). */
export function meanDifferenceCI(t: Summary, c: Summary, confidence = 0.95): Interval {
  const { df } = welchTTest(t, c);
  const se = Math.sqrt(t.variance / t.n + c.variance / c.n);
  const q = tQuantile(1 - (1 - confidence) / 2, df);
  const estimate = t.mean - c.mean;
  return { estimate, lower: estimate - q * se, upper: estimate + q * se };
}

/**
 * Relative difference mean_t / mean_c − 1 with a delta-method normal interval:
 * Var ≈ s_t²/(n_t·m_c²) + m_t²·s_c²/(n_c·m_c⁴). Null when the control mean is 0.
 */
export function relativeDifferenceCI(t: Summary, c: Summary, confidence = 0.95): Interval | null {
  if (c.mean === 0) return null;
  const estimate = t.mean / c.mean - 1;
  const se = Math.sqrt(t.variance / (t.n * c.mean ** 2) + (t.mean ** 2 * c.variance) / (c.n * c.mean ** 4));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return { estimate, lower: estimate - z * se, upper: estimate + z * se };
}

export interface Proportion {
  successes: number;
  n: number;
}

/** Two-proportion z-test with the pooled proportion under H0 (two-sided). */
export function twoProportionZTest(t: Proportion, c: Proportion): { statistic: number; pValue: number } {
  if (t.n === 0 || c.n === 0) throw new Error('a proportion test needs observations in both variants');
  const pt = t.successes / t.n;
  const pc = c.successes / c.n;
  const pooled = (t.successes + c.successes) / (t.n + c.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / t.n + 1 / c.n));
  if (se === 0) return { statistic: 0, pValue: 1 };
  const statistic = (pt - pc) / se;
  return { statistic, pValue: 2 * normalSf(Math.abs(statistic)) };
}

/** Binary metrics as Summary (ddof = 1 variance of 0/1 values), so the interval code is shared. */
export function proportionSummary(p: Proportion): Summary {
  const mean = p.n > 0 ? p.successes / p.n : 0;
  return { n: p.n, mean, variance: p.n > 1 ? (p.n * mean * (1 - mean)) / (p.n - 1) : 0 };
}

/** Difference in proportions with the unpooled Wald interval. */
export function proportionDifferenceCI(t: Proportion, c: Proportion, confidence = 0.95): Interval {
  const pt = t.successes / t.n;
  const pc = c.successes / c.n;
  const se = Math.sqrt((pt * (1 - pt)) / t.n + (pc * (1 - pc)) / c.n);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return { estimate: pt - pc, lower: pt - pc - z * se, upper: pt - pc + z * se };
}

/** Relative lift p_t/p_c − 1 with the delta-method interval (binomial variances). Null when p_c = 0. */
export function proportionRelativeCI(t: Proportion, c: Proportion, confidence = 0.95): Interval | null {
  const pt = t.successes / t.n;
  const pc = c.successes / c.n;
  if (pc === 0) return null;
  const vt = (pt * (1 - pt)) / t.n;
  const vc = (pc * (1 - pc)) / c.n;
  const se = Math.sqrt(vt / pc ** 2 + (pt ** 2 * vc) / pc ** 4);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const estimate = pt / pc - 1;
  return { estimate, lower: estimate - z * se, upper: estimate + z * se };
}

/**
 * Observations per arm for a two-sided two-proportion z-test (equal arms, no continuity correction):
 * n = ⌈(z_{1−α/2}·√(2·p̄(1−p̄)) + z_{power}·√(p1(1−p1) + p2(1−p2)))² / (p2 − p1)²⌉, p̄ = (p1 + p2)/2.
 */
export function sampleSizeTwoProportions(p1: number, p2: number, alpha = 0.05, power = 0.8): number {
  if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1)) throw new Error('proportions must be strictly between 0 and 1');
  if (p1 === p2) throw new Error('the two proportions must differ (the minimum detectable effect is 0)');
  if (!(alpha > 0 && alpha < 1 && power > 0 && power < 1)) throw new Error('alpha and power must be in (0, 1)');
  const pbar = (p1 + p2) / 2;
  const za = normalQuantile(1 - alpha / 2);
  const zb = normalQuantile(power);
  const num = za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((num * num) / (p2 - p1) ** 2);
}

/** Holm–Bonferroni adjusted p-values (step-down, monotone), in the input's order. */
export function holmBonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
