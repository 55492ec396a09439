import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { openCore } from '../../backend/src/core';
import type { CoreContext } from '../../backend/src/context';
import { ThreadWriter, type LogRow } from '../../backend/src/services/serving/log-writer';
import { ServingRepository, type LogEntry } from '../../backend/src/services/serving/repository';
import { openSqlite } from '../../backend/src/store/sqlite';

function fileCore(t: TestContext): CoreContext {
  const home = mkdtempSync(join(tmpdir(), 'mlops-serving-log-'));
  const ctx = openCore(home);
  t.after(() => {
    if (ctx.db.open) ctx.db.close();
    rmSync(home, { recursive: true, force: true });
  });
  return ctx;
}

const entry = (i: number): LogEntry => ({
  requestId: `r-${i}`,
  endpoint: 'iris',
  variant: 'iris/1',
  modelName: 'iris',
  modelVersion: 1,
  features: { columns: ['a', 'b'], rows: [[i, i / 2]] },
  prediction: [i % 3],
  latencyMs: 0.1,
  ts: 1_700_000_000_000 + i,
});

const count = (ctx: CoreContext): number => (ctx.db.prepare('SELECT COUNT(*) AS n FROM prediction_log').get() as { n: number }).n;

void test('the prediction log of a database file is written by a worker thread; a read sees every row logged before it', (t) => {
  const ctx = fileCore(t);
  const repo = new ServingRepository(ctx.db, { maxRows: 1_000, maxPerSecond: 10_000 });
  for (let i = 0; i < 1_500; i++) repo.log(entry(i));
  // Nothing is written on this thread: the rows reach SQLite only through the writer.
  assert.equal(count(ctx), 0);
  const recent = repo.recent('iris', 3);
  assert.deepEqual(
    recent.map((r) => r.requestId),
    ['r-1499', 'r-1498', 'r-1497'],
  );
  assert.deepEqual(recent[0]!.features, { columns: ['a', 'b'], rows: [[1499, 749.5]] });
  // Bounded: the oldest rows beyond maxRows are trimmed.
  assert.equal(count(ctx), 1_000);
  assert.deepEqual(repo.feedback('iris', [{ requestId: 'r-1499', label: [2] }, { requestId: 'r-0', label: [0] }]), ['r-1499']);
  repo.close();
  assert.equal(count(ctx), 1_000);
});

void test('when the writer thread dies, queued and later rows are written on the calling thread', (t) => {
  const ctx = fileCore(t);
  const w = new ThreadWriter(ctx.db, 10_000);
  const row = (i: number): LogRow => [`r-${i}`, 'iris', 'iris/1', 'iris', 1, '{}', '[0]', 0.1, i];
  w.write([row(1), row(2)]);
  w.sync();
  assert.equal(count(ctx), 2);
  (w as unknown as { worker: Worker }).worker.postMessage({ close: true });
  w.write([row(3)]);
  w.sync();
  w.write([row(4)]);
  w.sync();
  assert.equal(count(ctx), 4);
  w.close();
});

void test('flushed() waits for the writer without blocking the event loop, and resolves once every row is committed', async (t) => {
  const ctx = fileCore(t);
  const repo = new ServingRepository(ctx.db, { maxRows: 10_000, maxPerSecond: 10_000 });
  t.after(() => repo.close());
  repo.flush();
  // Another connection holds the write lock, so the writer thread's commit waits (its busy timeout is 5 s).
  const other = openSqlite(ctx.db.name);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  for (let i = 0; i < 100; i++) repo.log(entry(i));
  let released = false;
  // Only a running event loop can release the lock: a flush that blocked it would wait out the writer's timeout.
  const timer = setTimeout(() => {
    assert.equal(count(ctx), 0, 'nothing is committed while the lock is held');
    other.exec('COMMIT');
    released = true;
  }, 50);
  const started = performance.now();
  await repo.flushed();
  clearTimeout(timer);
  assert.ok(released, 'the event loop ran (and released the lock) while flushed() waited');
  assert.equal(count(ctx), 100, 'every row logged before the flush is committed when it resolves');
  assert.ok(performance.now() - started < 4_000, 'it resolved at the commit, not at the writer timeout');
  assert.equal(repo.recent('iris', 1)[0]!.requestId, 'r-99');
});
