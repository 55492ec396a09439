import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MonitorView } from '../../backend/src/api/v1/contract-monitors';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { parsePipeline } from '../../backend/src/services/pipelines/spec';
import { registerOnnxModel } from '../fixtures/onnx/harness';
import { cli, ensureBuilt } from '../integration/serving/proc';
import { CHAMPION, linearClassifier } from '../fixtures/onnx/models';

const PIPELINE = `name: train
steps:
  fit:
    command: [python, train.py]
`;

const MONITORING = `monitoring:
  endpoints:
    iris:
      all: { interval_minutes: 1 }
      data_drift: { window_rows: 500, min_rows: 50 }
      performance: { max_p99_ms: 250, latency_alpha: 0.01, paused: true }
    later:
      concept_drift: { detector: page_hinkley, min_rows: 40 }
`;

void test('mlops monitor apply: the monitoring: section of mlops.yaml sets monitors now and at an endpoint\'s first deploy', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-apply-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  let server = await startServer({ home });
  t.after(() => server.app.server.close());
  const api = async <T>(method: string, path: string, body?: object): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${server.handshake.url}${path}`, { method, headers: { authorization: `Bearer ${server.handshake.token}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as T };
  };
  const monitor = async (endpoint: string, kind: string) => (await api<MonitorView>('GET', `/api/v1/monitors/${endpoint}/${kind}`)).body;
  assert.equal((await api('POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  const mlops = (...a: string[]) => cli(home, ...a);

  // The pipeline in the same file still parses: monitoring: is not a pipeline key.
  const file = join(home, 'mlops.yaml');
  writeFileSync(file, PIPELINE + MONITORING);
  assert.equal(parsePipeline(PIPELINE + MONITORING, file).steps.length, 1);

  const before = Date.now();
  const applied = await mlops('monitor', 'apply', file);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /iris\s+data_drift\s+updated\s+1 min\s+500\s+50/);
  assert.match(applied.stdout, /iris\s+concept_drift\s+updated\s+1 min\s+2000\s+100/);
  assert.match(applied.stdout, /later\s+concept_drift\s+at first deploy\s+5 min\s+2000\s+40/);

  const dd = await monitor('iris', 'data_drift');
  assert.deepEqual([dd.config.interval_minutes, dd.config.window_rows, dd.config.min_rows, dd.paused], [1, 500, 50, false]);
  assert.ok(dd.next_run_at - before <= 60_000 + 6_000 + 5_000, `the new interval reschedules (next run in ${dd.next_run_at - before} ms)`);
  const perf = await monitor('iris', 'performance');
  assert.deepEqual([perf.config.interval_minutes, perf.config.max_p99_ms, perf.config.latency_alpha, perf.config.failure_limit, perf.paused], [1, 250, 0.01, 2, true]);
  const audit = (await api<{ events: { action: string; object_id: string; actor: string }[] }>('GET', '/api/v1/audit?object_type=monitor')).body.events;
  assert.ok(audit.some((e) => e.action === 'monitor.update' && e.object_id === 'iris/data_drift'), JSON.stringify(audit));
  assert.ok(audit.some((e) => e.action === 'monitor.pause' && e.object_id === 'iris/performance'), JSON.stringify(audit));

  // The same file again changes nothing.
  const again = await mlops('monitor', 'apply', file, '--json');
  assert.deepEqual([...new Set((JSON.parse(again.stdout) as { applied: { status: string }[] }).applied.map((a) => a.status))].sort(), ['pending', 'unchanged']);

  // Misspelt settings and kinds are refused by name; an impossible combination is refused before anything applies.
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_drift: { min_row: 10 }\n');
  const typo = await mlops('monitor', 'apply', file);
  assert.notEqual(typo.code, 0);
  assert.match(typo.stderr, /iris' data_drift: unknown monitor setting\(s\) 'min_row'/);
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_dirft: { min_rows: 10 }\n');
  assert.match((await mlops('monitor', 'apply', file)).stderr, /unknown monitor kind\(s\) 'data_dirft'/);
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      all: { interval_minutes: 7 }\n      data_drift: { window_rows: 100, min_rows: 300 }\n');
  assert.match((await mlops('monitor', 'apply', file)).stderr, /data_drift: min_rows \(300\) cannot exceed window_rows \(100\)/);
  assert.equal((await monitor('iris', 'prediction_drift')).config.interval_minutes, 1, 'nothing applied');
  writeFileSync(file, PIPELINE);
  const none = await mlops('monitor', 'apply', file);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /has no monitoring: section/);
  for (const body of [{ endpoints: [] }, { endpoints: { iris: { all: { interval_minutes: -1 } } } }, { endpoints: { iris: 'x' } }, { endpoints: {}, extra: 1 }, []]) {
    const r = await api<{ error_code: string }>('POST', '/api/v1/monitors/apply', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
  }

  // The settings outlive a restart and reach an endpoint deployed later; a setting left out returns to its default.
  writeFileSync(file, MONITORING);
  await server.app.server.close();
  server = await startServer({ home });
  assert.equal((await api('POST', '/endpoints/later/deploy', { model: `iris/${v}` })).status, 200);
  const later = await monitor('later', 'concept_drift');
  assert.deepEqual([later.config.detector, later.config.min_rows, later.config.interval_minutes], ['page_hinkley', 40, 5]);
  assert.equal((await monitor('later', 'data_drift')).config.min_rows, 200, 'kinds not named keep the defaults');
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_drift: { min_rows: 60 }\n');
  assert.equal((await mlops('monitor', 'apply', file)).code, 0);
  const reset = await monitor('iris', 'data_drift');
  assert.deepEqual([reset.config.interval_minutes, reset.config.window_rows, reset.config.min_rows], [5, 1000, 60]);
  assert.equal((await monitor('iris', 'performance')).paused, true, 'paused changes only when given');
});
