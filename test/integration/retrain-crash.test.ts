import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCore } from '../../backend/src/core';
import { openDb } from '../../backend/src/store/db';
import type { ExperimentDetail } from '../../backend/src/api/v1/contract-experiments';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { api, startBackend, tempHome, type RunningBackend } from '../helpers/backend';
import { ensureBuilt } from './serving/proc';

const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');
const PIPELINE = `
name: retrain-crash
params: { data: "" }
steps:
  train:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]
    env: { TRAIN_CSV: "\${{ params.data }}" }
    outputs: [model.onnx, MLmodel]
    cache: false
`;

async function serveLabelled(b: RunningBackend, rows: number[][]): Promise<void> {
  const feedback: { request_id: string; label: number }[] = [];
  for (const row of rows) {
    const r = await fetch(`${b.url}/endpoints/iris/invocations`, { method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: [row] } }) });
    assert.equal(r.status, 200, await r.text());
    feedback.push({ request_id: r.headers.get('x-request-id')!, label: row[1]! > 1.5 ? 1 : 0 });
  }
  assert.equal((await api(b, 'POST', '/endpoints/iris/feedback', { feedback })).status, 200);
}

/** What the store says, read straight from SQLite (no backend running): every champion alias row, the endpoint. */
function stored(home: string): { champions: number[]; endpoint: { variants: { id: string; role: string; weight: number }[] } } {
  const db = openDb(join(home, 'mlops.db'));
  try {
    const champions = db.prepare("SELECT version FROM registered_model_aliases WHERE name = 'iris' AND alias = 'champion'").pluck().all() as number[];
    const endpoint = JSON.parse(db.prepare("SELECT config FROM serving_endpoints WHERE name = 'iris'").pluck().get() as string) as { variants: { id: string; role: string; weight: number }[] };
    return { champions, endpoint };
  } finally {
    db.close();
  }
}

const split = (vs: { id: string; role: string; weight: number }[]) => vs.filter((v) => v.role !== 'previous').map((v) => `${v.id}:${v.role}:${v.weight}`).sort();

void test('kill -9 at the moment of promotion: the endpoint, @champion and the ledger all stay before it; after restart the experiment promotes once', { timeout: 180_000 }, async (t) => {
  ensureBuilt();
  const home = tempHome('mlops-retrain-crash-');
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const core = openCore(home);
  const v1 = registerOnnxModel(core, 'iris', linearClassifier(CHAMPION));
  core.registry.setAlias('iris', 'champion', String(v1), { actor: 'test' });
  core.db.close();
  const pipeline = join(mkdtempSync(join(home, 'pipe-')), 'mlops.yaml');
  writeFileSync(pipeline, PIPELINE);

  // The first backend kills itself (SIGKILL) inside the promotion's transaction.
  const a = await startBackend(home, [], { MLOPS_CRASH_AT: 'promotion' });
  t.after(() => a.stop('SIGKILL'));
  assert.equal((await api(a, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` })).status, 200);
  await serveLabelled(a, sampleRows(300, 7));
  const policy = { model: 'iris', endpoint: 'iris', pipeline, triggers: { schedule_every_s: null }, rollout: { strategy: 'ab', weight: 50 }, experiment: { min_samples: 100 } };
  assert.equal((await api(a, 'PUT', '/api/v1/retrain/policies', policy)).status, 200);
  const started = await api<RetrainView>(a, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  let r = started.body;
  // rolling_out is set before the challenger is deployed; the rollout (and its experiment) is recorded once it is.
  const rolledOut = (x: RetrainView) => x.status === 'rolling_out' && x.decision?.rollout !== undefined;
  for (let i = 0; i < 600 && !rolledOut(r) && !['deployed', 'rejected', 'failed', 'cancelled'].includes(r.status); i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = (await api<RetrainView>(a, 'GET', `/api/v1/retrains/${r.id}`)).body;
  }
  assert.equal(r.status, 'rolling_out', r.reason);
  const eid = (r.decision?.rollout as { experiment_id: number }).experiment_id;
  await serveLabelled(a, sampleRows(400, 12));
  // This look reaches a verdict and promotes: the process dies in the middle of it.
  await assert.rejects(api(a, 'POST', `/api/v1/experiments/${eid}/look`));
  assert.equal(await a.stop(), null, 'killed by a signal, not exited');
  assert.equal(a.proc.signalCode, 'SIGKILL');

  // Nothing of the promotion survived: one @champion, still version 1; the endpoint still splits.
  const crashed = stored(home);
  assert.deepEqual(crashed.champions, [1]);
  assert.deepEqual(split(crashed.endpoint.variants), ['iris/1:stable:50', 'iris/2:candidate:50']);

  const b = await startBackend(home);
  t.after(() => b.stop());
  assert.deepEqual(split((await api<{ variants: { id: string; role: string; weight: number }[] }>(b, 'GET', '/endpoints/iris')).body.variants), ['iris/1:stable:50', 'iris/2:candidate:50']);
  assert.equal((await api<RetrainView>(b, 'GET', `/api/v1/retrains/${r.id}`)).body.status, 'rolling_out');
  let e = (await api<ExperimentDetail>(b, 'GET', `/api/v1/experiments/${eid}`)).body;
  assert.equal(e.status, 'running');
  // The logged, labelled predictions survived too: the next look promotes, once.
  e = (await api<ExperimentDetail>(b, 'POST', `/api/v1/experiments/${eid}/look`)).body;
  assert.equal(e.status, 'promoted', e.reason);
  const done = (await api<RetrainView>(b, 'GET', `/api/v1/retrains/${r.id}`)).body;
  assert.equal(done.status, 'deployed', done.reason);
  assert.deepEqual(split((await api<{ variants: { id: string; role: string; weight: number }[] }>(b, 'GET', '/endpoints/iris')).body.variants), ['iris/2:stable:100']);
  const audit = (await api<{ events: { action: string; object_id: string }[] }>(b, 'GET', '/api/v1/audit?limit=200')).body.events;
  assert.equal(audit.filter((x) => x.action === 'endpoint.promote').length, 1, 'promoted exactly once');
  await b.stop();
  assert.deepEqual(stored(home).champions, [2]);
});
