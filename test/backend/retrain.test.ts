import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { PolicyView, RetrainView } from '../../backend/src/api/v1/contract-retrain';
import type { IncidentAlert } from '../../backend/src/services/monitors/alerts';
import { RETRAIN_TICK_MS } from '../../backend/src/services/retrain/service';
import { registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { call, serveLabelled, TRAIN } from '../helpers/retrain';

const FLOW = ['initiated', 'collecting', 'validating', 'training', 'evaluating', 'rolling_out', 'deployed'];

/** A pipeline whose steps are real local jobs: an optional wait (for the cancel test), then the Node trainer. */
const PIPELINE = `
name: retrain-iris
params: { data: "", sleep: 0, epochs: 500 }
steps:
  prepare:
    command: [sleep, "\${{ params.sleep }}"]
    cache: false
  train:
    needs: [prepare]
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]
    env: { TRAIN_CSV: "\${{ params.data }}", TRAIN_EPOCHS: "\${{ params.epochs }}" }
    outputs: [model.onnx, MLmodel]
    cache: false
`;

const incident = (id: string, status: 'firing' | 'resolved' = 'firing'): IncidentAlert => ({
  incidentId: id,
  monitorId: '1',
  endpoint: 'iris',
  kind: 'data_drift',
  severity: 'warning',
  status,
  summary: `data drift on 2 of 4 features (${id})`,
  description: 'test',
  startsAt: 0,
  endsAt: null,
  labels: {},
  evidencePath: '/api/v1/monitors/results/1',
});

const retrains = async (app: App) => (await call<{ retrains: RetrainView[] }>(app, 'GET', '/api/v1/retrains?endpoint=iris')).body.retrains;

void test('the retraining loop: manual, drift-triggered (debounce, cool-down), scheduled, cancelled', { timeout: 300_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-retrain-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: TOKEN, clock, jobs: { concurrency: 2 } });
  t.after(() => app.server.close());
  await app.server.ready();

  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` })).status, 200);
  await serveLabelled(app, sampleRows(300, 7));
  const dir = mkdtempSync(join(home, 'pipe-'));
  const pipeline = join(dir, 'mlops.yaml');
  writeFileSync(pipeline, PIPELINE);
  const base = { model: 'iris', endpoint: 'iris', pipeline, cooldown_s: 3600, daily_budget: 20, rollout: { strategy: 'canary', steps: [10, 50, 100], step_interval_s: 600 }, triggers: { schedule_every_s: null } };

  await t.test('policies are checked: misspelt settings, a relative pipeline, an impossible canary', async () => {
    for (const [body, msg] of [
      [{ ...base, cooldown: 5 }, /Unknown retrain policy setting\(s\): cooldown/],
      [{ ...base, promotion: { min_acc: 0.9 } }, /promotion\.min_acc/],
      [{ ...base, pipeline: 'mlops.yaml' }, /absolute path/],
      [{ ...base, pipeline: '/' }, /is not a file/],
      [{ ...base, pipeline: '/dev/zero' }, /is not a file/],
      [{ ...base, model_step: 'fit' }, /has no step 'fit'/],
      [{ ...base, data: { param: 'csv' } }, /declares no parameter 'csv'/],
      [{ ...base, rollout: { strategy: 'canary', steps: [50, 20] } }, /Canary steps/],
    ] as const) {
      const r = await call<{ error_code: string; message: string }>(app, 'PUT', '/api/v1/retrain/policies', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.message, msg);
    }
    assert.equal((await call<{ policies: unknown[] }>(app, 'GET', '/api/v1/retrain/policies')).body.policies.length, 0);
  });

  await t.test('a manual retrain runs end to end: data step, real pipeline job, offline comparison, canary', async () => {
    const set = await call<PolicyView>(app, 'PUT', '/api/v1/retrain/policies', base);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const started = await call<RetrainView>(app, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris', reason: 'labels say the concept moved' });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.equal(started.body.status, 'initiated');
    assert.deepEqual(started.body.evidence, { user: 'alice', reason: 'labels say the concept moved' });
    const r = await app.runtime.retrain.waitFor(started.body.id);
    assert.deepEqual(r.transitions.map((x) => x.status), FLOW.slice(0, 6), JSON.stringify(r.transitions, null, 1));
    assert.equal(r.status, 'rolling_out', 'the retrain follows its canary until it ends');
    assert.equal(r.trigger, 'manual');
    // The data step: 300 labelled rows, every fifth held out, features + label in the model's order.
    const csv = readFileSync(r.data_file!, 'utf8').trim().split('\n');
    assert.equal(csv[0], [...FEATURES, 'label'].join(','));
    assert.equal(csv.length - 1, 240);
    assert.match(r.transitions[2]!.reason, /300 labelled row\(s\) from the log \(0 skipped\) \+ 0 from the base file; 60 held out/);
    // The pipeline ran as real local jobs through the runner.
    const run = await call<{ status: string; steps: { step: string; status: string; job_id: string | null }[] }>(app, 'GET', `/api/v1/pipelines/runs/${r.pipeline_run_id}`);
    assert.equal(run.body.status, 'finished');
    assert.ok(run.body.steps.every((s) => s.status === 'finished' && s.job_id), JSON.stringify(run.body.steps));
    // The challenger is a new registered version, better than the champion on the holdout, rolled out as a canary.
    assert.equal(r.champion_version, 1);
    assert.equal(r.challenger_version, 2);
    assert.equal(r.decision?.verdict, 'better', JSON.stringify(r.decision));
    assert.ok((r.decision?.challenger_accuracy as number) >= 0.9 && (r.decision?.champion_accuracy as number) < 0.8, JSON.stringify(r.decision));
    const ep = await call<{ status: string; variants: { model_version: number; role: string; weight: number }[] }>(app, 'GET', '/endpoints/iris');
    assert.equal(ep.body.status, 'canary');
    assert.deepEqual(ep.body.variants.map((v) => [v.model_version, v.role, v.weight]).sort(), [
      [1, 'stable', 90],
      [2, 'candidate', 10],
    ]);
    assert.match(r.reason, /iris\/2 is candidate on iris at 10% \(canary step 1\/3; promoted when the ramp completes/);
    const audit = app.ctx.audit.list({ objectType: 'retrain', objectId: String(r.id) }).map((e) => e.action).reverse();
    assert.deepEqual(audit, FLOW.slice(0, 6).map((s) => `retrain.${s}`));

    // The canary finishes: version 2 is the endpoint's stable and @champion, and the retrain ends deployed.
    await clock.advance(3 * 600_000);
    const after = (await call<RetrainView>(app, 'GET', `/api/v1/retrains/${r.id}`)).body;
    assert.deepEqual(after.transitions.map((x) => x.status), FLOW);
    assert.match(after.reason, /iris\/2 is the stable of iris and @champion \(canary: canary ramp complete/);
    assert.equal(app.ctx.registry.getModel('iris').aliases?.find((a) => a.alias === 'champion')?.version, '2');
    assert.deepEqual(app.ctx.audit.list({ objectType: 'retrain', objectId: String(r.id) }).map((e) => e.action).reverse(), FLOW.map((s) => `retrain.${s}`));
  });

  await t.test('a drift incident starts exactly one retrain; the same incident again does not; a second waits for the cool-down', async () => {
    const before = (await retrains(app)).length;
    app.runtime.alerts.publish(incident('inc-1'));
    const mine = (await retrains(app)).filter((r) => r.incident_id === 'inc-1');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.trigger, 'drift');
    assert.equal(mine[0]!.evidence.summary, 'data drift on 2 of 4 features (inc-1)');
    app.runtime.alerts.publish(incident('inc-1'));
    await app.runtime.retrain.waitFor(mine[0]!.id);
    app.runtime.alerts.publish(incident('inc-1'));
    assert.equal((await retrains(app)).length, before + 1, 'debounced by incident id');
    const done = await app.runtime.retrain.waitFor(mine[0]!.id);
    assert.equal(done.status, 'rolling_out', `${done.status}: ${done.reason}`);
    assert.deepEqual(done.transitions.map((x) => x.status), FLOW.slice(0, 6));

    // A second incident within the hour's cool-down is held back, not dropped.
    app.runtime.alerts.publish(incident('inc-2'));
    assert.equal((await retrains(app)).length, before + 1);
    const held = (await call<{ policies: PolicyView[] }>(app, 'GET', '/api/v1/retrain/policies')).body.policies[0]!;
    assert.equal((held.deferred as { incident_id: string }).incident_id, 'inc-2');
    assert.equal(app.ctx.audit.list({ action: 'retrain.held' }).length, 1);
    await clock.advance(3_600_000 - 3 * RETRAIN_TICK_MS);
    assert.equal((await retrains(app)).length, before + 1, 'still cooling down');
    await clock.advance(4 * RETRAIN_TICK_MS);
    // The drift-triggered retrain's canary ramp completed during the hour: it was promoted, @champion with it.
    const promoted = (await call<RetrainView>(app, 'GET', `/api/v1/retrains/${mine[0]!.id}`)).body;
    assert.equal(promoted.status, 'deployed', promoted.reason);
    assert.equal(app.ctx.registry.getModel('iris').aliases?.find((a) => a.alias === 'champion')?.version, String(promoted.challenger_version));
    const second = (await retrains(app)).filter((r) => r.incident_id === 'inc-2');
    assert.equal(second.length, 1, 'started once the cool-down ended');
    assert.ok(second[0]!.created_at >= mine[0]!.created_at + 3_600_000);
    await app.runtime.retrain.waitFor(second[0]!.id);
  });

  await t.test('a scheduled retrain fires at its time on the virtual clock', async () => {
    const set = await call<PolicyView>(app, 'PUT', '/api/v1/retrain/policies', { ...base, triggers: { schedule_every_s: 7200, on_drift: false } });
    assert.equal(set.status, 200);
    const at = set.body.next_scheduled_at!;
    assert.equal(at, clock.now() + 7_200_000);
    const count = async () => (await retrains(app)).filter((r) => r.trigger === 'schedule').length;
    await clock.advance(7_200_000 - RETRAIN_TICK_MS);
    assert.equal(await count(), 0);
    await clock.advance(2 * RETRAIN_TICK_MS);
    const s = (await retrains(app)).filter((r) => r.trigger === 'schedule');
    assert.equal(s.length, 1);
    assert.equal(s[0]!.evidence.due_at, at);
    assert.ok(s[0]!.created_at >= at && s[0]!.created_at < at + 2 * RETRAIN_TICK_MS);
    const done = await app.runtime.retrain.waitFor(s[0]!.id);
    assert.ok(['rolling_out', 'rejected'].includes(done.status), `${done.status}: ${done.reason}`);
    // Its canary (if accepted) ends before the next test starts another retrain (max_concurrent 1).
    await clock.advance(3 * 600_000 + RETRAIN_TICK_MS);
    assert.notEqual((await call<RetrainView>(app, 'GET', `/api/v1/retrains/${s[0]!.id}`)).body.status, 'rolling_out');
    // A drift incident is ignored by a policy with on_drift off.
    app.runtime.alerts.publish(incident('inc-3'));
    assert.equal((await retrains(app)).filter((r) => r.incident_id === 'inc-3').length, 0);
  });

  await t.test('an untrained challenger is rejected offline; a held incident that resolves is dropped', async () => {
    assert.equal((await call(app, 'PUT', '/api/v1/retrain/policies', { ...base, params: { epochs: 0 } })).status, 200);
    const started = await call<RetrainView>(app, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris' });
    assert.equal(started.status, 201);
    const r = await app.runtime.retrain.waitFor(started.body.id);
    assert.deepEqual(r.transitions.map((x) => x.status), ['initiated', 'collecting', 'validating', 'training', 'evaluating', 'rejected'], r.reason);
    assert.equal(r.decision?.verdict, 'worse', JSON.stringify(r.decision));
    assert.equal(r.decision?.accepted, false);
    assert.match(r.reason, /^offline comparison: worse \(challenger .* vs champion .*\); the policy requires non_inferior$/);
    const ep = await call<{ variants: { model_version: number }[] }>(app, 'GET', '/endpoints/iris');
    assert.ok(!ep.body.variants.some((v) => v.model_version === r.challenger_version), 'the rejected version is not deployed');

    // The scheduled retrain above started the cool-down: inc-4 is held, then resolves, and never starts a retrain.
    app.runtime.alerts.publish(incident('inc-4'));
    assert.equal(((await call<{ policies: PolicyView[] }>(app, 'GET', '/api/v1/retrain/policies')).body.policies[0]!.deferred as { incident_id: string }).incident_id, 'inc-4');
    app.runtime.alerts.publish(incident('inc-4', 'resolved'));
    assert.equal((await call<{ policies: PolicyView[] }>(app, 'GET', '/api/v1/retrain/policies')).body.policies[0]!.deferred, null);
    await clock.advance(3_600_000 + 2 * RETRAIN_TICK_MS);
    assert.equal((await retrains(app)).filter((x) => x.incident_id === 'inc-4').length, 0);
  });

  await t.test('cancel stops the pipeline job and ends the retrain cancelled', async () => {
    assert.equal((await call(app, 'PUT', '/api/v1/retrain/policies', { ...base, params: { sleep: 60 } })).status, 200);
    const started = await call<RetrainView>(app, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris' });
    assert.equal(started.status, 201);
    for (let i = 0; i < 200; i++) {
      const r = (await call<RetrainView>(app, 'GET', `/api/v1/retrains/${started.body.id}`)).body;
      if (r.status === 'training') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const busy = await call<{ error_code: string }>(app, 'POST', '/api/v1/retrains', { model: 'iris', endpoint: 'iris' });
    assert.equal(busy.status, 409, 'max_concurrent 1');
    const c = await call<RetrainView>(app, 'POST', `/api/v1/retrains/${started.body.id}/cancel`, { reason: 'wrong data' });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.status, 'cancelled');
    assert.deepEqual(c.body.transitions.map((x) => x.status), ['initiated', 'collecting', 'validating', 'training', 'cancelled']);
    assert.match(c.body.reason, /cancelled by alice: wrong data/);
    const run = await call<{ status: string }>(app, 'GET', `/api/v1/pipelines/runs/${c.body.pipeline_run_id}`);
    assert.equal(run.body.status, 'cancelled');
    assert.equal((await call(app, 'POST', `/api/v1/retrains/${started.body.id}/cancel`, {})).status, 400);
  });
});
