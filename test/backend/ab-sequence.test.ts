import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import type { AbAnalysis } from '../../backend/src/services/serving/ab';
import { MAX_POINTS, type AbSequence } from '../../backend/src/services/serving/absequence';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

type Answer = AbAnalysis & { sequences: AbSequence[] };

async function call<T = Record<string, unknown>>(app: App, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

const truth = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);

void test('A/B sequence: per candidate and metric, the difference over time with its fixed-n interval inside the always-valid sequence', async (t) => {
  const app = await buildServingApp(t);
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` });
  const none = await call<Answer>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.deepEqual(none.body.sequences, [], 'one live arm: no sequence');
  await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v2}`, strategy: 'ab', weight: 50 });
  const feedback: { request_id: string; label: number }[] = [];
  for (const [i, row] of sampleRows(400, 7).entries()) {
    const r = await call(app, 'POST', '/endpoints/iris/invocations', { dataframe_split: { columns: [...FEATURES], data: [row] } }, { 'x-request-id': `q${i}` });
    assert.equal(r.status, 200);
    feedback.push({ request_id: `q${i}`, label: truth(row) });
  }
  await call(app, 'POST', '/endpoints/iris/feedback', { feedback });
  const r = await call<Answer>(app, 'GET', '/api/v1/ui/endpoints/iris/ab');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.sequences.map((s) => [s.metric, s.variant, s.control, s.alpha]), [['accuracy', 'iris/2', 'iris/1', 0.05], ['latency_ms', 'iris/2', 'iris/1', 0.05]]);
  const acc = r.body.sequences[0]!;
  const pts = acc.points;
  assert.ok(pts.length > 10 && pts.length <= MAX_POINTS + 1, `bounded: ${pts.length} points for 400 observations`);
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    assert.ok(p.cs_low <= p.ci_low && p.ci_high <= p.cs_high, `the always-valid sequence is wider than the fixed-n interval at point ${i}: ${JSON.stringify(p)}`);
    assert.ok(p.ci_low <= p.difference && p.difference <= p.ci_high);
    assert.ok(p.cs_low >= -1 && p.cs_high <= 1, 'a difference of proportions lies in [-1, 1]: the sequence is cut to it');
    if (i > 0) {
      assert.ok(p.t >= pts[i - 1]!.t, 'time moves forward');
      assert.ok(p.n_control + p.n_treatment > pts[i - 1]!.n_control + pts[i - 1]!.n_treatment);
      assert.ok(p.p_value <= pts[i - 1]!.p_value, 'the always-valid p never rises');
    }
  }
  // The last point is the whole test: its counts are the arms' requests and its difference the analysis' effect.
  const last = pts.at(-1)!;
  const served = (id: string) => r.body.variants.find((v) => v.id === id)!.requests;
  assert.deepEqual([last.n_control, last.n_treatment], [served('iris/1'), served('iris/2')]);
  const effect = r.body.tests.find((x) => x.metric === 'accuracy')!.effect;
  assert.ok(Math.abs(last.difference - effect) < 1e-12, `${last.difference} vs ${effect}`);
  // CHAMPION is always right, CHALLENGER often wrong: the fixed-n interval excludes 0 by the end (the sequence,
  // tuned for 5,000 per arm, is wider: it pays for being valid at every look).
  assert.ok(last.ci_high < 0, JSON.stringify(last));
  assert.ok(last.cs_high - last.cs_low > 2 * (last.ci_high - last.ci_low), JSON.stringify(last));
  assert.ok(pts[0]!.cs_high - pts[0]!.cs_low > last.cs_high - last.cs_low, 'the sequence narrows as traffic arrives');
  const lat = r.body.sequences[1]!;
  assert.equal(lat.points.at(-1)!.n_control, served('iris/1'));
});
