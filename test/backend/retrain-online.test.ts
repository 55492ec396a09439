import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { ExperimentDetail, ExperimentView } from '../../backend/src/api/v1/contract-experiments';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { EXPERIMENT_TICK_MS } from '../../backend/src/services/retrain/experiments';
import { registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { call, serveLabelled, TRAIN } from '../helpers/retrain';


/** One real local job trains the challenger (the Node trainer; `faulty` makes a model that fails from x0 ≥ 3). */
const PIPELINE = `
name: retrain-online
params: { data: "", epochs: 500, faulty: "0" }
steps:
  train:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]
    env: { TRAIN_CSV: "\${{ params.data }}", TRAIN_EPOCHS: "\${{ params.epochs }}", TRAIN_FAULTY: "\${{ params.faulty }}" }
    outputs: [model.onnx, MLmodel]
    cache: false
`;

const endpoint = async (app: App) => (await call<{ variants: { id: string; role: string; weight: number }[] }>(app, 'GET', '/endpoints/iris')).body.variants.filter((v) => v.role !== 'previous').map((v) => `${v.id}:${v.role}:${v.weight}`).sort();
const champion = (app: App) => app.ctx.registry.getModel('iris').aliases?.find((a) => a.alias === 'champion')?.version;
const retrain = async (app: App, id: number) => (await call<RetrainView>(app, 'GET', `/api/v1/retrains/${id}`)).body;

async function setup(t: { after: (f: () => unknown) => void }, prefix: string): Promise<{ app: App; clock: VirtualClock; pipeline: string; home: string }> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: TOKEN, clock, jobs: { concurrency: 2 }, serving: { tickMs: 1000 } });
  t.after(() => app.server.close());
  await app.server.ready();
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` })).status, 200);
  assert.equal((await call(app, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris', alias: 'champion', version: String(v1) })).status, 200);
  await serveLabelled(app, sampleRows(300, 7));
  // The pipeline's folder is its working directory: not the store's.
  const pipeline = join(mkdtempSync(join(home, 'pipe-')), 'mlops.yaml');
  writeFileSync(pipeline, PIPELINE);
  return { app, clock, pipeline, home };
}

/** Starts a manual retrain under the policy and waits until its challenger is rolling out (or it ended before that). */
async function runRetrain(app: App, policy: object): Promise<RetrainView> {
  const set = await call(app, 'PUT', '/api/v1/retrain/policies', policy);
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const started = await call<RetrainView>(app, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await app.runtime.retrain.waitFor(started.body.id);
  return retrain(app, started.body.id);
}

void test('champion vs challenger online: the sequential test promotes, rejects; a guardrail rolls back; the gate refuses', { timeout: 300_000 }, async (t) => {
  const { app, clock, pipeline } = await setup(t, 'mlops-online-');
  const base = { model: 'iris', endpoint: 'iris', pipeline, triggers: { schedule_every_s: null }, rollout: { strategy: 'ab', weight: 50 }, experiment: { min_samples: 100 } };

  await t.test('a better challenger wins the A/B experiment: endpoint stable and @champion move in one step', async () => {
    const r = await runRetrain(app, base);
    assert.equal(r.status, 'rolling_out', r.reason);
    assert.deepEqual(await endpoint(app), ['iris/1:stable:50', 'iris/2:candidate:50']);
    const eid = (r.decision?.rollout as { experiment_id: number }).experiment_id;
    assert.match(r.reason, new RegExp(`experiment ${eid} decides`));
    let e = (await call<ExperimentDetail>(app, 'GET', `/api/v1/experiments/${eid}`)).body;
    assert.equal(e.status, 'running');
    assert.deepEqual([e.control, e.treatment, e.retrain_id, e.config.min_samples, e.config.require], ['iris/1', 'iris/2', r.id, 100, 'non_inferior']);

    // Too few labels: a look says so and decides nothing.
    await serveLabelled(app, sampleRows(60, 11));
    e = (await call<ExperimentDetail>(app, 'POST', `/api/v1/experiments/${eid}/look`)).body;
    assert.equal(e.status, 'running');
    assert.match(e.reason, /waiting for 100 labelled predictions per arm/);

    await serveLabelled(app, sampleRows(400, 12));
    await clock.advance(EXPERIMENT_TICK_MS);
    e = (await call<ExperimentDetail>(app, 'GET', `/api/v1/experiments/${eid}`)).body;
    assert.equal(e.status, 'promoted', e.reason);
    assert.ok(e.analysis!.running_interval![0] > -0.01, JSON.stringify(e.analysis));
    assert.ok(e.analysis!.treatment.accuracy! > e.analysis!.control.accuracy! + 0.1, JSON.stringify(e.analysis));
    assert.ok(e.looks.length >= 2 && e.looks.at(-1)!.low !== null, JSON.stringify(e.looks));
    assert.deepEqual(await endpoint(app), ['iris/2:stable:100']);
    assert.equal(champion(app), '2');
    const done = await retrain(app, r.id);
    assert.equal(done.status, 'deployed');
    assert.match(done.reason, /iris\/2 is the stable of iris and @champion \(mlops:experiment: experiment \d+: the challenger is no more than 1\.0 pts worse/);
    // One step: the promotion, the alias and both records share a transaction and follow each other in the audit log.
    const actions = app.ctx.audit.list({ limit: 6 }).map((a) => a.action);
    for (const a of ['endpoint.promote', 'alias.move', 'experiment.promoted', 'retrain.deployed']) assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  });

  await t.test('a challenger the offline check let through is rejected online by the sequential test', async () => {
    // An untrained (constant) model, let through offline by a margin of 90 points, must be better online.
    const r = await runRetrain(app, { ...base, params: { epochs: 0 }, promotion: { margin: 0.9 }, experiment: { min_samples: 100, require: 'better' } });
    assert.equal(r.status, 'rolling_out', r.reason);
    assert.equal(r.decision?.verdict, 'non_inferior');
    await serveLabelled(app, sampleRows(400, 13));
    await clock.advance(EXPERIMENT_TICK_MS);
    const eid = (r.decision?.rollout as { experiment_id: number }).experiment_id;
    const e = (await call<ExperimentView>(app, 'GET', `/api/v1/experiments/${eid}`)).body;
    assert.equal(e.status, 'rejected', e.reason);
    assert.match(e.reason, /the challenger is not better than the champion/);
    assert.deepEqual(await endpoint(app), ['iris/2:stable:100'], 'the challenger was rolled back');
    assert.equal(champion(app), '2', '@champion did not move');
    const done = await retrain(app, r.id);
    assert.equal(done.status, 'rejected');
    assert.match(done.reason, /iris\/3 rolled back to iris\/2 by mlops:experiment: experiment \d+: the challenger is not better/);
  });

  await t.test('a canary whose challenger fails on live traffic is rolled back by the guardrail; the retrain is rejected', async () => {
    const r = await runRetrain(app, { ...base, params: { faulty: '1' }, rollout: { strategy: 'canary', steps: [50, 100], step_interval_s: 600, guardrails: { max_error_rate: 0.05, min_requests: 20 } } });
    assert.equal(r.status, 'rolling_out', r.reason);
    assert.deepEqual(await endpoint(app), ['iris/2:stable:50', 'iris/4:candidate:50']);
    // A new segment of traffic (x0 ≥ 3) that the training data never had: the challenger fails on it.
    await serveLabelled(app, sampleRows(80, 14).map((row) => [row[0]! + 3, row[1]!, row[2]!, row[3]!]));
    await clock.advance(2000);
    assert.deepEqual(await endpoint(app), ['iris/2:stable:100']);
    const done = await retrain(app, r.id);
    assert.equal(done.status, 'rejected');
    assert.match(done.reason, /iris\/4 rolled back to iris\/2 by guardrail: guardrail: iris\/4 error rate/);
    assert.equal(champion(app), '2');
  });

  await t.test('the promotion gate refuses a challenger before it takes traffic', async () => {
    assert.equal((await call(app, 'PUT', '/api/v1/models/iris/gates', { tags: [{ key: 'validated' }] })).status, 200);
    const r = await runRetrain(app, base);
    assert.equal(r.status, 'rejected');
    assert.match(r.reason, /but the promotion gate of iris refuses @champion → 5: .*validated/);
    assert.deepEqual(await endpoint(app), ['iris/2:stable:100']);
    assert.equal((await call(app, 'PUT', '/api/v1/models/iris/gates', {})).status, 200);
  });
});

void test('an experiment started by hand: inconclusive at its deadline keeps the champion (or promotes, when told); a restart keeps it running', { timeout: 120_000 }, async (t) => {
  const { app, clock, home } = await setup(t, 'mlops-experiment-');
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const bad = await call<{ message: string }>(app, 'POST', '/api/v1/experiments', { endpoint: 'iris' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.message, /runs no A\/B split/);
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 30 })).status, 200);
  for (const [body, msg] of [
    [{ endpoint: 'iris', min_samples: 1 }, /min_samples must be a whole number from 10/],
    [{ endpoint: 'iris', alpha: 0.9 }, /alpha must be a number from 0.0001 to 0.5/],
  ] as const) {
    const r = await call<{ message: string }>(app, 'POST', '/api/v1/experiments', body);
    assert.equal(r.status, 400);
    assert.match(r.body.message, msg);
  }
  const started = await call<ExperimentView>(app, 'POST', '/api/v1/experiments', { endpoint: 'iris', min_samples: 5000, max_duration_s: 3600 });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  assert.equal(started.body.created_by, 'alice');
  assert.equal((await call(app, 'POST', '/api/v1/experiments', { endpoint: 'iris' })).status, 409, 'one running experiment per endpoint');
  await serveLabelled(app, sampleRows(100, 21));
  await clock.advance(EXPERIMENT_TICK_MS);
  await app.server.close();

  // A second backend on the same store: the A/B split and the experiment come back.
  const clock2 = new VirtualClock(clock.now());
  const b = await buildApp({ home, token: TOKEN, clock: clock2 });
  t.after(() => b.server.close());
  await b.server.ready();
  assert.deepEqual(await endpoint(b), ['iris/1:stable:70', 'iris/2:candidate:30']);
  let e = (await call<ExperimentDetail>(b, 'GET', `/api/v1/experiments/${started.body.id}`)).body;
  assert.equal(e.status, 'running');
  assert.ok(e.looks.length >= 1);
  await clock2.advance(3600_000);
  e = (await call<ExperimentDetail>(b, 'GET', `/api/v1/experiments/${started.body.id}`)).body;
  assert.equal(e.status, 'inconclusive', e.reason);
  assert.match(e.reason, /inconclusive at the deadline \(waiting for 5000 labelled predictions per arm.*the policy says keep the champion/);
  assert.deepEqual(await endpoint(b), ['iris/1:stable:100']);
  assert.equal(b.ctx.registry.getModel('iris').aliases?.find((a) => a.alias === 'champion')?.version, '1');

  // on_inconclusive: promote: the deadline promotes the challenger, and @champion moves with the endpoint.
  assert.equal((await call(b, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 30 })).status, 200);
  const second = await call<ExperimentView>(b, 'POST', '/api/v1/experiments', { endpoint: 'iris', min_samples: 5000, max_duration_s: 3600, on_inconclusive: 'promote' });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  await clock2.advance(3600_000 + EXPERIMENT_TICK_MS);
  e = (await call<ExperimentDetail>(b, 'GET', `/api/v1/experiments/${second.body.id}`)).body;
  assert.equal(e.status, 'inconclusive', e.reason);
  assert.match(e.reason, /the policy says promote/);
  assert.deepEqual(await endpoint(b), [`iris/${v2}:stable:100`]);
  assert.equal(b.ctx.registry.getModel('iris').aliases?.find((a) => a.alias === 'champion')?.version, String(v2));
});
