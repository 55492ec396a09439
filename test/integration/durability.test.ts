import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { api, startBackend, tempHome } from '../helpers/backend';

const BATCH = 200;

void test('kill -9 during a stream of log-batch calls loses no acknowledged write and leaves no partial batch', { timeout: 120_000 }, async () => {
  const home = tempHome();
  let b = await startBackend(home);
  const exp = (await api<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'crash' })).body.experiment_id;
  const run = (await api<{ run: { info: { run_id: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
  const acked = new Set<number>();
  const sent = new Set<number>();
  let next = 0;
  let stop = false;
  // four concurrent writers, each batch a distinct block of steps
  const writer = async () => {
    while (!stop) {
      const k = next++;
      sent.add(k);
      const metrics = Array.from({ length: BATCH }, (_, i) => ({ key: 'm', value: k * BATCH + i, timestamp: 1, step: k * BATCH + i }));
      try {
        const r = await api(b, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics, params: [{ key: `p${k}`, value: String(k) }] });
        if (r.status === 200) acked.add(k);
      } catch {
        return; // connection reset by the kill
      }
    }
  };
  const writers = [writer(), writer(), writer(), writer()];
  while (acked.size < 40) await new Promise((r) => setTimeout(r, 20));
  const code = await b.stop('SIGKILL');
  stop = true;
  await Promise.all(writers);
  assert.equal(code, null, 'the process was killed, not exited');
  assert.ok(existsSync(join(home, 'mlops.db-wal')), 'the kill left the write-ahead log behind, as a crash does');

  b = await startBackend(home);
  try {
    const hist = await api<{ metrics: { step: number; value: number }[] }>(b, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=m`);
    const steps = new Set(hist.body.metrics.map((m) => m.step));
    const got = await api<{ run: { data: { params?: { key: string }[] } } }>(b, 'GET', `/api/2.0/mlflow/runs/get?run_id=${run}`);
    const params = new Set((got.body.run.data.params ?? []).map((p) => p.key));
    for (const k of acked) {
      for (let i = 0; i < BATCH; i++) assert.ok(steps.has(k * BATCH + i), `acknowledged batch ${k} lost step ${i}`);
      assert.ok(params.has(`p${k}`), `acknowledged batch ${k} lost its param`);
    }
    // batches in flight at the kill are all there or all absent
    for (const k of sent) {
      const present = Array.from({ length: BATCH }, (_, i) => steps.has(k * BATCH + i));
      assert.ok(present.every((x) => x === present[0]), `batch ${k} is partial`);
      assert.equal(params.has(`p${k}`), present[0], `batch ${k}: params and metrics disagree`);
    }
    assert.ok(hist.body.metrics.length >= acked.size * BATCH);
  } finally {
    await b.stop();
  }
});

void test('SIGTERM finishes in-flight requests, closes the store and removes the handshake file', { timeout: 60_000 }, async () => {
  const home = tempHome();
  const b = await startBackend(home);
  assert.ok(existsSync(join(home, 'backend.json')));
  const exp = (await api<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'graceful' })).body.experiment_id;
  const run = (await api<{ run: { info: { run_id: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
  const inflight = Array.from({ length: 20 }, (_, k) =>
    api(b, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `k${k}`, value: i, timestamp: 1, step: i })) }).then(
      (r) => r.status,
      () => 'refused',
    ),
  );
  await inflight[0];
  const code = await b.stop('SIGTERM');
  const statuses = await Promise.all(inflight);
  assert.equal(code, 0);
  // a request is either served to the end or refused (503 while closing, or no connection): never cut midway
  assert.ok(statuses.every((s) => s === 200 || s === 503 || s === 'refused'), JSON.stringify(statuses));
  assert.equal(statuses[0], 200);
  assert.equal(existsSync(join(home, 'backend.json')), false);
  // the store is whole: reopen it and count what was acknowledged
  const again = await startBackend(home);
  try {
    for (const [k, s] of statuses.entries()) {
      if (s !== 200) continue;
      const hist = await api<{ metrics: unknown[] }>(again, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=k${k}`);
      assert.equal(hist.body.metrics.length, 1000, `acknowledged batch k${k}`);
    }
  } finally {
    await again.stop();
  }
});
