import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import type { EndpointDrift } from '../../backend/src/api/v1/contract';
import type { CategoryBins, DriftBins, DriftTimeline, NumericBins } from '../../backend/src/api/v1/contract-drift';
import { buildReferenceProfile, serializeProfile, type RawColumn } from '../../backend/src/services/stats';
import { MAX_CATEGORIES, categoryBins } from '../../backend/src/services/drift/bins';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** 20 rows per request: the prediction log keeps a request's first 20 rows. */
async function serve(app: App, rows: number[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 20) {
    const r = await call(app, 'POST', '/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

/** petal_length as a category code (0, 1, 2: about a third each); the other three features numeric. */
const coded = (rows: number[][]) => rows.map((r) => [r[0]!, r[1]!, Math.floor(r[2]!), r[3]!]);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Registers iris/1 with a profile of 2,000 training rows (petal_length categorical) and deploys it. */
async function setUp(app: App): Promise<void> {
  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const training = coded(sampleRows(2000, 11));
  const columns = new Map<string, RawColumn>(FEATURES.map((f, j) => [f, { kind: 'numeric' as const, values: training.map((r) => r[j]!), missing: 0 }]));
  const counts = new Map<string, number>();
  for (const r of training) counts.set(String(r[2]), (counts.get(String(r[2])) ?? 0) + 1);
  columns.set('petal_length', { kind: 'categorical', counts, missing: 0 });
  const put = await call(app, 'PUT', `/api/v1/models/iris/versions/${v}/profile`, { profile: JSON.parse(serializeProfile(buildReferenceProfile(columns))) as unknown });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
}

void test('drift bins: reference and current window in the same bins, normalised; categories as shares; the categorical feature is compared, not skipped', async (t) => {
  const app = await buildServingApp(t);
  await setUp(app);
  const none = await call<DriftBins>(app, 'GET', '/api/v1/endpoints/iris/drift/bins');
  assert.equal(none.status, 200, JSON.stringify(none.body));
  assert.equal(none.body.variants[0]!.status, 'insufficient_data');
  assert.deepEqual(none.body.variants[0]!.features, []);

  // 600 rows: sepal_length moved up by 1 (beyond the reference's max of 2.9), petal_length mostly code 2 and a new code 3.
  const served = coded(sampleRows(600, 5)).map((r, i) => [r[0]! + 1, r[1]!, i % 10 < 7 ? 2 : i % 10 === 9 ? 3 : r[2]!, r[3]!]);
  await serve(app, served);
  const r = await call<DriftBins>(app, 'GET', '/api/v1/endpoints/iris/drift/bins?bins=12');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const v = r.body.variants[0]!;
  assert.equal(v.status, 'ok');
  assert.equal(v.window_rows, 600);
  assert.equal(v.reference?.kind, 'training');
  assert.deepEqual(v.features.map((f) => [f.feature, f.kind]), [['sepal_length', 'numeric'], ['sepal_width', 'numeric'], ['petal_length', 'categorical'], ['petal_width', 'numeric']]);
  const sl = v.features[0] as NumericBins;
  assert.equal(sl.edges.length, 13);
  assert.equal(sl.reference.length, 12);
  assert.equal(sl.current.length, 12);
  // One range for both sides: from the reference's min to the shifted window's max.
  const slValues = served.map((x) => x[0]!);
  assert.equal(sl.edges[0], Math.min(...sampleRows(2000, 11).map((x) => x[0]!)));
  assert.equal(sl.edges[12], Math.max(...slValues));
  assert.ok(Math.abs(sum(sl.reference) - 1) < 1e-9 && Math.abs(sum(sl.current) - 1) < 1e-9, 'each side sums to 1');
  // The window's values are counted exactly: the share of bin k is the share of served values in it.
  const w = (sl.edges[12]! - sl.edges[0]!) / 12;
  const inFirst = slValues.filter((x) => x < sl.edges[0]! + w).length / 600;
  assert.ok(Math.abs(sl.current[0]! - inFirst) < 1e-9, `${sl.current[0]} vs ${inFirst}`);
  // Shifted: the reference has nothing above 2.9, the window nothing below 1.
  const above = sl.edges.slice(0, -1).map((e, k) => (e >= 2.9 ? k : -1)).filter((k) => k >= 0);
  assert.ok(above.length > 0 && above.every((k) => sl.reference[k] === 0));
  assert.ok(sl.edges.slice(1).every((e, k) => e > 1 || sl.current[k] === 0));
  assert.equal(sl.reference_count, 2000);
  assert.equal(sl.current_count, 600);
  assert.equal(sl.reference_exact, true);
  assert.equal(sl.reference_points, 2000);

  const pl = v.features[2] as CategoryBins;
  assert.deepEqual(pl.categories, ['2', '0', '1', '3']);
  assert.ok(Math.abs(pl.reference[3]!) === 0 && Math.abs(pl.current[3]! - 0.1) < 1e-9, JSON.stringify(pl));
  assert.ok(Math.abs(sum(pl.reference) - 1) < 1e-9 && Math.abs(sum(pl.current) - 1) < 1e-9);
  assert.equal(pl.folded, 0);
  // The report now compares petal_length by category (before: skipped as 'reference is categorical but current is numeric').
  const report = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/iris/drift');
  const rv = report.body.variants[0]!;
  assert.deepEqual(rv.skipped, []);
  const plDrift = rv.features.find((f) => f.feature === 'petal_length')!;
  assert.equal(plDrift.kind, 'categorical');
  assert.deepEqual(plDrift.methods.map((m) => m.method), ['psi', 'chi2', 'jensen_shannon']);
  assert.equal(plDrift.drift, true);

  const bad = await call<{ error_code: string; message: string }>(app, 'GET', '/api/v1/endpoints/iris/drift/bins?bins=500');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
  const missing = await call<{ message: string }>(app, 'GET', '/api/v1/endpoints/nope/drift/bins');
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /Endpoint 'nope' does not exist/);
});

void test('drift timeline: each stored data-drift check is a point per feature with the threshold it used, oldest first', async (t) => {
  const app = await buildServingApp(t);
  await setUp(app);
  await serve(app, coded(sampleRows(300, 5)));
  const first = await call<{ result: { status: string } }>(app, 'POST', '/api/v1/monitors/iris/data_drift/run');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.result.status, 'pass');
  await serve(app, coded(sampleRows(1000, 6)).map((r) => [r[0]! + 1, r[1]!, 2, r[3]! + 1]));
  const second = await call<{ result: { status: string } }>(app, 'POST', '/api/v1/monitors/iris/data_drift/run');
  assert.equal(second.body.result.status, 'fail');

  const tl = await call<DriftTimeline>(app, 'GET', '/api/v1/endpoints/iris/drift/timeline');
  assert.equal(tl.status, 200, JSON.stringify(tl.body));
  assert.equal(tl.body.method, 'psi');
  assert.equal(tl.body.checks, 2);
  const v = tl.body.variants[0]!;
  assert.equal(v.variant, 'iris/1');
  assert.deepEqual(v.checks.map((c) => c.status), ['pass', 'fail']);
  assert.ok(v.checks[0]!.t <= v.checks[1]!.t);
  assert.deepEqual(v.features.map((f) => f.feature), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  const sl = v.features[0]!;
  assert.equal(sl.points.length, 2);
  assert.ok(sl.points[0]!.score < sl.points[0]!.threshold && !sl.points[0]!.drift, JSON.stringify(sl.points));
  assert.ok(sl.points[1]!.score > sl.points[1]!.threshold && sl.points[1]!.drift, JSON.stringify(sl.points));
  // Sample-size aware: the smaller first window (300 rows) has the higher PSI threshold.
  assert.ok(sl.points[0]!.threshold >= sl.points[1]!.threshold);
  assert.equal(v.features[1]!.points[1]!.drift, false, 'sepal_width did not move');
  // KS is drawn as its p-value against alpha.
  const ks = await call<DriftTimeline>(app, 'GET', '/api/v1/endpoints/iris/drift/timeline?method=ks&limit=1');
  assert.equal(ks.body.checks, 1);
  const ksPoint = ks.body.variants[0]!.features[0]!.points[0]!;
  assert.equal(ksPoint.threshold, 0.05);
  assert.ok(ksPoint.score < 0.05);
  assert.deepEqual(ks.body.variants[0]!.features.map((f) => f.feature), ['sepal_length', 'sepal_width', 'petal_width'], 'no KS for a categorical feature');
  const bad = await call<{ error_code: string }>(app, 'GET', '/api/v1/endpoints/iris/drift/timeline?method=nope');
  assert.equal(bad.status, 400);
  const missing = await call(app, 'GET', '/api/v1/endpoints/nope/drift/timeline');
  assert.equal(missing.status, 404);
});

void test('category bars are bounded: past the limit the rarest categories fold into (other), shares kept', () => {
  const ref = { kind: 'categorical' as const, count: 1000, missing: 0, counts: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`c${i}`, 25])) };
  const cur = new Map(Array.from({ length: 40 }, (_, i) => [`c${i}`, i === 0 ? 610 : 10]));
  const b = categoryBins('x', ref, cur);
  assert.equal(b.categories.length, MAX_CATEGORIES);
  assert.equal(b.categories[0], 'c0');
  assert.equal(b.categories.at(-1), '(other)');
  assert.equal(b.folded, 40 - (MAX_CATEGORIES - 1));
  assert.ok(Math.abs(sum(b.reference) - 1) < 1e-9 && Math.abs(sum(b.current) - 1) < 1e-9);
  assert.equal(b.current_count, 1000);
});
