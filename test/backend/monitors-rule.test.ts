import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from '../../backend/src/app';
import type { IncidentView, MonitorResultView, MonitorView } from '../../backend/src/api/v1/contract-monitors';
import { AUTH, sampleRows } from '../fixtures/onnx/harness';
import { FEATURES } from '../fixtures/onnx/models';
import { startServer } from '../../backend/src/server';
import { cli, ensureBuilt } from '../integration/serving/proc';
import { deployedProfiled, profiledStore } from '../helpers/monitors';

type Check = { result: MonitorResultView; incident: IncidentView | null };

const inject = async <T>(app: App, method: 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> => {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
};

/** 400 rows with only sepal_length moved by +1 (about 1.2σ of the training data). */
const oneFeatureMoved = () => sampleRows(400, 8).map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]!]);

void test('drift_rule any_feature: a shift in one feature of four opens a data-drift incident; the dataset rule (default) does not', async (t) => {
  const { app } = await deployedProfiled(t, 'mlops-monitor-rule-');
  const rows = oneFeatureMoved();
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
  assert.equal(bad.body.message, 'drift_rule must be one of dataset, any_feature; got "any"');
  const set = await inject<MonitorView>(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { drift_rule: 'any_feature' });
  assert.equal(set.status, 200);
  assert.equal(set.body.config.drift_rule, 'any_feature');
  const any = (await inject<Check>(app, 'POST', '/api/v1/monitors/iris/data_drift/run')).body;
  assert.equal(any.result.status, 'fail', any.result.summary);
  assert.match(any.result.summary, /^iris\/1: data drift on 1 of 4 features \(sepal_length \d\/\d votes\) over 400 rows \(rule: any feature\)$/);
  assert.equal(any.incident?.kind, 'data_drift');
  assert.deepEqual(any.incident?.evidence.features, ['sepal_length']);
});

void test('drift_rule set in mlops.yaml (mlops monitor apply) is the rule the data-drift checks use, at first deploy and when changed', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-rule-yaml-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const v = profiledStore(home, false);
  const server = await startServer({ home });
  t.after(() => server.app.server.close());
  const headers = { authorization: `Bearer ${server.handshake.token}`, 'content-type': 'application/json' };
  const post = (path: string, body: object) => fetch(`${server.handshake.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const mlops = (...a: string[]) => cli(home, ...a);
  const file = join(home, 'mlops.yaml');

  // Applied before the endpoint exists: its monitors get the rule at their first deploy.
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_drift: { drift_rule: any_feature, min_rows: 100 }\n');
  const applied = await mlops('monitor', 'apply', file, '--json');
  assert.equal(applied.code, 0, applied.stderr);
  const dd = (JSON.parse(applied.stdout) as { applied: { kind: string; status: string; config: { drift_rule: string } }[] }).applied.find((a) => a.kind === 'data_drift')!;
  assert.deepEqual([dd.status, dd.config.drift_rule], ['pending', 'any_feature']);
  assert.equal((await post('/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  const shown = await mlops('monitor', 'show', 'iris', 'data_drift', '--json');
  assert.equal((JSON.parse(shown.stdout) as MonitorView).config.drift_rule, 'any_feature');
  const rows = oneFeatureMoved();
  for (let i = 0; i < rows.length; i += 20) assert.equal((await post('/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } })).status, 200);

  const any = await mlops('monitor', 'run-now', 'iris', 'data_drift');
  assert.equal(any.code, 0, any.stderr);
  assert.match(any.stdout, /^FAIL: iris\/1: data drift on 1 of 4 features \(sepal_length \d\/\d votes\) over 400 rows \(rule: any feature\)\nincident #\d+ \(open, warning\)/);

  // The file changed to the dataset rule: the same window passes (one feature of four is not half of them).
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_drift: { drift_rule: dataset, min_rows: 100 }\n');
  assert.match((await mlops('monitor', 'apply', file)).stdout, /iris\s+data_drift\s+updated/);
  const dataset = await mlops('monitor', 'run-now', 'iris', 'data_drift');
  assert.match(dataset.stdout, /^PASS: iris\/1: no data drift over 400 rows \(1 of 4 features drifted\)/);
  // A misspelt rule in the file is refused by name, nothing applied.
  writeFileSync(file, 'monitoring:\n  endpoints:\n    iris:\n      data_drift: { drift_rule: any }\n');
  const bad = await mlops('monitor', 'apply', file);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /endpoint 'iris' data_drift: drift_rule must be one of dataset, any_feature; got "any"/);
  assert.equal((JSON.parse((await mlops('monitor', 'show', 'iris', 'data_drift', '--json')).stdout) as MonitorView).config.drift_rule, 'dataset');
});
