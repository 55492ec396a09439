import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EndpointDrift, ProfileInfo } from '../../../backend/src/api/v1/contract';
import { openCore } from '../../../backend/src/core';
import { sampleRows } from '../../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier, mlmodelYaml } from '../../fixtures/onnx/models';
import { cli, ensureBuilt, sleep, startBackend, type Backend } from './proc';

const csv = (rows: number[][]) => `${FEATURES.join(',')},species\n${rows.map((r) => `${r.join(',')},${r[0]! > r[2]! ? 1 : 0}`).join('\n')}\n`;
const shifted = (rows: number[][]) => rows.map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]! + 1]);

async function call<T>(b: Backend, method: string, path: string, body?: unknown, raw?: Uint8Array | string): Promise<T> {
  const r = await fetch(`${b.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${b.token}`, 'content-type': raw === undefined ? 'application/json' : 'application/octet-stream' },
    ...(raw !== undefined ? { body: typeof raw === 'string' ? raw : Buffer.from(raw) } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** What an MLflow training script leaves: a run with the model and its training data as artifacts, then a registered version. */
async function trainAndRegister(b: Backend, training: number[][]): Promise<string> {
  const exp = await call<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'drift-it' });
  const { run } = await call<{ run: { info: { run_id: string; artifact_uri: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id });
  const root = run.info.artifact_uri.replace('mlflow-artifacts:/', '');
  const put = (path: string, data: Uint8Array | string) => call(b, 'PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, undefined, data);
  await put('model/model.onnx', linearClassifier(CHAMPION));
  await put('model/MLmodel', mlmodelYaml());
  await put('reference_data.csv', csv(training));
  await call(b, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' });
  const { model_version } = await call<{ model_version: { version: string } }>(b, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: `runs:/${run.info.run_id}/model`, run_id: run.info.run_id });
  return model_version.version;
}

async function send(b: Backend, rows: number[][]): Promise<void> {
  // No wait after the last request: a drift check commits the predictions still queued for the log first.
  for (let i = 0; i < rows.length; i += 10) await call(b, 'POST', '/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 10) } });
}

void test('endpoint drift over real HTTP: profile at registration, unshifted traffic passes, shifted traffic is flagged, /metrics passes promtool', { timeout: 120_000 }, async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-drift-it-'));
  openCore(home).db.close();
  const b = await startBackend(home);
  t.after(async () => {
    await b.stop();
    rmSync(home, { recursive: true, force: true });
  });
  const v = await trainAndRegister(b, sampleRows(3000, 21));
  // Profiled in the background right after registration: poll the stored row, not a lazy computation.
  let info: ProfileInfo | null = null;
  for (let i = 0; i < 50 && info?.status !== 'ready'; i++) {
    await sleep(100);
    const db = new Database(join(home, 'mlops.db'), { readonly: true });
    const row = db.prepare("SELECT status FROM model_version_profiles WHERE name = 'iris'").get() as { status: string } | undefined;
    db.close();
    if (row?.status === 'ready') info = await call<ProfileInfo>(b, 'GET', `/api/v1/models/iris/versions/${v}/profile`);
  }
  assert.ok(info, 'the registration produced a profile');
  assert.equal(info.kind, 'training');
  assert.equal(info.rows, 3000);
  assert.match(info.source, /reference_data\.csv$/);
  assert.deepEqual(Object.keys(info.features), [...FEATURES]);

  assert.equal((await cli(home, 'deploy', `iris/${v}`, '--endpoint', 'iris')).code, 0);
  await send(b, sampleRows(500, 22));
  const calm = await cli(home, 'drift', 'endpoint', 'iris', '--json');
  assert.equal(calm.code, 0, calm.stderr);
  const calmReport = JSON.parse(calm.stdout) as EndpointDrift;
  assert.equal(calmReport.variants[0]!.reference?.kind, 'training');
  assert.equal(calmReport.variants[0]!.drift, false, calm.stdout);

  await send(b, shifted(sampleRows(500, 23)));
  const table = await cli(home, 'drift', 'endpoint', 'iris', '--window', '500');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /reference: training profile \(artifact .*reference_data\.csv\)/);
  assert.match(table.stdout, /^sepal_length .* high\s+DRIFT$/m);
  assert.match(table.stdout, /^sepal_width .* ok$/m);
  assert.match(table.stdout, /DRIFT: 2\/4 features drifted/);

  const text = await (await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${b.token}` } })).text();
  assert.match(text, /^ml_drift_score\{model_name="iris",feature_name="sepal_length",drift_method="ks"\} /m);
  const prom = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(prom.error, undefined, 'promtool is installed by .ci/setup-system.sh');
  assert.equal(prom.status, 0, `promtool: ${prom.stdout}${prom.stderr}`);

  // A profile set from the CLI (store opened directly beside the running backend) replaces the registered one.
  const file = join(home, 'train.csv');
  writeFileSync(file, csv(shifted(sampleRows(2000, 24))));
  const set = await cli(home, 'models', 'profile', `iris/${v}`, '--reference', file);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /iris\/1: training profile from file .*train\.csv, 2000 rows/);
  const shown = await cli(home, 'models', 'profile', `iris/${v}`);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^feature\s+kind\s+count\s+missing\s+mean\s+std\s+min\s+max$/m);
  assert.match(shown.stdout, /^sepal_length\s+numeric\s+2000\s+0\s/m);
  const after = JSON.parse((await cli(home, 'drift', 'endpoint', 'iris', '--window', '500', '--json')).stdout) as EndpointDrift;
  assert.equal(after.variants[0]!.drift, false, 'the shifted traffic matches the new (shifted) training data');
  const bad = await cli(home, 'models', 'profile', 'iris/9', '--reference', file);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /version=9\) not found/);
});
