/**
 * A numeric drift check against a reference profile in O(current batch), without sorting the batch.
 *
 * The reference's ECDF (its sketch, or every value for an exact profile) is a step function that is constant
 * between consecutive distinct reference values u_j. So each current value only needs to be placed in its bucket:
 * equal to some u_j, or strictly between two. Bucket counts give the exact KS gap at every u_j, and within a bucket
 * the gap after t of its r values is G − t·n1 (G the gap at the bucket's start), a straight line in t. That makes
 * the KS maximum a matter of the bucket's ends, and the Wasserstein area ∫|gap| a pair of sums split where the line
 * crosses zero: only the bucket's T-th smallest value is needed (quickselect), not its order. The counts below the
 * PSI and JS bin edges come from the same buckets. The results equal those of the sorted merge
 * (`ksAndWasserstein`) up to floating-point summation order; every term summed is non-negative.
 */
import { lowerBound } from './quantiles';

/** The reference side, prepared once per profile: distinct values, their cumulative counts, a lookup grid. */
export interface PreparedReference {
  /** Distinct reference (sketch) values, ascending. */
  u: Float64Array;
  /** cum[j] = reference (sketch) values ≤ u[j]. */
  cum: Float64Array;
  /** Sketch size: the reference's count in the KS and Wasserstein arithmetic. */
  n1: number;
  /** Equal-width cells over [u[0], u[q−1]]; start[c]..start[c+1] are the u indices whose cell is c. */
  start: Int32Array;
  cells: number;
  inv: number;
}

// Profiles are not modified once built, so the preparation is kept per points array for later checks.
const prepared = new WeakMap<ArrayLike<number>, PreparedReference>();

function prepare(points: ArrayLike<number>): PreparedReference {
  const hit = prepared.get(points);
  if (hit) return hit;
  const n1 = points.length;
  const u = new Float64Array(n1);
  const cum = new Float64Array(n1);
  let q = 0;
  for (let i = 0; i < n1; i++) {
    const v = points[i]!;
    if (q > 0 && u[q - 1] === v) cum[q - 1] = i + 1;
    else {
      u[q] = v;
      cum[q++] = i + 1;
    }
  }
  const span = u[q - 1]! - u[0]!;
  // About 16 cells per distinct value leave most cells without one, so most lookups take no search step (measured
  // fastest for 1M values against 2048); a zero or denormal span leaves one cell (a plain binary search).
  let cells = 1;
  while (cells < 16 * q && cells < 1 << 20) cells *= 2;
  let inv = span > 0 ? cells / span : 0;
  if (!Number.isFinite(inv) || inv === 0) {
    cells = 1;
    inv = 0;
  }
  const start = new Int32Array(cells + 1);
  // Cells come from the same monotone function for reference and current values, so a value in cell c lies
  // above every u of a lower cell and below every u of a higher one, whatever the rounding.
  for (let j = 0; j < q; j++) start[cellOf(u[j]!, u[0]!, inv, cells) + 1]!++;
  for (let c = 0; c < cells; c++) start[c + 1]! += start[c]!;
  const out = { u: u.subarray(0, q), cum: cum.subarray(0, q), n1, start, cells, inv };
  prepared.set(points, out);
  return out;
}

/** For lo ≤ x ≤ the top value: (x − lo)·inv is in [0, cells] and truncation is the floor. */
function cellOf(x: number, lo: number, inv: number, cells: number): number {
  const c = ((x - lo) * inv) | 0;
  return c < cells ? c : cells - 1;
}

export interface SketchComparison {
  /** KS gap in integer form against the sketch: max |i·n2 − j·n1|, D = h / (n1·n2). */
  h: number;
  d: number;
  wasserstein: number;
  /** Current values below each edge (searchsorted side='left'), one count per edge given. */
  below: number[];
}

/**
 * Working memory for compareToSketch, reused across the columns of one report: a fresh 8 MB array per column
 * costs about as much as the scatter itself (page faults).
 */
export class SketchScratch {
  private codes = new ArrayBuffer(0);
  private values = new ArrayBuffer(0);

  get(n: number, wide: boolean): { codes: Uint16Array | Int32Array; buf: Float64Array } {
    if (this.codes.byteLength < 4 * n) this.codes = new ArrayBuffer(4 * n);
    if (this.values.byteLength < 8 * n) this.values = new ArrayBuffer(8 * n);
    return { codes: wide ? new Int32Array(this.codes, 0, n) : new Uint16Array(this.codes, 0, n), buf: new Float64Array(this.values, 0, n) };
  }
}

/**
 * Values placed between distinct reference values u: interior bucket b holds those in (u[b−1], u[b]) (b = 0:
 * below u[0]; b = q: above u[q−1]), contiguous in buf[offsets[b], offsets[b + 1]) in arbitrary order; counts[2b]
 * is its size and counts[2j + 1] the number of values equal to u[j] (counted, not stored).
 */
export interface Buckets {
  ref: PreparedReference;
  counts: Int32Array;
  offsets: Int32Array;
  buf: Float64Array;
}

/** Places finite `values` (any order) into the buckets of the ascending reference `points`: O(n). */
export function bucketize(points: ArrayLike<number>, values: ArrayLike<number>, scratch = new SketchScratch()): Buckets {
  const ref = prepare(points);
  const { u, start, cells, inv } = ref;
  const q = u.length;
  const n2 = values.length;
  const u0 = u[0]!;
  const uMax = u[q - 1]!;
  const { codes, buf } = scratch.get(n2, q >= 0x7fff);
  const counts = new Int32Array(2 * q + 1);
  for (let i = 0; i < n2; i++) {
    const x = values[i]!;
    let code: number;
    if (x < u0) code = 0;
    else if (x > uMax) code = 2 * q;
    else {
      const c = cellOf(x, u0, inv, cells);
      let lo = start[c]!;
      let hi = start[c + 1]!;
      while (hi - lo > 4) {
        const mid = (lo + hi) >>> 1;
        if (u[mid]! <= x) lo = mid + 1;
        else hi = mid;
      }
      while (lo < hi && u[lo]! <= x) lo++;
      code = lo > 0 && u[lo - 1] === x ? 2 * lo - 1 : 2 * lo;
    }
    codes[i] = code;
    counts[code]!++;
  }
  // A counting sort by bucket: order inside a bucket is left as it comes.
  const offsets = new Int32Array(q + 2);
  for (let b = 0; b <= q; b++) offsets[b + 1] = offsets[b]! + counts[2 * b]!;
  const fill = offsets.slice(0, q + 1);
  for (let i = 0; i < n2; i++) {
    const code = codes[i]!;
    if ((code & 1) === 0) buf[fill[code >>> 1]!++] = values[i]!;
  }
  return { ref, counts, offsets, buf };
}

/** How many bucketed values lie below each edge (searchsorted side='left'). */
export function countBelow({ ref, counts, offsets, buf }: Buckets, edges: readonly number[]): number[] {
  const q = ref.u.length;
  const eqBefore = new Float64Array(q + 1);
  for (let j = 0; j < q; j++) eqBefore[j + 1] = eqBefore[j]! + counts[2 * j + 1]!;
  return edges.map((e) => {
    const k = lowerBound(ref.u, e);
    let n = offsets[k]! + eqBefore[k]!;
    for (let i = offsets[k]!; i < offsets[k + 1]!; i++) if (buf[i]! < e) n++;
    return n;
  });
}

/**
 * KS and Wasserstein between the reference `points` (ascending) and the finite current `values` (any order),
 * and the number of current values below each of `edges`.
 */
export function compareToSketch(points: ArrayLike<number>, values: ArrayLike<number>, edges: readonly number[], scratch = new SketchScratch()): SketchComparison {
  const buckets = bucketize(points, values, scratch);
  const { ref, counts, offsets, buf } = buckets;
  const { u, cum, n1 } = ref;
  const q = u.length;
  const n2 = values.length;
  const u0 = u[0]!;
  const uMax = u[q - 1]!;

  let h = 0;
  let area = 0;
  // Below u[0]: the gap after t values is −t·n1; the area is n1·Σ(u[0] − y).
  let s = 0;
  for (let k = 0; k < offsets[1]!; k++) s += u0 - buf[k]!;
  area += n1 * s;
  let consumed = counts[0]!;
  h = consumed * n1;
  for (let j = 0; j < q; j++) {
    consumed += counts[2 * j + 1]!;
    const g = cum[j]! * n2 - consumed * n1;
    if (Math.abs(g) > h) h = Math.abs(g);
    const from = offsets[j + 1]!;
    const r = offsets[j + 2]! - from;
    if (j === q - 1) {
      // Above the last reference value the gap after t values is n1·(r − t): area n1·Σ(y − u[q−1]).
      let t = 0;
      for (let k = from; k < from + r; k++) t += buf[k]! - uMax;
      area += n1 * t;
    } else if (r === 0) area += Math.abs(g) * (u[j + 1]! - u[j]!);
    else {
      const inner = bucketTerms(buf, from, r, g, n1, u[j]!, u[j + 1]!);
      area += inner.area;
      if (inner.h > h) h = inner.h;
    }
    consumed += r;
  }
  const below = countBelow(buckets, edges);
  return { h, d: h / (n1 * n2), wasserstein: area / n1 / n2, below };
}

/**
 * One interior bucket of r ≥ 1 values y (unordered in buf[from, from + r)) between y0 and yEnd, entered with gap
 * G. The gap is G − t·n1 after the t-th value: positive for t < T = ⌈G/n1⌉, and Σ|gap|·Δy splits there into
 * P = (G − (T−1)·n1)·(y_T − y0) + n1·Σ_{t<T}(y_t − y0) and N = (T·n1 − G)·(yEnd − y_T) + n1·Σ_{t>T}(yEnd − y_t).
 */
function bucketTerms(buf: Float64Array, from: number, r: number, g: number, n1: number, y0: number, yEnd: number): { area: number; h: number } {
  const end = from + r;
  // |G − t·n1| is convex in t, so inside the bucket it peaks at t = 0 (the gap at y0, already counted) or t = r.
  const h = Math.abs(g - r * n1);
  const T = g <= 0 ? 0 : Math.min(r + 1, Math.ceil(g / n1));
  let area = 0;
  if (T === 0) {
    let s = 0;
    for (let k = from; k < end; k++) s += yEnd - buf[k]!;
    area = -g * (yEnd - y0) + n1 * s;
  } else if (T === r + 1) {
    let s = 0;
    for (let k = from; k < end; k++) s += buf[k]! - y0;
    area = (g - r * n1) * (yEnd - y0) + n1 * s;
  } else {
    const at = from + T - 1;
    quickselect(buf, from, end - 1, at);
    const yT = buf[at]!;
    let left = 0;
    for (let k = from; k < at; k++) left += buf[k]! - y0;
    let right = 0;
    for (let k = at + 1; k < end; k++) right += yEnd - buf[k]!;
    area = (g - (T - 1) * n1) * (yT - y0) + n1 * left + (T * n1 - g) * (yEnd - yT) + n1 * right;
  }
  return { area, h };
}

/** Rearranges a[lo..hi] so that a[k] holds the value of that rank, smaller ones before it and larger after. */
export function quickselect(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi > lo) {
    // Median of three as the pivot keeps sorted or reversed input linear.
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
