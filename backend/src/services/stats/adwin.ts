/**
 * ADWIN (Bifet & Gavaldà, 2007): an adaptive window over a real-valued stream that drops its older part whenever
 * the two parts' means differ by more than ε_cut, and reports those moments as drift. The window is stored as an
 * exponential histogram (at most `maxBuckets` buckets of each size 2^k), so memory and time per check are
 * O(log W).
 *
 * ε_cut = √(2·(1/n0 + 1/n1)·σ²_W·ln(2/δ')) + (2/3)·(1/n0 + 1/n1)·ln(2/δ') (the variance form of the paper's
 * bound; σ²_W is the window's population variance). By default δ' = δ / W, the paper's union bound over the
 * window's cut points, which is what makes δ a bound on false alarms; `deltaPrime: 'ln'` uses δ / ln W as MOA and
 * river do, which detects sooner but alarms on stationary streams now and then (see test/bench/RESULTS.md).
 * Cuts are checked every `clock` observations, as in MOA/river.
 */

export interface Bucket {
  total: number;
  /** Sum of squared deviations from the bucket's mean. */
  variance: number;
  count: number;
}

export interface AdwinOptions {
  delta: number;
  maxBuckets: number;
  clock: number;
  minWindow: number;
  gracePeriod: number;
  deltaPrime: 'n' | 'ln';
}

/** What a detector needs to go on later (after a restart, or at the next check): the window as buckets and its sums. */
export interface AdwinState {
  levels: Bucket[][];
  total: number;
  variance: number;
  n: number;
  seen: number;
}

/** Count and sum of a part of the window. */
export interface WindowPart {
  n: number;
  total: number;
}

export const ADWIN_DEFAULTS: AdwinOptions = { delta: 0.002, maxBuckets: 5, clock: 32, minWindow: 5, gracePeriod: 10, deltaPrime: 'n' };

export class Adwin {
  readonly options: AdwinOptions;
  /** levels[k]: buckets of 2^k observations, oldest first; level k+1 holds older data than level k. */
  private levels: Bucket[][] = [[]];
  private total = 0;
  private variance = 0;
  private n = 0;
  private seen = 0;
  /** 0-based indices of the observations at which drift was detected (since this object was made or restored). */
  readonly detections: number[] = [];
  /**
   * At the last detection: the split of the window whose two parts differed (the first found, oldest first), before
   * the detector dropped its oldest buckets until no split differs.
   */
  lastCut: { before: WindowPart; after: WindowPart } | null = null;

  constructor(options: Partial<AdwinOptions> = {}, state?: AdwinState) {
    this.options = { ...ADWIN_DEFAULTS, ...options };
    if (!(this.options.delta > 0 && this.options.delta < 1)) throw new Error('ADWIN delta must be in (0, 1)');
    if (state) {
      this.levels = state.levels.length ? state.levels.map((l) => l.map((b) => ({ ...b }))) : [[]];
      this.total = state.total;
      this.variance = state.variance;
      this.n = state.n;
      this.seen = state.seen;
    }
  }

  /** The window and its sums, as plain data (JSON): `new Adwin(options, state)` goes on from here. */
  state(): AdwinState {
    return { levels: this.levels.map((l) => l.map((b) => ({ ...b }))), total: this.total, variance: this.variance, n: this.n, seen: this.seen };
  }

  /** Observations seen in all (not only those in the window). */
  get observed(): number {
    return this.seen;
  }

  get width(): number {
    return this.n;
  }

  get mean(): number {
    return this.n ? this.total / this.n : 0;
  }

  /** Adds one observation; true when it triggered a drift (the window then shrinks to the recent part). */
  update(x: number): boolean {
    if (!Number.isFinite(x)) throw new Error(`ADWIN: observation ${this.seen} is not a finite number`);
    const index = this.seen++;
    if (this.n > 0) {
      const mean = this.total / this.n;
      this.variance += (this.n * (x - mean) ** 2) / (this.n + 1);
    }
    this.n++;
    this.total += x;
    this.levels[0]!.push({ total: x, variance: 0, count: 1 });
    this.compress();
    if (this.seen % this.options.clock !== 0 || this.seen < this.options.gracePeriod || this.n < 2 * this.options.minWindow) return false;
    const drift = this.shrink();
    if (drift) this.detections.push(index);
    return drift;
  }

  private compress(): void {
    for (let k = 0; k < this.levels.length; k++) {
      const level = this.levels[k]!;
      if (level.length <= this.options.maxBuckets) break;
      const a = level.shift()!;
      const b = level.shift()!;
      if (!this.levels[k + 1]) this.levels.push([]);
      this.levels[k + 1]!.push(merge(a, b));
    }
  }

  private oldestFirst(): Bucket[] {
    const out: Bucket[] = [];
    for (let k = this.levels.length - 1; k >= 0; k--) out.push(...this.levels[k]!);
    return out;
  }

  private shrink(): boolean {
    let drift = false;
    for (;;) {
      const split = this.cutAt(this.oldestFirst());
      if (!split) return drift;
      if (!drift) this.lastCut = { before: split, after: { n: this.n - split.n, total: this.total - split.total } };
      drift = true;
      this.dropOldest();
    }
  }


  /**
   * The older part of the split whose two parts' means differ by the most (relative to ε_cut), among those that
   * differ by more than ε_cut: the best estimate of where the change is; null when no split differs.
   */
  private cutAt(buckets: Bucket[]): WindowPart | null {
    const { minWindow, delta } = this.options;
    const sigma2 = this.variance / this.n;
    const lnTerm = Math.log((2 * (this.options.deltaPrime === 'n' ? this.n : Math.log(this.n))) / delta);
    let n0 = 0;
    let t0 = 0;
    let best: WindowPart | null = null;
    let bestRatio = 1;
    for (let i = 0; i < buckets.length - 1; i++) {
      n0 += buckets[i]!.count;
      t0 += buckets[i]!.total;
      const n1 = this.n - n0;
      if (n0 < minWindow) continue;
      if (n1 < minWindow) break;
      const inv = 1 / n0 + 1 / n1;
      const eps = Math.sqrt(2 * inv * sigma2 * lnTerm) + (2 / 3) * inv * lnTerm;
      const ratio = Math.abs(t0 / n0 - (this.total - t0) / n1) / eps;
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = { n: n0, total: t0 };
      }
    }
    return best;
  }

  private dropOldest(): void {
    const level = this.levels[this.levels.length - 1]!;
    const b = level.shift()!;
    if (level.length === 0 && this.levels.length > 1) this.levels.pop();
    const restN = this.n - b.count;
    const restTotal = this.total - b.total;
    if (restN > 0) {
      const diff = b.total / b.count - restTotal / restN;
      this.variance = Math.max(0, this.variance - b.variance - (b.count * restN * diff * diff) / this.n);
    } else this.variance = 0;
    this.n = restN;
    this.total = restTotal;
  }
}

function merge(a: Bucket, b: Bucket): Bucket {
  const count = a.count + b.count;
  const diff = a.total / a.count - b.total / b.count;
  return { total: a.total + b.total, variance: a.variance + b.variance + (a.count * b.count * diff * diff) / count, count };
}
