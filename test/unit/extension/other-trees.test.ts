import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiRequestError } from '../../../extension/src/backend/http';
import { DriftModel, worst } from '../../../extension/src/drift/model';
import { AB_DRIFT, IRIS_DRIFT } from '../../fixtures/drift';
import { EndpointsModel, type EndpointView } from '../../../extension/src/endpoints/model';
import { JobsModel } from '../../../extension/src/jobs/model';
import { ModelsModel } from '../../../extension/src/models/model';

const notAvailable = () => new ApiRequestError(404, 'ENDPOINT_NOT_FOUND', 'No endpoint GET /api/v1/endpoints', '/api/v1/endpoints');

void test('models → versions with aliases and a deployed marker', async () => {
  const m = new ModelsModel(async () => ({
    models: async () => ({
      models: [
        {
          name: 'iris',
          last_updated_time: 1,
          versions: [
            { version: '2', run_id: 'r2', status: 'READY', creation_time: 2, aliases: ['challenger'], source: 'runs:/r2/model', onnx: false },
            { version: '1', run_id: 'r1', status: 'READY', creation_time: 1, aliases: ['champion'], source: 'runs:/r1/model', onnx: true },
          ],
        },
      ],
    }),
    deployed: async () => new Set(['iris/1']),
  }));
  const [model] = await m.children(undefined);
  assert.equal(m.view(model!).description, '2 versions · @challenger @champion');
  const versions = await m.children(model);
  assert.deepEqual(versions.map((v) => [m.view(v).label, m.view(v).description, m.view(v).contextValue]), [
    ['Version 2', '@challenger · no ONNX model', 'modelVersion'],
    ['Version 1', '@champion · ● deployed', 'modelVersion.deployed'],
  ]);
});

void test('models still list when serving is absent (no deployed markers)', async () => {
  const m = new ModelsModel(async () => ({
    models: async () => ({ models: [{ name: 'a', last_updated_time: 1, versions: [{ version: '1', run_id: null, status: 'READY', creation_time: 1, aliases: [], source: 's', onnx: true }] }] }),
    deployed: async () => {
      throw notAvailable();
    },
  }));
  const [model] = await m.children(undefined);
  const [v] = await m.children(model);
  assert.equal(m.view(v!).contextValue, 'modelVersion');
});

const endpoint: EndpointView = {
  name: 'iris',
  status: 'canary',
  health: 'ok',
  strategy: 'canary',
  variants: [
    { id: 'v1', model_name: 'iris', model_version: 1, role: 'stable', weight: 90, since: 0, requests_total: 200, errors_total: 2, window: {} as EndpointView['variants'][number]['window'], shadow: null, features: ['x'] },
    { id: 'v2', model_name: 'iris', model_version: 2, role: 'candidate', weight: 10, since: 0, requests_total: 20, errors_total: 0, window: {} as EndpointView['variants'][number]['window'], shadow: null, features: ['x'] },
  ],
  weights: { v1: 90, v2: 10 },
  canary: null,
  guardrails: { max_error_rate: 0.05, max_p99_ms: 100, min_requests: 20 },
  last_rollback: null,
  updated_at: 0,
};

void test('endpoints → variants with weights and health; a missing serving feature says so', async () => {
  const m = new EndpointsModel(async () => ({ endpoints: async () => [endpoint] }));
  const [ep] = await m.children(undefined);
  assert.equal(m.view(ep!).description, 'canary · iris/1 90% · iris/2 10% · ok');
  assert.equal(m.view(ep!).icon?.id, 'pass-filled');
  const vs = await m.children(ep);
  assert.deepEqual(vs.map((v) => [m.view(v).label, m.view(v).description]), [
    ['iris/1', 'stable · 90% · 1.0% errors'],
    ['iris/2', 'candidate · 10% · 0.0% errors'],
  ]);
  const absent = new EndpointsModel(async () => ({
    endpoints: async () => {
      throw notAvailable();
    },
  }));
  assert.equal(absent.view((await absent.children(undefined))[0]!).label, 'Serving is not available in this backend yet.');
});

void test('a ramping canary shows its step, the countdown to the next and the live split, re-rendered while it ramps', async () => {
  let now = 1_000_000;
  const ramping: EndpointView = { ...endpoint, canary: { steps: [1, 5, 10, 25, 50, 100], step: 1, percent: 5, interval_ms: 60_000, next_step_at: now + 40_000 } };
  const m = new EndpointsModel(async () => ({ endpoints: async () => [ramping] }), () => now, 20);
  let fired = 0;
  m.onDidChange(() => fired++);
  const [ep] = await m.children(undefined);
  assert.equal(m.view(ep!).description, 'canary step 2/6 · next in 40 s · iris/1 90% · iris/2 10% · ok');
  now += 39_500;
  assert.equal(m.view(ep!).description, 'canary step 2/6 · next in 1 s · iris/1 90% · iris/2 10% · ok');
  now += 1_000;
  assert.match(m.view(ep!).description!, /^canary step 2\/6 · next step due/);
  await new Promise((r) => setTimeout(r, 70));
  assert.ok(fired >= 2, 'the tree re-renders on its own while the canary ramps');
  m.dispose();
});

void test('jobs: running and queued first, with progress', async () => {
  const m = new JobsModel(
    async () => ({
      jobs: async () => [
        { job_id: 'j1', status: 'finished', run_id: null, launcher: 'local', created_at: 3 },
        { job_id: 'j2', status: 'queued', run_id: null, launcher: 'docker', created_at: 2 },
        { job_id: 'j3', status: 'running', run_id: 'r', launcher: 'docker', created_at: 1, started_at: 1000, progress: 0.42 },
      ],
      pipelines: async () => [],
    }),
    () => 61_000,
    { set: () => 1, clear: () => undefined },
  );
  const nodes = await m.children(undefined);
  assert.deepEqual(nodes.map((n) => [m.view(n).label, m.view(n).description, m.view(n).contextValue]), [
    ['j3', 'running · 42% · 1m 00s', 'job.active'],
    ['j2', 'queued', 'job.active'],
    ['j1', 'finished', 'job'],
  ]);
});

void test('drift: endpoints → features sorted by severity, worst severity on the endpoint; A/B endpoints list variants', async () => {
  const m = new DriftModel(async () => ({ drift: async () => [IRIS_DRIFT, AB_DRIFT] }));
  const [ep, ab] = await m.children(undefined);
  assert.equal(m.view(ep!).description, '2 of 3 features drifted');
  assert.equal(m.view(ep!).icon?.id, 'flame');
  const fs = await m.children(ep);
  assert.deepEqual(fs.map((f) => m.view(f).label), ['b', 'c', 'a']);
  assert.equal(m.view(fs[0]!).description, 'high · psi 0.400 (ks p=0.00010) · 4/4 votes');
  assert.match(m.view(fs[0]!).tooltip ?? '', /ks: p=0\.000100 \(threshold 0\.0500\) — drift/);
  assert.equal(m.view(ab!).description, '0 of 1 features drifted (vs first served window)');
  assert.match(m.view(ab!).tooltip ?? '', /churn\/2: first served window/);
  const variants = await m.children(ab);
  assert.deepEqual(variants.map((v) => [m.view(v).label, m.view(v).description]), [
    ['churn/2', 'stable · 0 of 1 drifted'],
    ['churn/3', 'candidate · insufficient data'],
  ]);
  const pending = await m.children(variants[1]);
  assert.deepEqual(pending.map((p) => m.view(p).label), ['12 logged rows since the reference; a check needs at least 30']);
  assert.equal(worst([]), 'none');
  const empty = new DriftModel(async () => ({ drift: async () => [] }));
  assert.deepEqual(await empty.children(undefined), [], 'no endpoints: no items, the view welcome shows');
});
