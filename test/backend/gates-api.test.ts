import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_KINDS, harness, M, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;
interface Refusal {
  error_code: string;
  message: string;
  details?: { gate: { passed: boolean; results: { condition: string; passed: boolean; actual: unknown }[] } };
}
interface AuditEv {
  action: string;
  actor: string;
  object_id: string;
  before: Obj | null;
  after: Obj | null;
  reason: string | null;
}

const at = 1_700_000_000_000;

/** A run with metrics (and tags), registered as a new version of `name`; returns the version. */
async function version(h: Harness, exp: string, name: string, metrics: Record<string, number>, tags: Record<string, string> = {}): Promise<{ v: string; run: string }> {
  const run = (await h.call<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', M('runs/create'), { experiment_id: exp, start_time: at })).body.run.info;
  const r = await h.call('POST', M('runs/log-batch'), {
    run_id: run.run_id,
    metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: at, step: 0 })),
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const mv = await h.call<{ model_version: { version: string } }>('POST', M('model-versions/create'), { name, source: `${run.artifact_uri}/model`, run_id: run.run_id });
  assert.equal(mv.status, 200, JSON.stringify(mv.body));
  return { v: mv.body.model_version.version, run: run.run_id };
}

for (const kind of DB_KINDS) {
  void describe(`promotion gates over /api/v1 and the MLflow alias route (${kind} database)`, () => {
    let h: Harness;
    let exp: string;
    before(async () => {
      h = await harness(kind);
      exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'gates' })).body.experiment_id;
      assert.equal((await h.call('POST', M('registered-models/create'), { name: 'churn' })).status, 200);
    });
    after(async () => {
      assert.deepEqual(h.serverErrors, []);
      await h.close();
    });

    void test('@champion moves only to a version that passes; the refusal names each failed condition and its value', async () => {
      const good = await version(h, exp, 'churn', { accuracy: 0.93, val_loss: 0.21 });
      const bad = await version(h, exp, 'churn', { accuracy: 0.85, val_loss: 0.41 });
      const noLoss = await version(h, exp, 'churn', { accuracy: 0.95 });
      // Without a gate anything goes (the registry as before).
      assert.equal((await h.call('POST', M('registered-models/alias'), { name: 'churn', alias: 'champion', version: bad.v })).status, 200);

      const put = await h.call<Obj>('PUT', '/api/v1/models/churn/gates', {
        metrics: [
          { metric: 'accuracy', op: '>=', value: 0.9 },
          { metric: 'val_loss', op: '<', value: 0.3 },
        ],
        tags: [{ key: 'validated' }],
      }, { 'x-mlops-actor': 'lead' });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.configured, true);
      assert.equal(put.body.data_validation, 'if_recorded');
      const shown = await h.call<Obj>('GET', '/api/v1/models/churn/gates');
      assert.deepEqual(shown.body.metrics, [{ metric: 'accuracy', op: '>=', value: 0.9 }, { metric: 'val_loss', op: '<', value: 0.3 }]);
      assert.equal(shown.body.updated_by, 'lead');

      // The good version lacks the `validated` tag: refused, with the tag named.
      const r1 = await h.call<Refusal>('POST', M('registered-models/alias'), { name: 'churn', alias: 'champion', version: good.v });
      assert.equal(r1.status, 409);
      assert.equal(r1.body.error_code, 'RESOURCE_CONFLICT');
      assert.match(r1.body.message, /^Promotion gate refused moving churn@champion to version 1: tag validated failed: the version has no tag 'validated'/);
      assert.doesNotMatch(r1.body.message, /accuracy/);
      assert.equal((await h.call('POST', M('model-versions/set-tag'), { name: 'churn', version: good.v, key: 'validated', value: 'true' })).status, 200);
      assert.equal((await h.call('POST', M('model-versions/set-tag'), { name: 'churn', version: bad.v, key: 'validated', value: 'true' })).status, 200);

      // Metric conditions: each failed one with its actual value; a metric the run never logged says so.
      const r2 = await h.call<Refusal>('POST', M('registered-models/alias'), { name: 'churn', alias: 'champion', version: noLoss.v });
      assert.equal(r2.status, 409);
      assert.match(r2.body.message, /val_loss < 0\.3 failed: the run did not log 'val_loss'/);
      assert.match(r2.body.message, /tag validated failed/);
      const byDry = await h.call<{ passed: boolean; results: { condition: string; passed: boolean; actual: unknown }[] }>('GET', `/api/v1/models/churn/versions/${bad.v}/gate`);
      assert.equal(byDry.body.passed, false);
      assert.deepEqual(byDry.body.results.map((r) => [r.condition, r.passed, r.actual]), [
        ['accuracy >= 0.9', false, 0.85],
        ['val_loss < 0.3', false, 0.41],
        ['tag validated', true, 'true'],
        ['data validation passed', true, null],
      ]);
      // champion still points at the version it had: a refusal changes nothing
      const cur = await h.call<{ model_version: { version: string } }>('GET', M('registered-models/alias'), { name: 'churn', alias: 'champion' });
      assert.equal(cur.body.model_version.version, bad.v);

      // Our own route: same gate; it passes for the good version and says what it checked.
      const ok = await h.call<{ version: string; previous: string; overridden: boolean; gate: { passed: boolean } }>('POST', '/api/v1/models/churn/aliases', { alias: 'champion', version: good.v });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual([ok.body.version, ok.body.previous, ok.body.overridden, ok.body.gate.passed], [good.v, bad.v, false, true]);
      const back = await h.call<Refusal>('POST', '/api/v1/models/churn/aliases', { alias: 'champion', version: bad.v });
      assert.equal(back.status, 409);
      assert.match(back.body.message, /accuracy >= 0\.9 failed \(actual 0\.85\); val_loss < 0\.3 failed \(actual 0\.41\)/);
      assert.deepEqual(back.body.details?.gate.results.filter((r) => !r.passed).map((r) => r.condition), ['accuracy >= 0.9', 'val_loss < 0.3']);
      // Other aliases are not gated.
      assert.equal((await h.call('POST', M('registered-models/alias'), { name: 'churn', alias: 'challenger', version: bad.v })).status, 200);
    });

    void test('an override needs a reason and is audited with who, from, to, why and the failed conditions', async () => {
      const cur = (await h.call<{ model_version: { version: string } }>('GET', M('registered-models/alias'), { name: 'churn', alias: 'champion' })).body.model_version.version;
      const bad = await version(h, exp, 'churn', { accuracy: 0.5, val_loss: 0.2 });
      const noReason = await h.call<Refusal>('POST', M('registered-models/alias'), { name: 'churn', alias: 'champion', version: bad.v }, { 'x-mlops-override-gates': 'true' });
      assert.equal(noReason.status, 400);
      assert.match(noReason.body.message, /override of the promotion gate of 'churn' needs a reason/);
      const v1NoReason = await h.call<Refusal>('POST', '/api/v1/models/churn/aliases', { alias: 'champion', version: bad.v, override: true, reason: '  ' });
      assert.equal(v1NoReason.status, 400);

      const over = await h.call('POST', M('registered-models/alias'), { name: 'churn', alias: 'champion', version: bad.v }, { 'x-mlops-override-gates': 'true', 'x-mlops-reason': 'hotfix for incident 42', 'x-mlops-actor': 'ana' });
      assert.equal(over.status, 200, JSON.stringify(over.body));
      const events = (await h.call<{ events: AuditEv[] }>('GET', '/api/v1/audit', { object_id: 'churn@champion', limit: 20 })).body.events;
      const ov = events.find((e) => e.action === 'alias.gate_override')!;
      assert.ok(ov, JSON.stringify(events.map((e) => e.action)));
      assert.equal(ov.actor, 'ana');
      assert.equal(ov.reason, 'hotfix for incident 42');
      assert.deepEqual(ov.before, { version: cur });
      assert.deepEqual(ov.after, { version: bad.v, failed: [{ condition: 'accuracy >= 0.9', actual: 0.5 }, { condition: 'tag validated', actual: null }] });
      assert.equal(events[0]!.action, 'alias.gate_override');
      assert.equal(events[1]!.action, 'alias.move');
      assert.ok(events.some((e) => e.action === 'alias.gate_refused' && (e.after as { version: string }).version === '2'), 'refusals are audited');
      // The override through /api/v1 (body reason) is the same.
      const again = await h.call<{ overridden: boolean }>('POST', '/api/v1/models/churn/aliases', { alias: 'champion', version: '2', override: true, reason: 'rollback to the previous model' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.equal(again.body.overridden, true);
    });

    void test('the data validation of the version\'s pipeline run counts when recorded (or when required)', async () => {
      assert.equal((await h.call('POST', M('registered-models/create'), { name: 'piped' })).status, 200);
      const gate = await h.call('PUT', '/api/v1/models/piped/gates', { metrics: [{ metric: 'accuracy', op: '>', value: 0.8 }] });
      assert.equal(gate.status, 200);
      // The runs the pipeline runner writes: a validate step's run (FAILED, failed_checks) and a train step's run.
      const pipe = 'ab12cd34';
      const val = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), {
        experiment_id: exp,
        start_time: at,
        tags: [{ key: 'mlops.pipeline_run_id', value: pipe }, { key: 'mlops.step', value: 'validate' }, { key: 'mlops.step.kind', value: 'validate' }],
      })).body.run.info.run_id;
      await h.call('POST', M('runs/log-batch'), { run_id: val, metrics: [{ key: 'failed_checks', value: 2, timestamp: at, step: 0 }] });
      await h.call('POST', M('runs/update'), { run_id: val, status: 'FAILED', end_time: at + 1 });
      const trained = await version(h, exp, 'piped', { accuracy: 0.95 }, { 'mlops.pipeline_run_id': pipe, 'mlops.step': 'train' });
      const r = await h.call<Refusal>('POST', '/api/v1/models/piped/aliases', { alias: 'champion', version: trained.v });
      assert.equal(r.status, 409);
      assert.match(r.body.message, /data validation passed failed \(validate: 2 failed check\(s\), FAILED\)/);
      // A version from no pipeline passes under if_recorded, and fails once validation is required.
      const plain = await version(h, exp, 'piped', { accuracy: 0.95 });
      assert.equal((await h.call<Obj>('GET', `/api/v1/models/piped/versions/${plain.v}/gate`)).body.passed, true);
      await h.call('PUT', '/api/v1/models/piped/gates', { metrics: [{ metric: 'accuracy', op: '>', value: 0.8 }], data_validation: 'required' });
      const req = await h.call<Refusal>('POST', '/api/v1/models/piped/aliases', { alias: 'champion', version: plain.v });
      assert.equal(req.status, 409);
      assert.match(req.body.message, /data validation passed failed: the version does not come from a pipeline run/);
      // Cleared: the alias moves.
      assert.equal((await h.call<Obj>('DELETE', '/api/v1/models/piped/gates')).body.configured, false);
      assert.equal((await h.call('POST', '/api/v1/models/piped/aliases', { alias: 'champion', version: trained.v })).status, 200);
      const audit = (await h.call<{ events: AuditEv[] }>('GET', '/api/v1/audit', { object_id: 'piped', limit: 10 })).body.events.map((e) => e.action);
      assert.deepEqual(audit.slice(0, 3), ['gate.clear', 'gate.set', 'gate.set']);
    });

    void test('bad gates and unknown models are 4xx in MLflow\'s error shape', async () => {
      const cases: [string, string, unknown, number][] = [
        ['PUT', '/api/v1/models/nope/gates', { metrics: [] }, 404],
        ['GET', '/api/v1/models/nope/gates', undefined, 404],
        ['PUT', '/api/v1/models/churn/gates', { metrics: [{ metric: 'a', op: '~', value: 1 }] }, 400],
        ['PUT', '/api/v1/models/churn/gates', { metrics: [{ metric: '', op: '>', value: 1 }] }, 400],
        ['PUT', '/api/v1/models/churn/gates', { metrics: [{ metric: 'a', op: '>', value: 'x' }] }, 400],
        ['PUT', '/api/v1/models/churn/gates', { data_validation: 'maybe' }, 400],
        ['GET', '/api/v1/models/churn/versions/99/gate', undefined, 404],
        ['GET', '/api/v1/models/churn/versions/x/gate', undefined, 400],
        ['POST', '/api/v1/models/churn/aliases', { alias: 'champion' }, 400],
        ['POST', '/api/v1/models/churn/aliases', { alias: 'latest', version: '1' }, 400],
      ];
      for (const [method, url, body, status] of cases) {
        const r = await h.call<Refusal>(method, url, body);
        assert.equal(r.status, status, `${method} ${url} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
        assert.equal(typeof r.body.error_code, 'string');
        assert.equal(typeof r.body.message, 'string');
      }
    });
  });
}
