/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as scipy's `ks_2samp(method='auto')` computes it:
 * the exact null distribution when both samples have ≤ 10,000 values, otherwise `kstwo` with
 * n = round(n1·n2/(n1+n2)) (round half to even, like numpy). Ties are handled in the statistic (both ECDFs are
 * evaluated after every value equal to the current one); the null distribution, like scipy's, assumes no ties.
 */
import { kstwoSf } from './kolmogorov';

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

export const KS_EXACT_MAX_N = 10_000;

/** D and its exact integer form max|i·n2 − j·n1| for two ascending-sorted samples. */
export function ksStatisticSorted(a: ArrayLike<number>, b: ArrayLike<number>): { d: number; h: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let h = 0;
  while (i < n1 && j < n2) {
    const v = Math.min(a[i]!, b[j]!);
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = Math.abs(i * n2 - j * n1);
    if (diff > h) h = diff;
  }
  // Once one sample is exhausted the gap only shrinks towards 0, so it cannot exceed the running maximum.
  return { d: h / (n1 * n2), h };
}

/** Two-sided p-value for an observed D = h/(n1·n2). */
export function ksPValue(n1: number, n2: number, h: number): { pValue: number; method: 'exact' | 'asymptotic' } {
  if (h === 0) return { pValue: 1, method: Math.max(n1, n2) <= KS_EXACT_MAX_N ? 'exact' : 'asymptotic' };
  const en = roundHalfEven((n1 * n2) / (n1 + n2));
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    // The exact pass costs about rows × band width; when that is large and the asymptotic tail is already below
    // 1e-10, the two cannot differ by more than that, so the exact pass is skipped (and the method says so).
    const cost = (Math.max(n1, n2) + 1) * Math.min(Math.min(n1, n2) + 1, (2 * h) / Math.max(n1, n2) + 1);
    if (cost > 2e7) {
      const p = kstwoSf(en, h / (n1 * n2));
      if (p < 1e-10) return { pValue: p, method: 'asymptotic' };
    }
    return { pValue: ksExactSf(n1, n2, h), method: 'exact' };
  }
  return { pValue: kstwoSf(en, h / (n1 * n2)), method: 'asymptotic' };
}

export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  if (a.length === 0 || b.length === 0) throw new Error('KS test needs two non-empty samples');
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  const { d, h } = ksStatisticSorted(sa, sb);
  return { statistic: d, ...ksPValue(sa.length, sb.length, h) };
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Exact P(D ≥ h/(n1·n2)) under H0: every interleaving of the two samples is equally likely, i.e. a uniformly
 * random monotone lattice path from (0,0) to (n1,n2). A forward pass carries the probability of having stayed
 * strictly inside the band |i·n2 − j·n1| < h; the answer is 1 minus what arrives at (n1,n2). Each step's
 * probability is the share of remaining values in that sample, so the pass works in probabilities (no
 * binomial-sized counts) and visits only the band: O(n1 · band width).
 */
export function ksExactSf(n1: number, n2: number, h: number): number {
  if (h <= 0) return 1;
  // Iterate over the larger sample so each row's band is short.
  if (n2 > n1) return ksExactSf(n2, n1, h);
  let prev = new Float64Array(n2 + 1);
  let cur = new Float64Array(n2 + 1);
  let prevLo = 0;
  let prevHi = -1;
  for (let i = 0; i <= n1; i++) {
    const lo = Math.max(0, Math.floor((i * n2 - h) / n1) + 1);
    const hi = Math.min(n2, Math.ceil((i * n2 + h) / n1) - 1);
    const remI = n1 - i + 1;
    for (let j = lo; j <= hi; j++) {
      let p = 0;
      if (i === 0 && j === 0) p = 1;
      if (i > 0 && j >= prevLo && j <= prevHi) p += (prev[j]! * remI) / (remI + (n2 - j));
      if (j > lo) p += (cur[j - 1]! * (n2 - j + 1)) / (n1 - i + (n2 - j + 1));
      cur[j] = p;
    }
    const t = prev;
    prev = cur;
    cur = t;
    prevLo = lo;
    prevHi = hi;
  }
  const inside = n2 >= prevLo && n2 <= prevHi ? prev[n2]! : 0;
  return Math.min(1, Math.max(0, 1 - inside));
}
