/**
 * Fault injection for the crash tests: a process started with MLOPS_CRASH_AT=<point> kills itself with SIGKILL when it
 * reaches that point (the same as `kill -9` from outside, at an exact moment). Unset, it does nothing.
 */
export function crashPoint(point: string): void {
  if (process.env.MLOPS_CRASH_AT !== point) return;
  process.kill(process.pid, 'SIGKILL');
  // The signal is delivered at once; never go on past the point meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
}
