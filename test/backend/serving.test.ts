import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, faultyClassifier, linearClassifier, linearRegressor, mlmodelYaml } from '../fixtures/onnx/models';

const split = (rows: number[][]) => ({ dataframe_split: { columns: [...FEATURES], data: rows } });

async function call(app: App, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {}, headers: r.headers };
}

/** Class 1 iff x0 + x1 > x2 + x3: what CHAMPION computes. */
const champion = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);
const challenger = (r: number[]) => (r[0]! > r[2]! ? 1 : 0);

async function deployed(app: App, name = 'iris', spec = CHAMPION) {
  const v = registerOnnxModel(app.ctx, name, linearClassifier(spec));
  const r = await call(app, 'POST', `/endpoints/${name}/deploy`, { model: `${name}/${v}` });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return v;
}

for (const db of ['memory', 'file'] as const) {
  void test(`deploy and score in all four MLflow formats (${db} database)`, async (t) => {
    const app = await buildServingApp(t, db);
    await deployed(app);
    const rows = sampleRows(8);
    const want = rows.map(champion);
    const records = rows.map((r) => Object.fromEntries(FEATURES.map((f, i) => [f, r[i]])));
    for (const body of [split(rows), { dataframe_records: records }, { instances: records }, { inputs: rows }, { instances: rows }, { inputs: Object.fromEntries(FEATURES.map((f, i) => [f, rows.map((r) => r[i])])) }]) {
      const r = await call(app, 'POST', '/endpoints/iris/invocations', body);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body.predictions, want);
      assert.equal(r.headers['x-mlops-variant'], 'iris/1');
    }
    const csv = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: { ...AUTH, 'content-type': 'text/csv' }, payload: `${FEATURES.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n` });
    assert.deepEqual(JSON.parse(csv.body), { predictions: want });
    const info = await call(app, 'GET', '/endpoints/iris');
    assert.equal(info.body.status, 'serving');
    assert.deepEqual(info.body.weights, { 'iris/1': 100 });
  });
}

void test('a regressor answers one number per row; a model without MLmodel is served by position', async (t) => {
  const app = await buildServingApp(t);
  const v = registerOnnxModel(app.ctx, 'reg', linearRegressor([1, 2, 3, 4], 0.5), { mlmodel: null });
  assert.equal((await call(app, 'POST', '/endpoints/reg/deploy', { model: `reg/${v}` })).status, 200);
  const r = await call(app, 'POST', '/endpoints/reg/invocations', { inputs: [[1, 1, 1, 1], [0, 0, 0, 1]] });
  assert.deepEqual(r.body.predictions, [10.5, 4.5]);
  assert.deepEqual((await call(app, 'POST', '/endpoints/reg/invocations', { instances: [{ a: 1, b: 1, c: 1, d: 1 }, { b: 0, a: 0, c: 0, d: 1 }] })).body.predictions, [10.5, 4.5]);
  assert.match(String((await call(app, 'POST', '/endpoints/reg/invocations', { instances: [{ a: 1, b: 1, c: 1, d: 1, e: 1 }] })).body.message), /Record 0 has 5 features; the model expects 4/);
  assert.match(String((await call(app, 'POST', '/endpoints/reg/invocations', { instances: [{ a: 1, b: 1, c: 1, d: 1 }, { a: 1, b: 1, c: 1, e: 1 }] })).body.message), /record 1 has 1 unknown feature\(s\) 'e'/);
  const bad = await call(app, 'POST', '/endpoints/reg/invocations', { inputs: [[1, 1, 1]] });
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.message), /Row 0 has 3 values; the model expects 4/);
});

void test('bad input gets a 4xx that names the problem', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const cases: [unknown, number, RegExp][] = [
    [{}, 400, /none of the fields dataframe_split, dataframe_records, instances, inputs/],
    [{ inputs: [[1, 2, 3, 4]], instances: [[1, 2, 3, 4]] }, 400, /exactly one of/],
    [{ dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length'], data: [[1, 2, 3]] } }, 400, /missing feature\(s\) 'petal_width'/],
    [{ dataframe_split: { columns: [...FEATURES.slice(0, 3), 'colour'], data: [[1, 2, 3, 4]] } }, 400, /unknown feature\(s\) 'colour'/],
    [{ dataframe_records: [{ sepal_length: 'wide', sepal_width: 1, petal_length: 1, petal_width: 1 }] }, 400, /Feature 'sepal_length' must be a number; got the string "wide" in row 0/],
    [{ dataframe_records: [{ sepal_length: null, sepal_width: 1, petal_length: 1, petal_width: 1 }] }, 400, /Feature 'sepal_length' is missing in row 0/],
    [{ dataframe_split: { columns: [...FEATURES], data: [[1, 2, 3]] } }, 400, /row 0 has 3 values for 4 columns/],
    [{ dataframe_records: [{ sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1, colour: 1 }] }, 400, /record 0 has 1 unknown feature\(s\) 'colour'\. Expected: sepal_length, sepal_width, petal_length, petal_width/],
    [{ dataframe_records: [{ sepal_length: 1, sepal_width: 1, petal_length: 1 }] }, 400, /missing feature\(s\) 'petal_width'/],
    [{ dataframe_records: [{ sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1 }, { sepal_length: 1, sepal_width: 1, petal_length: 1 }] }, 400, /Feature 'petal_width' is missing in row 1/],
    [{ dataframe_split: { columns: [...FEATURES], data: [] } }, 400, /holds no rows/],
  ];
  for (const [body, status, msg] of cases) {
    const r = await call(app, 'POST', '/endpoints/iris/invocations', body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(String(r.body.message), msg);
  }
  const notJson = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"inputs": [' });
  assert.equal(notJson.statusCode, 400);
  const big = JSON.stringify({ inputs: Array.from({ length: 400_000 }, () => [1.2345, 2.3456, 3.4567, 4.5678]) });
  assert.ok(big.length > 10 * 1024 * 1024);
  const r413 = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: { ...AUTH, 'content-type': 'application/json' }, payload: big });
  assert.equal(r413.statusCode, 413);
  assert.match(JSON.parse(r413.body).message, /limit for invocations is 10485760 bytes/);
  assert.equal((await call(app, 'POST', '/endpoints/nope/invocations', { inputs: [[1, 2, 3, 4]] })).status, 404);
  const noVersion = await call(app, 'POST', '/endpoints/iris/deploy', { model: 'iris/9' });
  assert.equal(noVersion.status, 404);
  assert.match(String(noVersion.body.message), /iris/);
  assert.match(String((await call(app, 'POST', '/endpoints/iris/deploy', { model: 'iris' })).body.message), /expected NAME\/VERSION or NAME@ALIAS/);
  assert.match(String((await call(app, 'POST', '/endpoints/iris/deploy', { model: 'iris/1', strategy: 'blue-green' })).body.message), /Unknown strategy 'blue-green'/);
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: 'iris/1', strategy: 'ab', weight: 150 })).status, 400);
  assert.equal((await call(app, 'POST', '/endpoints/bad%20name/deploy', { model: 'iris/1' })).status, 400);
});

void test('a corrupt or non-ONNX model is refused and the current variant keeps serving', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const junk = registerOnnxModel(app.ctx, 'iris', new TextEncoder().encode('this is a pickle, not ONNX'));
  const truncated = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION).slice(0, 60));
  const noOnnx = registerOnnxModel(app.ctx, 'iris', new Uint8Array([1]), { file: 'model.pkl', mlmodel: 'flavors:\n  sklearn:\n    pickled_model: model.pkl\n' });
  const wrongSig = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION), { mlmodel: mlmodelYaml({ features: ['a', 'b', 'c'] }) });
  for (const [v, msg] of [[junk, /is not an ONNX model/], [truncated, /not a valid ONNX model/], [noOnnx, /has no ONNX file \(flavours: sklearn\)/], [wrongSig, /signature lists 3 features but its ONNX input 'X' takes 4/]] as const) {
    for (const strategy of ['replace', 'canary']) {
      const r = await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}`, strategy });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(String(r.body.message), msg);
    }
  }
  const info = await call(app, 'GET', '/endpoints/iris');
  assert.deepEqual(info.body.weights, { 'iris/1': 100 });
  assert.equal((await call(app, 'POST', '/endpoints/iris/invocations', split([[1, 1, 0, 0]]))).body.predictions?.toString(), '1');
  const fresh = await call(app, 'POST', '/endpoints/other/deploy', { model: `iris/${junk}` });
  assert.equal(fresh.status, 400);
  assert.equal((await call(app, 'GET', '/endpoints/other')).status, 404);
});

void test('A/B routes its configured share; sticky keys stay in their arm; weights must sum to 100', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const r = await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 30 });
  assert.deepEqual(r.body.weights, { 'iris/1': 70, 'iris/2': 30 });
  const n = 2000;
  let toB = 0;
  const rows = sampleRows(1);
  for (let i = 0; i < n; i++) {
    const x = await call(app, 'POST', '/endpoints/iris/invocations', split(rows));
    if (x.headers['x-mlops-variant'] === 'iris/2') toB++;
  }
  // Binomial(2000, 0.3): sd ≈ 20.5; 4 sd either side.
  assert.ok(Math.abs(toB - 600) < 82, `B got ${toB} of ${n}`);
  for (let u = 0; u < 50; u++) {
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) seen.add(String((await call(app, 'POST', '/endpoints/iris/invocations', { ...split(rows), sticky_key: `user-${u}` })).headers['x-mlops-variant']));
    const viaHeader = (await call(app, 'POST', '/endpoints/iris/invocations', split(rows), { 'x-sticky-key': `user-${u}` })).headers['x-mlops-variant'];
    seen.add(String(viaHeader));
    assert.equal(seen.size, 1, `user-${u} saw ${[...seen].join(', ')}`);
  }
  const bad = await call(app, 'PUT', '/endpoints/iris/weights', { weights: { 'iris/1': 60, 'iris/2': 30 } });
  assert.equal(bad.status, 400);
  assert.match(String(bad.body.message), /Weights must sum to 100; got 90/);
  assert.match(String((await call(app, 'PUT', '/endpoints/iris/weights', { weights: { 'iris/1': 50, 'iris/7': 50 } })).body.message), /Unknown variant\(s\) iris\/7/);
  const ok = await call(app, 'PUT', '/endpoints/iris/weights', { weights: { 'iris/1': 0, 'iris/2': 100 } });
  assert.equal(ok.status, 200);
  for (let i = 0; i < 20; i++) assert.equal((await call(app, 'POST', '/endpoints/iris/invocations', split(rows))).headers['x-mlops-variant'], 'iris/2');
});

void test('shadow answers never reach the caller; disagreement and latency are compared', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'shadow' })).status, 200);
  const rows = sampleRows(300, 7);
  let expectDisagree = 0;
  for (const row of rows) {
    const r = await call(app, 'POST', '/endpoints/iris/invocations', split([row]));
    assert.equal(r.headers['x-mlops-variant'], 'iris/1');
    assert.deepEqual(r.body.predictions, [champion(row)]);
    if (champion(row) !== challenger(row)) expectDisagree++;
  }
  await new Promise((d) => setTimeout(d, 50));
  const info = await call(app, 'GET', '/endpoints/iris');
  const shadow = (info.body.variants as { role: string; shadow: { compared: number; disagreement_rate: number; mean_latency_ms: number } }[]).find((v) => v.role === 'shadow')!;
  assert.equal(shadow.shadow.compared, rows.length);
  assert.equal(shadow.shadow.disagreement_rate, expectDisagree / rows.length);
  assert.ok(expectDisagree > 0 && expectDisagree < rows.length);
  assert.ok(shadow.shadow.mean_latency_ms > 0);
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
  assert.match(metrics, new RegExp(`ml_shadow_disagreements_total\\{endpoint="iris",variant="iris/2"\\} ${expectDisagree}\\n`));
});

void test('canary ramps 1→5→10→25→50→100 and promotes; rollback is one weight change back to the warm previous', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const r = await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'canary', step_interval_s: 0.3 });
  assert.deepEqual(r.body.weights, { 'iris/1': 99, 'iris/2': 1 });
  const seen: number[] = [];
  for (let i = 0; i < 100; i++) {
    const info = await call(app, 'GET', '/endpoints/iris');
    const w = (info.body.weights as Record<string, number>)['iris/2']!;
    if (seen.at(-1) !== w) seen.push(w);
    if (info.body.status === 'serving') break;
    await new Promise((d) => setTimeout(d, 50));
  }
  assert.deepEqual(seen, [1, 5, 10, 25, 50, 100]);
  const after = await call(app, 'GET', '/endpoints/iris');
  const roles = Object.fromEntries((after.body.variants as { id: string; role: string }[]).map((v) => [v.id, v.role]));
  assert.deepEqual(roles, { 'iris/1': 'previous', 'iris/2': 'stable' });
  const rb = await call(app, 'POST', '/endpoints/iris/rollback', {});
  assert.equal(rb.status, 200);
  const rec = rb.body.rollback as { from: string; to: string; durationMs: number };
  assert.equal(rec.from, 'iris/2');
  assert.equal(rec.to, 'iris/1');
  assert.ok(rec.durationMs < 50, `rollback took ${rec.durationMs} ms`);
  assert.equal((await call(app, 'POST', '/endpoints/iris/invocations', split([[0, 0, 1, 1]]))).headers['x-mlops-variant'], 'iris/1');
  const events = app.ctx.audit.list({ objectType: 'endpoint', objectId: 'iris' }).map((e) => e.action);
  assert.deepEqual(events.slice(0, 3), ['endpoint.rollback', 'endpoint.promote', 'endpoint.canary_step']);
  assert.ok(events.includes('endpoint.deploy'));
});

void test('a failing candidate is rolled back automatically by the error-rate guardrail; callers get the stable answer', async (t) => {
  const app = await buildServingApp(t);
  await deployed(app);
  const bad = registerOnnxModel(app.ctx, 'iris', faultyClassifier(CHAMPION));
  const r = await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${bad}`, strategy: 'ab', weight: 50, guardrails: { max_error_rate: 0.1, min_requests: 10 } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  let fallbacks = 0;
  for (let i = 0; i < 200; i++) {
    const x = await call(app, 'POST', '/endpoints/iris/invocations', split([[5, 1, 1, 1]]));
    assert.equal(x.status, 200);
    assert.deepEqual(x.body.predictions, [1]);
    if (x.headers['x-mlops-fallback']) fallbacks++;
    if (i % 20 === 19) await new Promise((d) => setTimeout(d, 250));
  }
  assert.ok(fallbacks > 0);
  const info = await call(app, 'GET', '/endpoints/iris');
  assert.deepEqual(info.body.weights, { 'iris/1': 100 });
  assert.match(String((info.body.last_rollback as { reason: string }).reason), /error rate .* > 10\.0 %/);
  const audit = app.ctx.audit.list({ objectType: 'endpoint', action: 'endpoint.rollback' })[0]!;
  assert.equal(audit.actor, 'guardrail');
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
  assert.match(metrics, /ml_rollbacks_total\{endpoint="iris",reason="error_rate"\} 1/);
});

for (const db of ['memory', 'file'] as const) void test(`prediction log joins feedback by request id; accuracy per version reaches /metrics (${db} database)`, async (t) => {
  const app = await buildServingApp(t, db);
  await deployed(app);
  const rows = sampleRows(40, 3);
  const ids: string[] = [];
  for (const [i, row] of rows.entries()) {
    const r = await call(app, 'POST', '/endpoints/iris/invocations', split([row]), { 'x-request-id': `req-${i}` });
    assert.equal(r.headers['x-request-id'], `req-${i}`);
    ids.push(`req-${i}`);
  }
  // Labels agree with the model on the first 30 rows and contradict it on the last 10: accuracy 0.75.
  const feedback = rows.map((row, i) => ({ request_id: ids[i]!, label: [i < 30 ? champion(row) : 1 - champion(row)] }));
  const fb = await call(app, 'POST', '/endpoints/iris/feedback', { feedback: [...feedback, { request_id: 'never-seen', label: [1] }] });
  assert.deepEqual(fb.body, { matched: 40, unmatched: ['never-seen'] });
  const logged = await call(app, 'GET', '/endpoints/iris/predictions?limit=5');
  const first = (logged.body.predictions as { requestId: string; features: { columns: string[] }; variant: string; label: unknown }[])[0]!;
  assert.equal(first.requestId, 'req-39');
  assert.deepEqual(first.features.columns, [...FEATURES]);
  assert.equal(first.variant, 'iris/1');
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
  assert.match(metrics, /ml_model_accuracy\{model_name="iris",model_version="1",data_segment="endpoint:iris"\} 0.75/);
  assert.match(metrics, /ml_feature_distribution\{model_name="iris",feature_name="sepal_length",percentile="0.5"\} [0-9.]+/);
  assert.match(metrics, /ml_prediction_latency_seconds_bucket\{le="0.001",model_name="iris",model_version="1"\} \d+/);
  assert.match(metrics, /ml_traffic_weight_percent\{endpoint="iris",variant="iris\/1",role="stable"\} 100/);
});

void test('endpoints are restored when the backend restarts on the same home', async (t) => {
  const { buildApp } = await import('../../backend/src/app');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const home = mkdtempSync(join(tmpdir(), 'mlops-serving-restore-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const a = await buildApp({ home, token: 'serving-test-token' });
  await deployed(a);
  await a.server.close();
  const b = await buildApp({ home, token: 'serving-test-token' });
  t.after(() => b.server.close());
  const r = await call(b, 'POST', '/endpoints/iris/invocations', split([[1, 1, 0, 0]]));
  assert.deepEqual(r.body.predictions, [1]);
  assert.equal((await call(b, 'GET', '/endpoints')).body.endpoints?.toString() !== '', true);
});
