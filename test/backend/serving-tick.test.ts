import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH, buildServingApp, registerOnnxModel } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, linearClassifier } from '../fixtures/onnx/models';

const sleep = (ms: number) => new Promise((d) => setTimeout(d, ms));

void test('a tick that throws (the store refuses the canary step) is counted and the loop goes on: a new canary ramps once the store recovers', async (t) => {
  const app = await buildServingApp(t, 'file');
  const call = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
    return JSON.parse(r.body) as Record<string, unknown>;
  };
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  const v3 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  await call('POST', '/endpoints/iris/deploy', { model: `iris/${v1}` });
  const d = await call('POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'canary', step_interval_s: 0.3, steps: [10, 20, 100] });
  assert.deepEqual(d.weights, { 'iris/1': 90, 'iris/2': 10 }, JSON.stringify(d));
  // Every canary step writes the endpoint's configuration; a failing disk makes that write throw inside the tick.
  app.ctx.db.exec("CREATE TRIGGER broken_disk BEFORE UPDATE ON serving_endpoints BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
  const errors = async () => Number(/ml_serving_tick_errors_total (\d+)/.exec(String((await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body))?.[1] ?? -1);
  for (let i = 0; i < 200 && (await errors()) < 2; i++) await sleep(50);
  assert.ok((await errors()) >= 2, `tick errors counted: ${await errors()}`);
  const scored = await call('POST', '/endpoints/iris/invocations', { inputs: [[1, 1, 0, 0]] });
  assert.deepEqual(scored.predictions, [1]);
  app.ctx.db.exec('DROP TRIGGER broken_disk');
  // The loop is still running: a new canary ramps to the end.
  const again = await call('POST', '/endpoints/iris/deploy', { model: `iris/${v3}`, strategy: 'canary', step_interval_s: 0.1, steps: [50, 100] });
  assert.equal(again.status, 'canary', JSON.stringify(again));
  let info = again;
  for (let i = 0; i < 200 && info.status !== 'serving'; i++) {
    await sleep(50);
    info = await call('GET', '/endpoints/iris');
  }
  assert.equal(info.status, 'serving', JSON.stringify(info));
  assert.deepEqual(info.weights, { [`iris/${v3}`]: 100 });
});
