/**
 * Order statistics of an unsorted sample at chosen ranks, without sorting it: splitters taken from a fixed
 * pseudo-random sample place every value in a bucket (`bucketize`, O(n)), and each wanted rank is then a
 * quickselect inside its bucket (about n/2048 values). A reference profile needs only ~2,070 ranks (the deciles'
 * and the sketch's), so building one costs a few passes over the data instead of a sort.
 */
import { SketchScratch, bucketize, countBelow, quickselect } from './bucketed';

const SAMPLE_SIZE = 16_384;
const SPLITTERS = 2048;
/** A bucket asked for more ranks than this is sorted instead of selected in repeatedly. */
const SORT_BUCKET_RANKS = 8;

export interface RankSelection {
  /** The value at each requested rank, in the order of `ranks`. */
  at: Float64Array;
  /** How many values lie below each edge (searchsorted side='left'). */
  below: (edges: readonly number[]) => number[];
}

/** `ranks` ascending, distinct, each in [0, n). `values` finite; they are not modified. */
export function selectRanks(values: Float64Array, ranks: readonly number[], scratch = new SketchScratch()): RankSelection {
  const n = values.length;
  const sample = new Float64Array(Math.min(SAMPLE_SIZE, n));
  // A fixed generator (Park–Miller) keeps profiles reproducible; positions are spread over the whole column so
  // that sorted or clustered input still gives representative splitters.
  let seed = 1;
  for (let i = 0; i < sample.length; i++) {
    seed = (seed * 48271) % 2147483647;
    sample[i] = values[Math.floor((i + seed / 2147483647) * (n / sample.length))]!;
  }
  sample.sort();
  const splitters = new Float64Array(Math.min(SPLITTERS, sample.length));
  for (let k = 0; k < splitters.length; k++) splitters[k] = sample[Math.floor(((k + 0.5) * sample.length) / splitters.length)]!;
  const buckets = bucketize(splitters, values, scratch);
  const { ref, counts, offsets, buf } = buckets;
  const q = ref.u.length;
  const at = new Float64Array(ranks.length);
  let ri = 0;
  let pos = 0;
  for (let b = 0; b <= q && ri < ranks.length; b++) {
    const from = offsets[b]!;
    const r = counts[2 * b]!;
    let last = ri;
    while (last < ranks.length && ranks[last]! < pos + r) last++;
    const sorted = last - ri > SORT_BUCKET_RANKS;
    if (sorted) buf.subarray(from, from + r).sort();
    // After a select at k, everything above k is ≥ it, so the next (larger) rank is searched for above k only.
    let lo = from;
    for (; ri < last; ri++) {
      const k = from + ranks[ri]! - pos;
      if (!sorted) quickselect(buf, lo, from + r - 1, k);
      at[ri] = buf[k]!;
      lo = k + 1;
    }
    pos += r;
    if (b < q) {
      const e = counts[2 * b + 1]!;
      for (; ri < ranks.length && ranks[ri]! < pos + e; ri++) at[ri] = ref.u[b]!;
      pos += e;
    }
  }
  return { at, below: (edges) => countBelow(buckets, edges) };
}
