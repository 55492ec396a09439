import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { logisticRegressionOnnx } from '../../../backend/src/services/demo/onnx';
import { makeDataset, train } from '../../../backend/src/services/demo/train';

void test('the demo model exported to ONNX predicts what the JavaScript model predicts', async () => {
  const trainSet = makeDataset(500, 1);
  const val = makeDataset(200, 2);
  const m = train(trainSet, val, 0.5, 20, 0);
  const session = await ort.InferenceSession.create(logisticRegressionOnnx(m.weights, m.bias));
  const flat = Float32Array.from(val.x.flatMap((r) => Array.from(r)));
  const out = await session.run({ X: new ort.Tensor('float32', flat, [val.x.length, 4]) });
  const probs = out.probabilities!.data as Float32Array;
  const labels = out.label!.data as BigInt64Array;
  let agree = 0;
  for (let i = 0; i < val.x.length; i++) {
    const z = val.x[i]!.reduce((s, v, j) => s + v * m.weights[j]!, m.bias);
    const p = 1 / (1 + Math.exp(-z));
    assert.ok(Math.abs(probs[2 * i + 1]! - p) < 1e-5, `row ${i}: onnx ${probs[2 * i + 1]} vs js ${p}`);
    assert.ok(Math.abs(probs[2 * i]! + probs[2 * i + 1]! - 1) < 1e-6);
    if (Number(labels[i]) === (p >= 0.5 ? 1 : 0)) agree++;
  }
  assert.ok(agree >= val.x.length - 1, 'labels agree (ties at p = 0.5 aside)');
  await session.release();
});
