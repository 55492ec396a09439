import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../backend/src/app';
import type { DriftHistory, EndpointDrift, ProfileInfo } from '../../backend/src/api/v1/contract';
import { buildReferenceProfile, serializeProfile } from '../../backend/src/services/stats';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

const csv = (rows: number[][], extra = false) => `${[...FEATURES, ...(extra ? ['label'] : [])].join(',')}\n${rows.map((r) => [...r, ...(extra ? [1] : [])].join(',')).join('\n')}\n`;
const shift = (rows: number[][], by: number) => rows.map((r) => [r[0]! + by, r[1]!, r[2]!, r[3]! + by]);

/** Registers iris/N with `reference_data.csv` (training rows plus a label column) in the model's folder. */
function registerWithReference(app: App, name: string, training: number[][] | null): number {
  const v = registerOnnxModel(app.ctx, name, linearClassifier(CHAMPION));
  if (training) {
    const dir = app.ctx.registry.getVersion(name, v).storage_location!.replace('mlflow-artifacts:/', '');
    writeFileSync(join(app.ctx.artifacts.resolve(dir), 'reference_data.csv'), csv(training, true));
  }
  return v;
}

async function serve(app: App, endpoint: string, rows: number[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 20) {
    const r = await call(app, 'POST', `/endpoints/${endpoint}/invocations`, { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

void test('endpoint drift against the training profile found at registration: shifted traffic drifts, unshifted does not', async (t) => {
  const app = await buildServingApp(t, 'file');
  const v = registerWithReference(app, 'iris', sampleRows(2000, 11));
  const info = await call<ProfileInfo>(app, 'GET', `/api/v1/models/iris/versions/${v}/profile`);
  assert.equal(info.status, 200, JSON.stringify(info.body));
  assert.equal(info.body.status, 'ready');
  assert.equal(info.body.kind, 'training');
  assert.match(info.body.source, /reference_data\.csv$/);
  assert.deepEqual(Object.keys(info.body.features), [...FEATURES], 'the label column is not a feature');
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  await serve(app, 'iris', sampleRows(20, 5));
  const few = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/iris/drift');
  assert.equal(few.body.variants[0]!.status, 'insufficient_data');
  assert.equal(few.body.variants[0]!.drift, null);
  assert.match(few.body.variants[0]!.message!, /20 logged rows since the reference; a check needs at least 30/);

  await serve(app, 'iris', sampleRows(600, 5));
  const same = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/iris/drift');
  assert.equal(same.status, 200, JSON.stringify(same.body));
  const sv = same.body.variants[0]!;
  assert.equal(sv.status, 'ok');
  assert.equal(sv.reference?.kind, 'training');
  assert.equal(sv.window.rows, 620);
  assert.equal(sv.drift, false);
  assert.deepEqual(sv.features.filter((f) => f.drift), []);
  assert.deepEqual(sv.features.map((f) => f.methods.map((m) => m.method)), FEATURES.map(() => ['psi', 'ks', 'wasserstein_norm', 'jensen_shannon']));

  await serve(app, 'iris', shift(sampleRows(600, 6), 1.0));
  const moved = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/iris/drift?window=600');
  const mv = moved.body.variants[0]!;
  assert.equal(mv.drift, true);
  assert.deepEqual(mv.features.filter((f) => f.drift).map((f) => f.feature).sort(), ['petal_width', 'sepal_length']);
  assert.equal(mv.features.find((f) => f.feature === 'sepal_length')!.severity, 'high');
  assert.equal(mv.features.find((f) => f.feature === 'sepal_width')!.drift, false);

  // /metrics reuses a report up to 5 s old; this check of the default window refreshes it.
  assert.equal((await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/iris/drift')).body.variants[0]!.drift, true);
  const metrics = await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH });
  assert.match(metrics.body, /ml_drift_score\{model_name="iris",feature_name="sepal_length",drift_method="psi"\} \d/);
  assert.match(metrics.body, /ml_drift_score\{model_name="iris",feature_name="sepal_length",drift_method="ensemble"\} (1|0\.75)\b/);
  assert.match(metrics.body, /ml_drift_score\{model_name="iris",feature_name="sepal_width",drift_method="ensemble"\} (0|0\.25)\b/);
  assert.doesNotMatch(metrics.body, /drift_method="[a-z_]+_vs_first_window"/);
  // The Monitoring heatmap: PSI per feature and hour; all this traffic fell into the last bucket (or the one before).
  const h = await call<DriftHistory>(app, 'GET', '/api/v1/endpoints/iris/drift/history?bucket_s=3600&buckets=3');
  assert.equal(h.status, 200, JSON.stringify(h.body));
  assert.deepEqual(h.body.features, [...FEATURES]);
  assert.equal(h.body.buckets.length, 3);
  const filled = h.body.scores[0]!.map((x, i) => (x === null ? -1 : i)).filter((i) => i >= 0);
  assert.ok(filled.length >= 1 && filled.every((i) => i >= 1), JSON.stringify(h.body.scores));
  const last = filled.at(-1)!;
  assert.equal(h.body.scores[0]![0], null);
  assert.ok(h.body.scores[0]![last]! > 0.2 && h.body.scores[1]![last]! < 0.1, JSON.stringify(h.body.scores));
  const all = await call<{ endpoints: EndpointDrift[] }>(app, 'GET', '/api/v1/drift');
  assert.deepEqual(all.body.endpoints.map((e) => e.endpoint), ['iris']);
});

void test('a version without a profile falls back to its first served window, and says so', async (t) => {
  const app = await buildServingApp(t);
  const v = registerWithReference(app, 'plain', null);
  assert.equal((await call(app, 'POST', '/endpoints/plain/deploy', { model: `plain/${v}` })).status, 200);
  await serve(app, 'plain', sampleRows(400, 3));
  const early = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/plain/drift');
  assert.equal(early.body.variants[0]!.status, 'no_reference');
  assert.match(early.body.variants[0]!.message!, /mlops models profile plain\/1 --reference/);
  await serve(app, 'plain', sampleRows(600, 4));
  await serve(app, 'plain', shift(sampleRows(400, 8), 1.0));
  const r = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/plain/drift');
  const d = r.body.variants[0]!;
  assert.equal(d.reference?.kind, 'first_window');
  assert.match(d.reference!.source, /first 1000 served rows \(no training profile was registered\)/);
  assert.equal(d.window.rows, 400, 'the current window starts after the first window');
  assert.equal(d.drift, true);
  const metrics = await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH });
  assert.match(metrics.body, /drift_method="psi_vs_first_window"/);
});

void test('setting a profile: CSV or profile JSON, audited; bad input is a clear 4xx', async (t) => {
  const app = await buildServingApp(t);
  const v = registerWithReference(app, 'iris', null);
  const none = await call<ProfileInfo>(app, 'GET', `/api/v1/models/iris/versions/${v}/profile`);
  assert.equal(none.body.status, 'none');
  assert.match(none.body.message!, /no reference_profile\.json or reference_data\.csv in the model folder/);
  const set = await call<ProfileInfo>(app, 'PUT', `/api/v1/models/iris/versions/${v}/profile`, { csv: csv(sampleRows(300, 2), true) });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.rows, 300);
  assert.equal(set.body.source, 'upload (csv)');
  const audit = await call<{ events: { action: string; object_id: string }[] }>(app, 'GET', '/api/v1/audit?action=model_version.profile');
  assert.deepEqual(audit.body.events.map((e) => e.object_id), [`iris/${v}`]);

  const cases: [string, unknown, number, RegExp][] = [
    [`/api/v1/models/iris/versions/${v}/profile`, { csv: 'sepal_length,sepal_width\n1,2\n' }, 400, /has no column 'petal_length', 'petal_width'; the model's features are sepal_length/],
    [`/api/v1/models/iris/versions/${v}/profile`, { csv: `${FEATURES.join(',')}\n1,2,x,4\n` }, 400, /line 2, feature 'petal_length': 'x' is not a number/],
    [`/api/v1/models/iris/versions/${v}/profile`, { profile: { format: 'other' } }, 400, /not an mlops reference profile/],
    [`/api/v1/models/iris/versions/${v}/profile`, {}, 400, /Give the training data/],
    ['/api/v1/models/iris/versions/99/profile', { csv: 'a\n1\n' }, 404, /version=99\) not found/],
  ];
  for (const [url, body, status, msg] of cases) {
    const r = await call<{ message: string }>(app, 'PUT', url, body);
    assert.equal(r.status, status, `${url} ${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
    assert.match(r.body.message, msg);
  }
  const unnamed = registerOnnxModel(app.ctx, 'unnamed', linearClassifier(CHAMPION), { mlmodel: null });
  assert.equal((await call(app, 'PUT', `/api/v1/models/unnamed/versions/${unnamed}/profile`, { csv: csv(sampleRows(300, 2)) })).status, 200);
  assert.equal((await call(app, 'POST', '/endpoints/unnamed/deploy', { model: `unnamed/${unnamed}` })).status, 200);
  for (let i = 0; i < 3; i++) await call(app, 'POST', '/endpoints/unnamed/invocations', { inputs: sampleRows(20, 30 + i) });
  const positional = await call<EndpointDrift>(app, 'GET', '/api/v1/endpoints/unnamed/drift');
  assert.equal(positional.body.variants[0]!.status, 'no_reference');
  assert.match(positional.body.variants[0]!.message!, /describes sepal_length, .* but unnamed\/1 is served with f0, f1, f2, f3: give the model a column signature/);
  const missing = await call<{ message: string }>(app, 'GET', '/api/v1/endpoints/nope/drift');
  assert.equal(missing.status, 404);
  assert.match(missing.body.message, /Endpoint 'nope' does not exist/);
});

void test('registration convention: the run tag mlops.reference_data wins, then reference_profile.json beside the model', async (t) => {
  const app = await buildServingApp(t);
  const { ctx } = app;
  const run = ctx.tracking.runs.create({ tags: [{ key: 'mlops.reference_data', value: 'data/train.csv' }] });
  const runRoot = ctx.artifacts.resolve(run.info.artifact_uri.replace('mlflow-artifacts:/', ''));
  mkdirSync(join(runRoot, 'data'), { recursive: true });
  writeFileSync(join(runRoot, 'data', 'train.csv'), csv(sampleRows(700, 3), true));
  // Also a run-root reference_data.csv: the tag names which file is the training data.
  writeFileSync(join(runRoot, 'reference_data.csv'), csv(sampleRows(50, 3), true));
  const v = registerOnnxModel(ctx, 'tagged', linearClassifier(CHAMPION));
  const mv = ctx.registry.getVersion('tagged', v);
  const withRun = ctx.registry.createVersion({ name: 'tagged', source: mv.source, runId: run.info.run_id }, { actor: 'test' });
  const tagged = await call<ProfileInfo>(app, 'GET', `/api/v1/models/tagged/versions/${withRun.version}/profile`);
  assert.equal(tagged.body.rows, 700);
  assert.match(tagged.body.source, /data\/train\.csv$/);

  const w = registerOnnxModel(ctx, 'profiled', linearClassifier(CHAMPION));
  const dir = ctx.artifacts.resolve(ctx.registry.getVersion('profiled', w).storage_location!.replace('mlflow-artifacts:/', ''));
  const columns = new Map(FEATURES.map((f, j) => [f, { kind: 'numeric' as const, values: Float64Array.from(sampleRows(400, 4), (r) => r[j]!), missing: 0 }]));
  writeFileSync(join(dir, 'reference_profile.json'), serializeProfile(buildReferenceProfile(columns)));
  const fromJson = await call<ProfileInfo>(app, 'GET', `/api/v1/models/profiled/versions/${w}/profile`);
  assert.equal(fromJson.body.status, 'ready');
  assert.equal(fromJson.body.rows, 400);
  assert.match(fromJson.body.source, /reference_profile\.json$/);

  writeFileSync(join(runRoot, 'data', 'train.csv'), 'sepal_length\n1\n');
  const broken = ctx.registry.createVersion({ name: 'tagged', source: mv.source, runId: run.info.run_id }, { actor: 'test' });
  const failed = await call<ProfileInfo>(app, 'GET', `/api/v1/models/tagged/versions/${broken.version}/profile`);
  assert.equal(failed.body.status, 'failed');
  assert.match(failed.body.message!, /data\/train\.csv has no column 'sepal_width'/);
});
