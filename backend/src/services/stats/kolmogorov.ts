/**
 * The distribution of the one-sample Kolmogorov–Smirnov statistic D_n for a finite n (what scipy calls `kstwo`),
 * which ks_2samp uses for large samples with n = round(n1·n2 / (n1 + n2)).
 *
 * Regimes, each from the mathematics:
 * - closed forms at the ends of the support (Ruben–Gambino for d ≤ 1/n, 2(1−d)^n near 1);
 * - d ≥ 1/2: the two one-sided events are disjoint, so P(D_n ≥ d) = 2·P(D⁺_n ≥ d) (Birnbaum–Tingey sum);
 * - otherwise the exact Durbin matrix formula (Marsaglia, Tsang & Wang 2003) while the matrix stays small;
 * - the Pelz–Good asymptotic series (terms up to 1/n) for large n, where its error is O(n^-3/2).
 */
import { logFactorial } from './special';

/** P(D_n ≥ d). */
export function kstwoSf(n: number, d: number): number {
  if (!(n >= 1)) throw new Error('kstwo needs n ≥ 1');
  if (d >= 1) return 0;
  if (d <= 1 / (2 * n)) return 1;
  if (n === 1) return 1 - (2 * d - 1);
  if (d <= 1 / n) return 1 - Math.exp(logFactorial(n) + n * Math.log(2 * d - 1 / n));
  if (d >= 1 - 1 / n) return 2 * Math.pow(1 - d, n);
  if (d >= 0.5) return Math.min(1, 2 * smirnovSf(n, d));
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  if (n <= 140 || m * m * m * Math.log2(n) <= 2e6) return clamp01(1 - durbinCdf(n, d));
  return clamp01(pelzGoodSf(n, d));
}

const clamp01 = (p: number): number => Math.min(1, Math.max(0, p));

/** One-sided P(D⁺_n ≥ d) by the Birnbaum–Tingey sum (all terms positive). */
export function smirnovSf(n: number, d: number): number {
  const jmax = Math.floor(n * (1 - d) + 1e-12);
  let sum = 0;
  const lnN = logFactorial(n);
  for (let j = 0; j <= jmax; j++) {
    const a = 1 - d - j / n;
    const b = d + j / n;
    const logTerm =
      lnN - logFactorial(j) - logFactorial(n - j) + (n - j) * (a > 0 ? Math.log(a) : -Infinity) + (j - 1) * Math.log(b);
    sum += Math.exp(logTerm);
  }
  return d * sum;
}

/** Exact P(D_n < d) by the Durbin matrix: the (k, k) entry of Hⁿ times n!/nⁿ, with exponent tracking. */
export function durbinCdf(n: number, d: number): number {
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  const h = k - n * d;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) H[i * m + j] = i - j + 1 >= 0 ? 1 : 0;
  for (let i = 0; i < m; i++) {
    H[i * m] = H[i * m]! - Math.pow(h, i + 1);
    H[(m - 1) * m + i] = H[(m - 1) * m + i]! - Math.pow(h, m - i);
  }
  if (2 * h - 1 > 0) H[(m - 1) * m] = H[(m - 1) * m]! + Math.pow(2 * h - 1, m);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) if (i - j + 1 > 0) H[i * m + j] = H[i * m + j]! / Math.exp(logFactorial(i - j + 1));
  const { mat, log2Scale } = matrixPower(H, m, n);
  const entry = mat[(k - 1) * m + (k - 1)]!;
  if (entry <= 0) return 0;
  const logP = Math.log(entry) + log2Scale * Math.LN2 + logFactorial(n) - n * Math.log(n);
  return Math.min(1, Math.exp(logP));
}

function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const ci = i * m;
    for (let l = 0; l < m; l++) {
      const av = a[ci + l]!;
      if (av === 0) continue;
      const bl = l * m;
      for (let j = 0; j < m; j++) c[ci + j] = c[ci + j]! + av * b[bl + j]!;
    }
  }
  return c;
}

// Keeps entries near 1 by pulling powers of two out into an exponent, so Hⁿ never overflows.
function rescale(a: Float64Array): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  if (max === 0 || (max > 1e-100 && max < 1e100)) return 0;
  const e = Math.floor(Math.log2(max));
  const f = Math.pow(2, -e);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! * f;
  return e;
}

function matrixPower(h: Float64Array, m: number, n: number): { mat: Float64Array; log2Scale: number } {
  let result: Float64Array | null = null;
  let resultScale = 0;
  let base = h;
  let baseScale = 0;
  let e = n;
  while (e > 0) {
    if (e & 1) {
      if (result === null) {
        result = base.slice();
        resultScale = baseScale;
      } else {
        result = matMul(result, base, m);
        resultScale += baseScale + rescale(result);
      }
    }
    e >>>= 1;
    if (e > 0) {
      base = matMul(base, base, m);
      baseScale = 2 * baseScale + rescale(base);
    }
  }
  return { mat: result!, log2Scale: resultScale };
}

/** Limiting Kolmogorov upper tail Q(z) = 2 Σ (−1)^{k−1} e^{−2k²z²}. */
export function kolmogorovLimitSf(z: number): number {
  if (z <= 0) return 1;
  if (z < 1) return 1 - kolmogorovLimitCdfSmall(z);
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * z * z);
    s += (k % 2 === 1 ? 1 : -1) * t;
    if (t < 1e-18) break;
  }
  return Math.min(1, 2 * s);
}

// K(z) = √(2π)/z Σ exp(−(2k−1)²π²/(8z²)), the form that converges fast for small z.
function kolmogorovLimitCdfSmall(z: number): number {
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-((2 * k - 1) ** 2) * Math.PI * Math.PI / (8 * z * z));
    s += t;
    if (t < 1e-18 * s) break;
  }
  return (Math.sqrt(2 * Math.PI) / z) * s;
}

/** Pelz–Good: P(D_n ≥ d) ≈ 1 − [K0(z) + K1(z)/√n + K2(z)/n] with z = d√n. */
export function pelzGoodSf(n: number, d: number): number {
  const z = d * Math.sqrt(n);
  const z2 = z * z;
  const pi2 = Math.PI * Math.PI;
  const rt = Math.sqrt(Math.PI / 2);
  let s1 = 0;
  let s2a = 0;
  let s2b = 0;
  for (let k = 0; k < 200; k++) {
    const u = (k + 0.5) ** 2 * pi2;
    const w = Math.exp(-u / (2 * z2));
    s1 += (u - z2) * w;
    s2a += (6 * z2 ** 3 + 2 * z2 * z2 + u * (2 * z2 * z2 - 5 * z2) + u * u * (1 - 2 * z2)) * w;
    const v = (k + 1) ** 2 * pi2;
    s2b += v * Math.exp(-v / (2 * z2));
    if (w < 1e-20 && k > 2) break;
  }
  const k1 = (rt / (6 * z2 * z2)) * 2 * s1;
  const k2 = (rt / (72 * z2 ** 3 * z)) * 2 * s2a - (rt / (36 * z2 * z)) * 2 * s2b;
  const tail = kolmogorovLimitSf(z);
  return tail - k1 / Math.sqrt(n) - k2 / n;
}

