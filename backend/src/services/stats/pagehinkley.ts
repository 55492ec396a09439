/**
 * Page–Hinkley test for a change in the mean of a stream, both directions, with river's defaults: δ = 0.005
 * (magnitude tolerated), λ = 50 (alarm threshold, in the data's units), α = 0.9999 (forgetting factor), and no alarm
 * before 30 observations. Cumulative sums m_T = α·m_{T−1} + (x_T − x̄_T − δ) (and the mirror for decreases); an alarm
 * when m_T − min m > λ, after which the detector restarts.
 */
export interface PageHinkleyOptions {
  delta: number;
  threshold: number;
  alpha: number;
  minInstances: number;
  direction: 'both' | 'up' | 'down';
}

/** The detector's running sums, as plain data: `new PageHinkley(options, state)` goes on from here. */
export interface PageHinkleyState {
  seen: number;
  n: number;
  mean: number;
  up: number;
  upMin: number;
  down: number;
  downMin: number;
}

export const PAGE_HINKLEY_DEFAULTS: PageHinkleyOptions = { delta: 0.005, threshold: 50, alpha: 1 - 1e-4, minInstances: 30, direction: 'both' };

export class PageHinkley {
  readonly options: PageHinkleyOptions;
  readonly detections: number[] = [];
  private seen = 0;
  private n = 0;
  private mean = 0;
  private up = 0;
  private upMin = 0;
  private down = 0;
  private downMin = 0;

  /** At the last alarm: how many observations the detector had since its previous restart, and their mean. */
  lastRun: { n: number; mean: number } | null = null;

  constructor(options: Partial<PageHinkleyOptions> = {}, state?: PageHinkleyState) {
    this.options = { ...PAGE_HINKLEY_DEFAULTS, ...options };
    if (state) ({ seen: this.seen, n: this.n, mean: this.mean, up: this.up, upMin: this.upMin, down: this.down, downMin: this.downMin } = state);
  }

  state(): PageHinkleyState {
    return { seen: this.seen, n: this.n, mean: this.mean, up: this.up, upMin: this.upMin, down: this.down, downMin: this.downMin };
  }

  /** Observations since the last restart (alarm) and their mean. */
  get current(): { n: number; mean: number } {
    return { n: this.n, mean: this.mean };
  }

  update(x: number): boolean {
    if (!Number.isFinite(x)) throw new Error(`Page-Hinkley: observation ${this.seen} is not a finite number`);
    const index = this.seen++;
    const { alpha, delta, threshold, minInstances, direction } = this.options;
    this.n++;
    this.mean += (x - this.mean) / this.n;
    this.up = alpha * this.up + (x - this.mean - delta);
    this.down = alpha * this.down + (this.mean - x - delta);
    this.upMin = Math.min(this.upMin, this.up);
    this.downMin = Math.min(this.downMin, this.down);
    if (this.n < minInstances) return false;
    const upAlarm = direction !== 'down' && this.up - this.upMin > threshold;
    const downAlarm = direction !== 'up' && this.down - this.downMin > threshold;
    if (!upAlarm && !downAlarm) return false;
    this.detections.push(index);
    this.lastRun = { n: this.n, mean: this.mean };
    this.n = 0;
    this.mean = 0;
    this.up = this.upMin = this.down = this.downMin = 0;
    return true;
  }
}
