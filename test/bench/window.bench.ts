/**
 * The serving thread's rolling-window summary (RollingWindow.summary: error rate, p50 and p99 of the newest
 * requests), which the guardrails run every tick and every endpoint view runs, against the baseline it replaced
 * (copying the window into a number[] and sorting it with a comparator), on the same full window of 4,096
 * requests, in one run. Prints microseconds per summary (median of ROUNDS rounds of CALLS calls, the two sides
 * alternating) and the ratio.
 *
 * usage: npm run bench -- window
 */
import { loadavg } from 'node:os';
import { RollingWindow } from '../../backend/src/services/serving/window';

const CAPACITY = 4096;
const ROUNDS = 15;
const CALLS = 500;

const w = new RollingWindow(CAPACITY, 3_600_000);
const now = Date.now();
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const latencies = Array.from({ length: CAPACITY }, () => 0.2 + rnd() * rnd() * 5);
latencies.forEach((ms, i) => w.record(ms, rnd() > 0.01, now - CAPACITY + i));

/** The summary as it was before: number[] and a comparator. */
function baseline(): number {
  const lat: number[] = [];
  for (let i = 0; i < CAPACITY; i++) lat.push(latencies[i]!);
  lat.sort((a, b) => a - b);
  return lat[Math.ceil(0.99 * lat.length) - 1]!;
}

const p99 = w.summary(now).p99Ms;
if (p99 !== baseline()) throw new Error(`the two sides disagree: p99 ${p99} vs ${baseline()}`);

const time = (f: () => unknown): number => {
  const t = performance.now();
  for (let i = 0; i < CALLS; i++) f();
  return ((performance.now() - t) / CALLS) * 1000;
};
const ours: number[] = [];
const base: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  base.push(time(baseline));
  ours.push(time(() => w.summary(now)));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [b, o] = [median(base), median(ours)];
console.log(`date: ${new Date().toISOString()}; node ${process.version}; load average ${loadavg()[0]!.toFixed(1)}`);
console.log(`RollingWindow.summary, ${CAPACITY} requests: ${o.toFixed(1)} µs; number[] + comparator (baseline): ${b.toFixed(1)} µs; ${(b / o).toFixed(1)}x faster (median of ${ROUNDS} rounds of ${CALLS})`);
