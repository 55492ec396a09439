import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import type { LoggedPrediction } from '../../backend/src/services/serving/repository';
import { toMonitoring } from '../../extension/src/panels/adapters';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload ? { payload } : {}) });
  const json = (String(r.headers['content-type'] ?? '')).includes("json");
  return { status: r.statusCode, body: (json ? JSON.parse(r.body) : {}) as T, headers: r.headers, text: r.body };
}

const truth = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);
const challenger = (r: number[]) => (r[0]! > r[2]! ? 1 : 0);

void test('accuracy: a scalar label against a one-row prediction counts the same in /metrics, Monitoring and the A/B analysis', async (t) => {
  const app = await buildServingApp(t);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` })).status, 200);
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 50 })).status, 200);
  const rows = sampleRows(300, 11);
  const served: Record<string, { right: number; total: number }> = { 'iris/1': { right: 0, total: 0 }, 'iris/2': { right: 0, total: 0 } };
  const feedback: { request_id: string; label: unknown }[] = [];
  for (const [i, row] of rows.entries()) {
    const r = await call<{ predictions: number[] }>(app, 'POST', '/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: [row] } }, { 'x-request-id': `q${i}` });
    const variant = String(r.headers['x-mlops-variant']);
    assert.deepEqual(r.body.predictions, [variant === 'iris/1' ? truth(row) : challenger(row)]);
    served[variant]!.total++;
    if (r.body.predictions[0] === truth(row)) served[variant]!.right++;
    // What a user sends back: the true class as a plain value (some send it as a string).
    feedback.push({ request_id: `q${i}`, label: i % 3 === 0 ? String(truth(row)) : truth(row) });
  }
  assert.deepEqual((await call(app, 'POST', '/endpoints/iris/feedback', { feedback })).body, { matched: rows.length, unmatched: [] });
  const expected = Object.fromEntries(Object.entries(served).map(([v, s]) => [v, s.right / s.total]));
  assert.equal(expected['iris/1'], 1);
  assert.ok(expected['iris/2']! > 0.5 && expected['iris/2']! < 1, JSON.stringify(served));

  const metrics = (await call(app, 'GET', '/metrics')).text;
  for (const [v, acc] of Object.entries(expected)) {
    const m = new RegExp(`ml_model_accuracy\\{model_name="iris",model_version="${v.split('/')[1]}",data_segment="endpoint:iris"\\} ([0-9.e-]+)`).exec(metrics);
    assert.ok(m && Math.abs(Number(m[1]) - acc) < 1e-9, `/metrics for ${v}: ${m?.[1]} vs ${acc}`);
  }

  // Monitoring: the charts the extension draws from the logged predictions.
  const logged = (await call<{ predictions: LoggedPrediction[] }>(app, 'GET', '/endpoints/iris/predictions?limit=1000')).body.predictions;
  const chart = toMonitoring('iris', logged).accuracy;
  for (const [v, acc] of Object.entries(expected)) {
    const points = chart.find((s) => s.name === v)?.points ?? [];
    assert.ok(points.length > 0, `Monitoring has accuracy points for ${v}`);
    const weighted = logged.filter((p) => p.variant === v);
    const perMinute = new Map<number, number>();
    for (const p of weighted) perMinute.set(Math.floor(p.ts / 60_000) * 60_000, (perMinute.get(Math.floor(p.ts / 60_000) * 60_000) ?? 0) + 1);
    const mean = points.reduce((a, p) => a + p.v * perMinute.get(p.t)!, 0) / weighted.length;
    assert.ok(Math.abs(mean - acc) < 1e-9, `Monitoring accuracy for ${v}: ${mean} vs ${acc}`);
  }

  // A/B Results.
  const ab = await call<{ variants: { id: string; metrics: { name: string; value: number }[] }[] }>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.equal(ab.status, 200, ab.text);
  for (const [v, acc] of Object.entries(expected)) {
    const got = ab.body.variants.find((x) => x.id === v)?.metrics.find((m) => m.name === 'accuracy')?.value;
    assert.ok(got !== undefined && Math.abs(got - acc) < 1e-9, `A/B accuracy for ${v}: ${got} vs ${acc}`);
  }
});
