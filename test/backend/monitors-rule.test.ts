import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { IncidentView, MonitorResultView, MonitorView } from '../../backend/src/api/v1/contract-monitors';
import { AUTH, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { FEATURES } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { profiledStore } from '../helpers/monitors';

type Check = { result: MonitorResultView; incident: IncidentView | null };

const inject = async <T>(app: App, method: 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> => {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
};

void test('drift_rule any_feature: a shift in one feature of four opens a data-drift incident; the dataset rule (default) does not', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-rule-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const v = profiledStore(home, false);
  const app = await buildApp({ home, token: TOKEN, clock: new VirtualClock() });
  t.after(() => app.server.close());
  await app.server.ready();
  assert.equal((await inject(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  // 400 rows with only sepal_length moved by +1 (about 1.2σ of the training data).
  const rows = sampleRows(400, 8).map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]!]);
  for (let i = 0; i < rows.length; i += 20) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } } });
    assert.equal(r.statusCode, 200, r.body);
  }
  const dataset = (await inject<Check>(app, 'POST', '/api/v1/monitors/iris/data_drift/run')).body;
  assert.equal(dataset.result.status, 'pass', dataset.result.summary);
  assert.match(dataset.result.summary, /no data drift over 400 rows \(1 of 4 features drifted\)/);
  assert.equal(dataset.incident, null);

  const bad = await inject<{ error_code: string; message: string }>(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { drift_rule: 'any' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  const set = await inject<MonitorView>(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { drift_rule: 'any_feature' });
  assert.equal(set.status, 200);
  assert.equal(set.body.config.drift_rule, 'any_feature');
  const any = (await inject<Check>(app, 'POST', '/api/v1/monitors/iris/data_drift/run')).body;
  assert.equal(any.result.status, 'fail', any.result.summary);
  assert.match(any.result.summary, /^iris\/1: data drift on 1 of 4 features \(sepal_length \d\/\d votes\) over 400 rows \(rule: any feature\)$/);
  assert.equal(any.incident?.kind, 'data_drift');
  assert.deepEqual(any.incident?.evidence.features, ['sepal_length']);
});
