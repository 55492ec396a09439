import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ROOT } from '../../helpers/backend';
import { scaleoutPython } from '../../helpers/scaleout';
import { TOKEN, AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../../fixtures/onnx/models';

const run = promisify(execFile);
const champion = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);

void test('the real tritonclient[http] (Open Inference Protocol) talks to an endpoint', { timeout: 180_000 }, async (t) => {
  const app = await buildServingApp(t);
  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const dep = await app.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: { model: `iris/${v}` } });
  assert.equal(dep.statusCode, 200, dep.body);
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.server.address() as AddressInfo;
  const rows = sampleRows(7);
  const want = rows.map(champion);
  const { stdout } = await run(scaleoutPython(), [join(ROOT, 'test/python/oip_client.py'), `127.0.0.1:${port}`, TOKEN, 'iris', JSON.stringify(rows), JSON.stringify(FEATURES)], { timeout: 120_000 }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      throw new Error(`client script failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
    },
  );
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown> & {
    binary: { dtype: string; shape: number[]; data: number[]; id: string };
    json: { data: number[]; response: { outputs: unknown[] } };
    metadata: { inputs: unknown[]; outputs: unknown[]; versions: string[] };
    error: { status: string; message: string };
  };
  // Liveness and readiness need no token, like a Kubernetes probe; everything else does (then the plugin adds it).
  assert.equal(out.unauthenticated_live, true);
  assert.equal(out.live, true);
  assert.equal(out.ready, true);
  assert.equal(out.model_ready, true);
  assert.equal(out.missing_ready, false);
  assert.deepEqual((out.server as { extensions: string[] }).extensions, ['binary_tensor_data']);
  assert.deepEqual(out.metadata.inputs, [{ name: 'X', datatype: 'FP32', shape: [-1, 4] }]);
  assert.deepEqual(out.metadata.outputs, [{ name: 'label', datatype: 'INT64', shape: [-1] }]);
  assert.deepEqual(out.metadata.versions, ['1']);
  assert.deepEqual(out.binary, { dtype: 'int64', shape: [7], data: want, id: 'triton-1' });
  assert.deepEqual(out.json.data, want);
  assert.deepEqual(out.json.response.outputs, [{ name: 'label', datatype: 'INT64', shape: [7], data: want }]);
  assert.deepEqual(out.columns, want);
  assert.equal(out.error.status, '400');
  assert.match(out.error.message, /Row 0 has 3 values; the model expects 4/);
  // Every V2 request went through the engine: 3 successful inferences logged, under the client's request id too.
  const log = JSON.parse((await app.server.inject({ method: 'GET', url: '/endpoints/iris/predictions', headers: AUTH })).body) as { predictions: { requestId: string }[] };
  assert.equal(log.predictions.length, 3);
  assert.ok(log.predictions.some((p) => p.requestId === 'triton-1'));
});
