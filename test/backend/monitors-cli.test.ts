import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { cli, ensureBuilt } from '../integration/serving/proc';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

void test('mlops monitor and mlops incidents drive the running backend', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  const { app, handshake } = await startServer({ home });
  t.after(() => app.server.close());
  const auth = { authorization: `Bearer ${handshake.token}`, 'content-type': 'application/json' };
  assert.equal((await fetch(`${handshake.url}/endpoints/iris/deploy`, { method: 'POST', headers: auth, body: JSON.stringify({ model: `iris/${v}` }) })).status, 200);
  const rows = sampleRows(300, 3);
  // 60 requests of 5 rows: the SLO check counts requests.
  for (let i = 0; i < rows.length; i += 5) {
    const r = await fetch(`${handshake.url}/endpoints/iris/invocations`, { method: 'POST', headers: auth, body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows.slice(i, i + 5) } }) });
    assert.equal(r.status, 200);
  }
  const mlops = (...a: string[]) => cli(home, ...a);

  const list = await mlops('monitor', 'list', 'iris');
  assert.equal(list.code, 0, list.stderr);
  for (const kind of ['data_drift', 'prediction_drift', 'concept_drift', 'performance']) assert.match(list.stdout, new RegExp(`iris\\s+${kind}\\s+5 min`));

  const set = await mlops('monitor', 'set', 'iris', 'performance', 'max_p99_ms=0', 'min_rows=50', 'failure_limit=1');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /max_p99_ms = 0/);
  const bad = await mlops('monitor', 'set', 'iris', 'performance', 'max_p99_msec=1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unknown monitor setting 'max_p99_msec'/);

  // Every request takes more than 0 ms: the SLO check fails and opens an incident at once.
  const run = await mlops('monitor', 'run-now', 'iris', 'performance');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^FAIL: iris\/1: SLO breached \(p99_latency\)/);
  assert.match(run.stdout, /incident #(\d+) \(open, critical\)/);
  const id = /incident #(\d+)/.exec(run.stdout)![1]!;

  const incidents = await mlops('incidents', 'list');
  assert.match(incidents.stdout, new RegExp(`#${id}\\s+open\\s+critical\\s+iris\\s+performance`));
  assert.notEqual((await mlops('incidents', 'ack', id)).code, 0, '--reason is required');
  assert.match((await mlops('incidents', 'ack', id, '--reason', 'known slow disk')).stdout, new RegExp(`incident #${id} acknowledged`));
  assert.match((await mlops('incidents', 'resolve', id, '--reason', 'SLO relaxed')).stdout, new RegExp(`incident #${id} resolved`));
  const shown = await mlops('incidents', 'show', id);
  assert.match(shown.stdout, /acknowledged .* by .*: known slow disk/);
  assert.match(shown.stdout, /resolved .* by .*: SLO relaxed/);

  assert.match((await mlops('monitor', 'pause', 'iris', 'data_drift')).stdout, /iris data_drift: paused/);
  const show = await mlops('monitor', 'show', 'iris', 'performance');
  assert.match(show.stdout, /iris · performance · next check/);
  assert.match(show.stdout, /fail\s+\d+\s+iris\/1: SLO breached/);
  assert.notEqual((await mlops('monitor', 'show', 'iris', 'bogus')).code, 0);
});
