/**
 * The backend's one notion of time. Services that schedule or stamp take a Clock, so tests drive schedules with a
 * virtual clock (test/helpers/clock.ts) instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. Timers never keep the process alive. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * A clock that runs `speed` times faster than the wall clock from the moment the speed is set (`mlops demo`'s loop:
 * monitors every 5 minutes, canary steps and cool-downs pass in seconds). Timers set before a change keep their
 * wall-clock delay; the scheduler's next tick picks the new speed up.
 */
export class AcceleratedClock implements Clock {
  private base = Date.now();
  private wallBase = this.base;
  private speed = 1;

  now(): number {
    return this.base + (Date.now() - this.wallBase) * this.speed;
  }

  setSpeed(speed: number): void {
    if (!(speed > 0)) throw new Error(`clock speed must be positive; got ${speed}`);
    this.base = this.now();
    this.wallBase = Date.now();
    this.speed = speed;
  }

  setTimer(fn: () => void, ms: number): () => void {
    return systemClock.setTimer(fn, ms / this.speed);
  }
}
