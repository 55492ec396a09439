import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Scheduler } from '../../../backend/src/services/scheduler';
import type { Logger } from '../../../backend/src/util/logger';
import { VirtualClock } from '../../helpers/clock';

function recordingLog(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => undefined, warn: () => undefined, error: (_o: unknown, msg?: string) => errors.push(msg ?? '') };
}

void test('scheduler: runs each task every interval on the injected clock, from the end of the last run', async () => {
  const clock = new VirtualClock();
  const s = new Scheduler({ clock, log: recordingLog() });
  const runs: number[] = [];
  const t0 = clock.now();
  s.add({ name: 'a', intervalMs: 1000, run: () => runs.push(clock.now() - t0) });
  await clock.advance(5000);
  assert.deepEqual(runs, [], 'nothing runs before start');
  s.start();
  await clock.advance(3500);
  assert.deepEqual(runs, [6000, 7000, 8000]);
  await s.stop();
  await clock.advance(5000);
  assert.equal(runs.length, 3, 'nothing runs after stop');
  assert.equal(clock.pending, 0);
});

void test('scheduler: a throwing or rejecting task is logged and runs again; other tasks are unaffected', async () => {
  const clock = new VirtualClock();
  const log = recordingLog();
  const s = new Scheduler({ clock, log });
  let bad = 0;
  let good = 0;
  s.add({ name: 'throws', intervalMs: 100, run: () => { bad++; throw new Error('boom'); } });
  s.add({ name: 'rejects', intervalMs: 100, run: async () => Promise.reject(new Error('async boom')) });
  s.add({ name: 'fine', intervalMs: 100, run: () => good++ });
  s.start();
  await clock.advance(1000);
  assert.equal(bad, 10);
  assert.equal(good, 10);
  assert.equal(log.errors.length, 20);
  assert.match(log.errors[0]!, /background task 'throws' failed/);
  assert.ok(log.errors.some((e) => e.includes("'rejects'")));
  await s.stop();
});

void test('scheduler: one run at a time per task; run-now joins the run in flight and re-times the next', async () => {
  const clock = new VirtualClock();
  const s = new Scheduler({ clock, log: recordingLog() });
  let active = 0;
  let most = 0;
  let calls = 0;
  let release: () => void = () => undefined;
  s.add({
    name: 'slow',
    intervalMs: 100,
    run: async () => {
      calls++;
      most = Math.max(most, ++active);
      await new Promise<void>((r) => (release = r));
      active--;
    },
  });
  s.start();
  await clock.advance(100);
  assert.equal(calls, 1);
  await clock.advance(1000);
  assert.equal(calls, 1, 'no second run while the first is in flight');
  const joined = s.runNow('slow');
  assert.equal(calls, 1, 'run-now joins the run in flight');
  release();
  await joined;
  assert.equal(most, 1);
  await clock.advance(99);
  assert.equal(calls, 1, 'the next run is timed from the end of the last');
  await clock.advance(1);
  assert.equal(calls, 2);
  release();
  await s.runNow('slow').then(() => undefined, () => undefined);
  await s.stop();
  assert.throws(() => s.runNow('missing'), /no task named 'missing'/);
});

void test('scheduler: jitter spreads runs within [interval, interval + jitter); a removed task stops', async () => {
  const clock = new VirtualClock();
  const draws = [0.5, 0.99, 0];
  let i = 0;
  const s = new Scheduler({ clock, log: recordingLog(), random: () => draws[i++ % draws.length]! });
  const at: number[] = [];
  const t0 = clock.now();
  const remove = s.add({ name: 'j', intervalMs: 1000, jitterMs: 200, run: () => at.push(clock.now() - t0) });
  assert.throws(() => s.add({ name: 'j', intervalMs: 1, run: () => undefined }), /already scheduled/);
  s.start();
  await clock.advance(3500);
  assert.deepEqual(at, [1100, 1100 + 1198, 1100 + 1198 + 1000]);
  remove();
  await clock.advance(5000);
  assert.equal(at.length, 3);
  assert.equal(clock.pending, 0);
  await s.stop();
});

void test('scheduler: idle() waits for the runs in flight; a clock moved on during a run arms the next run after the move', async () => {
  const clock = new VirtualClock();
  const s = new Scheduler({ clock, log: recordingLog() });
  let release: () => void = () => undefined;
  const runs: number[] = [];
  const t0 = clock.now();
  s.add({ name: 'slow', intervalMs: 1000, run: () => { runs.push(clock.now() - t0); return runs.length === 1 ? new Promise<void>((r) => (release = r)) : undefined; } });
  s.start();
  await clock.advance(1000);
  assert.deepEqual(runs, [1000]);
  let idle = false;
  const waiting = s.idle().then(() => (idle = true));
  // Moved on while the first run is in flight: its next run is timed from its end, which has not come.
  await clock.advance(5000);
  assert.equal(idle, false);
  assert.deepEqual(runs, [1000]);
  release();
  await waiting;
  await clock.advance(1000);
  assert.deepEqual(runs, [1000, 7000], 'the next run comes one interval after the end of the slow one');
  await s.stop();
});
