import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import type { AbAnalysis } from '../../backend/src/services/serving/ab';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = {}) {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T, headers: r.headers };
}

const truth = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);

/** `n` one-row requests; each is labelled with the true class. Returns how many each variant served. */
async function traffic(app: App, n: number, seed: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const served: Record<string, number> = {};
  const feedback: { request_id: string; label: number }[] = [];
  for (const [i, row] of sampleRows(n, seed).entries()) {
    const id = `s${seed}-${i}`;
    const r = await call(app, 'POST', '/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: [row] } }, { 'x-request-id': id, ...headers });
    assert.equal(r.status, 200);
    const v = String(r.headers['x-mlops-variant']);
    served[v] = (served[v] ?? 0) + 1;
    feedback.push({ request_id: id, label: truth(row) });
  }
  assert.equal((await call<{ matched: number }>(app, 'POST', '/endpoints/iris/feedback', { feedback })).body.matched, n);
  return served;
}

void test('A/B analysis: only the live arms since the current test started, with the weights set; a retired arm never appears', async (t) => {
  const app = await buildServingApp(t);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const v3 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` });
  await traffic(app, 100, 1);
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 30 });
  const first = await traffic(app, 300, 2);
  assert.ok(first['iris/2']! > 0);
  // A new test: iris/3 replaces iris/2 as the candidate, at 20 %.
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v3}`, strategy: 'ab', weight: 20 });
  const served = await traffic(app, 400, 3);
  const r = await call<AbAnalysis>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.control, 'iris/1');
  assert.deepEqual(r.body.variants.map((v) => [v.id, v.role, v.weight, v.requests]), [['iris/1', 'stable', 80, served['iris/1']], ['iris/3', 'candidate', 20, served['iris/3']]]);
  assert.ok(!JSON.stringify(r.body).includes('iris/2'), 'the retired arm appears nowhere');
  assert.deepEqual(r.body.srm?.expected_shares, { 'iris/1': 0.8, 'iris/3': 0.2 });
  assert.equal(r.body.srm?.mismatch, false, JSON.stringify(r.body.srm));
  const acc = (id: string) => r.body.variants.find((v) => v.id === id)!.metrics.find((m) => m.name === 'accuracy')!.value;
  assert.equal(acc('iris/1'), 1);
  assert.ok(acc('iris/3') > 0.5 && acc('iris/3') < 0.95, String(acc('iris/3')));
  assert.ok(r.body.tests.some((x) => x.metric === 'accuracy' && x.variant === 'iris/3' && x.significant), JSON.stringify(r.body.tests));
  assert.match(r.body.verdict, /accuracy: iris\/1 \(control\) wins/);

  // New weights start a new test: nothing served under them yet.
  assert.equal((await call(app, 'PUT', '/endpoints/iris/weights', { weights: { 'iris/1': 200 / 3, 'iris/3': 100 / 3 } })).status, 200);
  const fresh = await call<AbAnalysis>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.deepEqual(fresh.body.variants.map((v) => [v.id, v.requests]), [['iris/1', 0], ['iris/3', 0]]);
  assert.equal(fresh.body.variants[1]!.weight, 100 / 3);
  assert.match(fresh.body.verdict, /^Not enough traffic since the test started/);

  // After a promotion only one arm is live: no comparison, nothing to promote.
  assert.equal((await call(app, 'POST', '/endpoints/iris/promote', {})).status, 200);
  const after = await call<AbAnalysis>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.deepEqual(after.body.variants.map((v) => [v.id, v.role]), [['iris/3', 'stable']]);
  assert.match(after.body.verdict, /^Only iris\/3 takes traffic/);
  assert.equal((await call(app, 'GET', '/api/v1/ui/endpoints/nope/ab')).status, 404);
});

void test('A/B analysis: a split far from the weights reads "inconclusive (sample-ratio mismatch)"', async (t) => {
  const app = await buildServingApp(t);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` });
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 50 });
  await traffic(app, 200, 4);
  // One heavy user with a sticky key lands every request in the same arm: the observed split drifts off 50/50.
  await traffic(app, 300, 5, { 'x-sticky-key': 'one-heavy-user' });
  const r = await call<AbAnalysis>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.equal(r.body.srm?.mismatch, true, JSON.stringify(r.body.srm));
  assert.match(r.body.verdict, /^inconclusive \(sample-ratio mismatch\): iris\/1 served \d+, iris\/2 served \d+ against weights 50 % \/ 50 %/);
  assert.ok(r.body.tests.every((x) => !x.significant));
});

void test('Promote names the variant it promotes: the stable or an unknown variant is refused and nothing changes; the named candidate becomes stable', async (t) => {
  const app = await buildServingApp(t);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const v3 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  // iris/3 is stable; the older iris/1 is tested against it, so it sorts first but is the candidate.
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v3}` });
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}`, strategy: 'ab', weight: 50 });
  const stable = await call<{ error_code: string; message: string }>(app, 'POST', '/endpoints/iris/promote', { variant: 'iris/3' });
  assert.equal(stable.status, 409, JSON.stringify(stable.body));
  assert.equal(stable.body.error_code, 'RESOURCE_CONFLICT');
  assert.equal(stable.body.message, "Cannot promote iris/3 on endpoint 'iris': it is the stable variant already; the variant that can be promoted is iris/1");
  const unknown = await call<{ message: string }>(app, 'POST', '/endpoints/iris/promote', { variant: 'iris/2' });
  assert.equal(unknown.status, 409);
  assert.match(unknown.body.message, /Cannot promote iris\/2 on endpoint 'iris': it is not a variant of this endpoint; the variant that can be promoted is iris\/1/);
  const still = await call<{ weights: Record<string, number> }>(app, 'GET', '/endpoints/iris');
  assert.deepEqual(still.body.weights, { 'iris/3': 50, 'iris/1': 50 });
  assert.equal(app.ctx.audit.list({ objectType: 'endpoint', action: 'endpoint.promote' }).length, 0);
  const ok = await call<{ weights: Record<string, number> }>(app, 'POST', '/endpoints/iris/promote', { variant: 'iris/1' });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body.weights, { 'iris/1': 100 });
  const again = await call<{ message: string }>(app, 'POST', '/endpoints/iris/promote', { variant: 'iris/1' });
  assert.equal(again.status, 409);
  assert.match(again.body.message, /it is the stable variant already; there is no candidate or shadow to promote/);
});
