import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../backend/src/app';
import type { ModelCard } from '../../backend/src/api/v1/contract-card';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, actor = 'ana'): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, 'x-mlops-actor': actor }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** A finished run with metrics, a dataset and lineage; its id. */
async function trainingRun(app: App): Promise<string> {
  const { body } = await call<{ run: { info: { run_id: string } } }>(app, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'train-iris' });
  const id = body.run.info.run_id;
  await call(app, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'accuracy', value: 0.93, timestamp: 1, step: 0 }, { key: 'loss', value: 0.4, timestamp: 1, step: 0 }, { key: 'loss', value: 0.2, timestamp: 2, step: 1 }] });
  await call(app, 'POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'iris.csv', digest: 'd41d8cd9', source_type: 'local', source: 'data/iris.csv' } }] });
  const lin = await call(app, 'PUT', `/api/v1/runs/${id}/lineage`, { code_commit: '3f2a9c1e7b', code_dirty: true, image_digest: 'sha256:9b1e4c', command: 'python train.py' });
  assert.equal(lin.status, 200, JSON.stringify(lin.body));
  return id;
}

void test('model card: metrics, signature, profile summary, lineage, alias and deployment history from the audit log, gate', async (t) => {
  const app = await buildServingApp(t);
  const runId = await trainingRun(app);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION), { runId });
  const dir = app.ctx.artifacts.resolve(app.ctx.registry.getVersion('iris', v1).storage_location!.replace('mlflow-artifacts:/', ''));
  writeFileSync(join(dir, 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(500, 3).map((r) => r.join(',')).join('\n')}\n`);
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER), { mlmodel: null });
  assert.equal((await call(app, 'PUT', '/api/v1/models/iris/gates', { metrics: [{ metric: 'accuracy', op: '>=', value: 0.9 }] })).status, 200);
  // History: @champion set on 1, moved to 2 and back to 1 (with a reason); @staging on 2 only.
  for (const [alias, version, reason] of [['champion', v1, undefined], ['staging', v2, undefined], ['champion', v2, 'try the challenger'], ['champion', v1, 'challenger worse online']] as const) {
    const r = await call(app, 'POST', '/api/v1/models/iris/aliases', { alias, version: String(version), override: version === v2 && alias === 'champion' ? true : undefined, reason });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  assert.equal((await call(app, 'POST', '/endpoints/iris-ep/deploy', { model: `iris/${v1}` })).status, 200);
  assert.equal((await call(app, 'POST', '/endpoints/iris-ep/deploy', { model: `iris/${v2}`, strategy: 'canary', steps: [10, 100], step_interval_s: 3600 })).status, 200);
  assert.equal((await call(app, 'POST', '/endpoints/other/deploy', { model: `iris/${v2}` })).status, 200);

  const r = await call<ModelCard>(app, 'GET', `/api/v1/models/iris/versions/${v1}/card`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const c = r.body;
  assert.deepEqual([c.name, c.version, c.status, c.aliases], ['iris', '1', 'READY', ['champion']]);
  assert.deepEqual(c.run && [c.run.run_id, c.run.name, c.run.status], [runId, 'train-iris', 'RUNNING']);
  assert.deepEqual(c.metrics, [{ key: 'accuracy', value: 0.93 }, { key: 'loss', value: 0.2 }]);
  assert.deepEqual(c.signature.inputs, FEATURES.map((name) => ({ name, type: 'double', required: true })));
  assert.deepEqual(c.signature.outputs, [{ name: 'label', type: 'long', required: true }]);
  assert.deepEqual(c.signature.flavors, ['onnx', 'python_function']);
  assert.equal(c.profile.status, 'ready');
  assert.equal(c.profile.rows, 500);
  assert.deepEqual(c.profile.features.map((f) => [f.feature, f.kind, f.count]), FEATURES.map((f) => [f, 'numeric', 500]));
  const sl = sampleRows(500, 3).map((x) => x[0]!);
  assert.equal(c.profile.features[0]!.min, Math.min(...sl));
  assert.equal(c.profile.features[0]!.max, Math.max(...sl));
  assert.ok(Math.abs(c.profile.features[0]!.mean! - sl.reduce((a, b) => a + b, 0) / 500) < 1e-9);
  assert.deepEqual(c.lineage, { code_commit: '3f2a9c1e7b', code_dirty: true, image_digest: 'sha256:9b1e4c', command: 'python train.py', source_name: null, datasets: [{ name: 'iris.csv', digest: 'd41d8cd9', source: 'data/iris.csv' }] });
  assert.deepEqual(
    c.alias_history.map((e) => [e.action, e.subject, e.change, e.reason, e.actor]),
    [
      ['alias.move', '@champion', 'version 2 → 1', 'challenger worse online', 'ana'],
      ['alias.gate_override', '@champion', 'version 1 → 2', 'try the challenger', 'ana'],
      ['alias.move', '@champion', 'version 1 → 2', 'try the challenger', 'ana'],
      ['alias.set', '@champion', 'set to version 1', null, 'ana'],
    ],
    '@staging (on version 2 only) is not in version 1 history',
  );
  assert.deepEqual(
    c.deployments.map((e) => [e.action, e.subject, e.change]),
    [
      ['endpoint.deploy', 'iris-ep', 'iris/1 100% → iris/1 90% · iris/2 10%'],
      ['endpoint.deploy', 'iris-ep', 'nothing → iris/1 100%'],
    ],
    "the 'other' endpoint never served version 1",
  );
  assert.equal(c.gate?.configured, true);
  assert.equal(c.gate?.passed, true);
  assert.match(c.gate!.results[0]!.condition, /accuracy >= 0\.9/);

  const c2 = (await call<ModelCard>(app, 'GET', `/api/v1/models/iris/versions/${v2}/card`)).body;
  assert.equal(c2.run, null);
  assert.deepEqual(c2.metrics, []);
  assert.equal(c2.signature.inputs, null);
  assert.match(c2.signature.message!, /No MLmodel file/);
  assert.equal(c2.gate?.passed, false, 'no run, so no accuracy to meet the gate');
  assert.deepEqual(c2.deployments.map((e) => e.subject), ['other', 'iris-ep']);
  assert.deepEqual(c2.alias_history.map((e) => [e.action, e.subject]), [['alias.move', '@champion'], ['alias.gate_override', '@champion'], ['alias.move', '@champion'], ['alias.set', '@staging']]);

  const missing = await call<{ error_code: string; message: string }>(app, 'GET', '/api/v1/models/iris/versions/9/card');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  const nomodel = await call<{ error_code: string }>(app, 'GET', '/api/v1/models/nope/versions/1/card');
  assert.equal(nomodel.status, 404);
});
