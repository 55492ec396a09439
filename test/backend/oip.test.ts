import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import type { App } from '../../backend/src/app';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier, linearRegressor } from '../fixtures/onnx/models';

/** Open Inference Protocol (KServe V2) routes over the serving engine, through app.inject(). */

const champion = (r: number[]) => (r[0]! + r[1]! > r[2]! + r[3]! ? 1 : 0);
const challenger = (r: number[]) => (r[0]! > r[2]! ? 1 : 0);

async function inject(app: App, method: 'GET' | 'POST', url: string, payload?: string | Buffer, headers: Record<string, string> = {}) {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload === undefined ? {} : { payload }) });
  return { status: r.statusCode, raw: r.rawPayload, headers: r.headers, json: () => JSON.parse(r.body) as Record<string, unknown> };
}

const infer = (app: App, name: string, body: unknown, headers: Record<string, string> = {}) =>
  inject(app, 'POST', `/v2/models/${name}/infer`, JSON.stringify(body), { 'content-type': 'application/json', ...headers });

async function deploy(app: App, name: string, bytes: Uint8Array, body: Record<string, unknown> = {}, mlmodel?: string | null) {
  const v = registerOnnxModel(app.ctx, name, bytes, mlmodel === undefined ? {} : { mlmodel });
  const r = await app.server.inject({ method: 'POST', url: `/endpoints/${name}/deploy`, headers: AUTH, payload: { model: `${name}/${v}`, ...body } });
  assert.equal(r.statusCode, 200, r.body);
  return v;
}

void test('health, server and model metadata; readiness needs no token', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'iris', linearClassifier(CHAMPION));
  for (const path of ['/v2/health/live', '/v2/health/ready']) {
    const r = await app.server.inject({ method: 'GET', url: path });
    assert.equal(r.statusCode, 200, path);
  }
  assert.equal((await app.server.inject({ method: 'GET', url: '/v2/models/iris' })).statusCode, 401);
  assert.deepEqual((await inject(app, 'GET', '/v2')).json().extensions, ['binary_tensor_data']);
  const meta = (await inject(app, 'GET', '/v2/models/iris')).json();
  assert.deepEqual(meta, {
    name: 'iris',
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }],
    parameters: { models: ['iris/1'] },
  });
  assert.equal((await inject(app, 'GET', '/v2/models/iris/versions/1')).status, 200);
  assert.equal((await inject(app, 'GET', '/v2/models/iris/ready')).status, 200);
  const missing = await inject(app, 'GET', '/v2/models/iris/versions/7');
  assert.equal(missing.status, 404);
  assert.match(String(missing.json().error), /does not serve version 7 \(it serves 1\)/);
  const none = await inject(app, 'GET', '/v2/models/nope');
  assert.equal(none.status, 404);
  assert.match(String(none.json().error), /Endpoint 'nope' does not exist/);
});

void test('infer with JSON tensors: the model input, nested data, or one column per feature', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'iris', linearClassifier(CHAMPION));
  const rows = sampleRows(6);
  const want = rows.map(champion);
  const bodies = [
    { id: 'req-1', inputs: [{ name: 'X', shape: [6, 4], datatype: 'FP32', data: rows.flat() }] },
    { id: 'req-1', inputs: [{ name: 'X', shape: [6, 4], datatype: 'FP64', data: rows }] },
    { id: 'req-1', inputs: FEATURES.map((f, i) => ({ name: f, shape: [6, 1], datatype: 'FP64', data: rows.map((r) => r[i]) })) },
    { id: 'req-1', inputs: FEATURES.map((f, i) => ({ name: f, shape: [6], datatype: 'FP32', data: rows.map((r) => r[i]) })) },
  ];
  for (const body of bodies) {
    const r = await infer(app, 'iris', body);
    assert.equal(r.status, 200, r.raw.toString());
    assert.deepEqual(r.json(), { model_name: 'iris', model_version: '1', id: 'req-1', outputs: [{ name: 'label', datatype: 'INT64', shape: [6], data: want }] });
    assert.equal(r.headers['x-mlops-variant'], 'iris/1');
  }
  // The same prediction log and metrics as /invocations.
  const logged = JSON.parse((await app.server.inject({ method: 'GET', url: '/endpoints/iris/predictions?limit=100', headers: AUTH })).body) as { predictions: { requestId: string }[] };
  assert.equal(logged.predictions.filter((p) => p.requestId === 'req-1').length, bodies.length);
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
  assert.match(metrics, /ml_endpoint_requests_total\{endpoint="iris",variant="iris\/1",outcome="ok"\} 4/);
});

void test('a regressor answers FP32 [N, 1]', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'reg', linearRegressor([1, 2, 3, 4], 0.5), {}, null);
  const r = await infer(app, 'reg', { inputs: [{ name: 'X', shape: [2, 4], datatype: 'FP32', data: [1, 1, 1, 1, 0, 0, 0, 1] }] });
  assert.deepEqual(r.json().outputs, [{ name: 'variable', datatype: 'FP32', shape: [2, 1], data: [10.5, 4.5] }]);
});

void test('binary tensor extension in and out, and a gzip body', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'iris', linearClassifier(CHAMPION));
  const rows = sampleRows(5);
  const raw = Buffer.from(Float32Array.from(rows.flat()).buffer);
  const head = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'X', shape: [5, 4], datatype: 'FP32', parameters: { binary_data_size: raw.length } }], outputs: [{ name: 'label', parameters: { binary_data: true } }] }),
  );
  const r = await inject(app, 'POST', '/v2/models/iris/infer', Buffer.concat([head, raw]), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) });
  assert.equal(r.status, 200, r.raw.toString());
  const jsonLen = Number(r.headers['inference-header-content-length']);
  const meta = JSON.parse(r.raw.subarray(0, jsonLen).toString()) as { outputs: { datatype: string; shape: number[]; parameters: { binary_data_size: number } }[] };
  assert.deepEqual(meta.outputs[0], { name: 'label', datatype: 'INT64', shape: [5], parameters: { binary_data_size: 40 } });
  const labels = new BigInt64Array(r.raw.buffer.slice(r.raw.byteOffset + jsonLen, r.raw.byteOffset + jsonLen + 40));
  assert.deepEqual(Array.from(labels, Number), rows.map(champion));

  const gz = gzipSync(JSON.stringify({ inputs: [{ name: 'X', shape: [5, 4], datatype: 'FP32', data: rows.flat() }] }));
  const z = await inject(app, 'POST', '/v2/models/iris/infer', gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.deepEqual((z.json().outputs as { data: number[] }[])[0]!.data, rows.map(champion));
  const d = await inject(app, 'POST', '/v2/models/iris/infer', deflateSync(JSON.stringify({ inputs: [{ name: 'X', shape: [5, 4], datatype: 'FP32', data: rows.flat() }] })), { 'content-type': 'application/json', 'content-encoding': 'deflate' });
  assert.deepEqual((d.json().outputs as { data: number[] }[])[0]!.data, rows.map(champion));
  const br = await inject(app, 'POST', '/v2/models/iris/infer', Buffer.from('x'), { 'content-type': 'application/json', 'content-encoding': 'br' });
  assert.equal(br.status, 400);
  assert.match(String(br.json().error), /Content-Encoding 'br' is not supported/);
});

void test('A/B routing applies to V2 requests; a version in the path is refused while traffic is split', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'ab', linearClassifier(CHAMPION));
  await deploy(app, 'ab', linearClassifier(CHALLENGER), { strategy: 'ab', weight: 50 });
  const rows = sampleRows(1, 7);
  const seen = new Map<string, number>();
  for (let i = 0; i < 60; i++) {
    const r = await infer(app, 'ab', { inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: rows[0] }] });
    const variant = String(r.headers['x-mlops-variant']);
    seen.set(variant, (seen.get(variant) ?? 0) + 1);
    const out = (r.json().outputs as { data: number[] }[])[0]!.data[0];
    assert.equal(out, variant === 'ab/1' ? champion(rows[0]!) : challenger(rows[0]!));
    assert.equal(r.json().model_version, variant.split('/')[1]);
  }
  assert.deepEqual([...seen.keys()].sort(), ['ab/1', 'ab/2']);
  // A sticky key keeps a caller on one variant.
  const sticky = new Set<string>();
  for (let i = 0; i < 10; i++) {
    sticky.add(String((await infer(app, 'ab', { inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: rows[0] }], parameters: { sticky_key: 'user-42' } })).headers['x-mlops-variant']));
  }
  assert.equal(sticky.size, 1);
  const meta = (await inject(app, 'GET', '/v2/models/ab')).json();
  assert.deepEqual(meta.versions, ['1', '2']);
  const pinned = await inject(app, 'POST', '/v2/models/ab/versions/1/infer', JSON.stringify({ inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: rows[0] }] }), { 'content-type': 'application/json' });
  assert.equal(pinned.status, 400);
  assert.match(String(pinned.json().error), /splits traffic between versions 1 and 2/);
});

void test('hostile or wrong V2 requests get a 4xx with the protocol error and MLflow error code', async (t) => {
  const app = await buildServingApp(t);
  await deploy(app, 'iris', linearClassifier(CHAMPION));
  const X = (over: Record<string, unknown>) => ({ inputs: [{ name: 'X', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...over }] });
  const cases: [unknown, RegExp][] = [
    [{}, /"inputs" must be a non-empty array/],
    [[1, 2], /must be a JSON object/],
    [X({ shape: [2, 4] }), /has 4 elements; its shape \[2, 4\] needs 8/],
    [X({ shape: [1, -4] }), /"shape" must be an array of at most 8 non-negative integers/],
    [X({ shape: Array(9).fill(1) }), /at most 8/],
    [X({ datatype: 'FP128' }), /datatype "FP128" is not one of/],
    [X({ data: [1, 2, 'x', 4] }), /Input 'X' \(FP32\): element 2 is "x"/],
    [X({ data: [[1, 2], [3, 4]] }), /does not match its shape \[1, 4\]/],
    [X({ data: [[[[[[[[[[[1]]]]]]]]]]] }), /does not match its shape/],
    [X({ data: undefined }), /neither "data" nor binary_data_size/],
    [X({ parameters: { binary_data_size: 16 } }), /binary_data_size 16 does not fit the 0 bytes/],
    [X({ shape: [1, 3], data: [1, 2, 3] }), /Row 0 has 3 values; the model expects 4/],
    [{ inputs: [{ name: 'colour', shape: [1], datatype: 'FP32', data: [1] }] }, /unknown feature\(s\) 'colour'/],
    [{ ...X({}), outputs: [{ name: 'probabilities' }] }, /Unknown output\(s\) 'probabilities'; the endpoint serves 'label'/],
    [{ ...X({}), outputs: [{ name: 'label', parameters: { classification: 2 } }] }, /classification extension is not supported/],
  ];
  for (const [body, msg] of cases) {
    const r = await infer(app, 'iris', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    const b = r.json();
    assert.match(String(b.error), msg, JSON.stringify(body));
    assert.equal(b.error_code, 'INVALID_PARAMETER_VALUE');
  }
  const badJson = await inject(app, 'POST', '/v2/models/iris/infer', '{"inputs": [', { 'content-type': 'application/json' });
  assert.equal(badJson.status, 400);
  assert.match(String(badJson.json().error), /Malformed JSON/);
  const headerTooLong = await inject(app, 'POST', '/v2/models/iris/infer', '{}', { 'inference-header-content-length': '99' });
  assert.match(String(headerTooLong.json().error), /Inference-Header-Content-Length is 99; the body has 2 bytes/);
  const big = Buffer.alloc(11 * 1024 * 1024, 32);
  assert.equal((await inject(app, 'POST', '/v2/models/iris/infer', big, { 'content-type': 'application/json' })).status, 413);
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 32));
  const r = await inject(app, 'POST', '/v2/models/iris/infer', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
  assert.equal(r.status, 413);
  assert.match(String(r.json().error), /decompressed body exceeds/);
  const unused = await infer(app, 'nobody', X({}));
  assert.equal(unused.status, 404);
});

void test('property: no V2 request body, JSON or binary, gets a 5xx or a reply without the error shape', async (t) => {
  const fc = (await import('fast-check')).default;
  const app = await buildServingApp(t);
  await deploy(app, 'iris', linearClassifier(CHAMPION));
  const dtype = fc.constantFrom('FP32', 'FP64', 'INT64', 'INT32', 'BOOL', 'BYTES', 'UINT8', 'FP16', 'x');
  const scalar = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string({ maxLength: 4 }), fc.constant(null));
  const data = fc.oneof(fc.array(scalar, { maxLength: 12 }), fc.array(fc.array(scalar, { maxLength: 5 }), { maxLength: 4 }), scalar);
  const shape = fc.oneof({ arbitrary: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }), weight: 4 }, fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 9 }), fc.constant('1'), fc.array(fc.double(), { maxLength: 2 }));
  const name = fc.oneof(fc.constantFrom('X', 'sepal_length', 'petal_width', '__proto__', 'constructor', ''), fc.string({ maxLength: 6 }));
  const tensor = fc.record({ name, shape, datatype: dtype, data, parameters: fc.option(fc.record({ binary_data_size: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: -4, max: 64 }), fc.string()) }), { nil: undefined }) }, { requiredKeys: ['name', 'shape', 'datatype'] });
  const body = fc.record(
    {
      id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
      inputs: fc.oneof({ arbitrary: fc.array(tensor, { minLength: 1, maxLength: 4 }), weight: 4 }, { arbitrary: fc.anything(), weight: 1 }),
      outputs: fc.oneof(fc.array(fc.record({ name, parameters: fc.anything() }, { requiredKeys: [] }), { maxLength: 2 }), fc.anything()),
      parameters: fc.oneof(fc.record({ binary_data_output: fc.boolean(), sticky_key: fc.anything() }, { requiredKeys: [] }), fc.anything()),
    },
    { requiredKeys: ['inputs'] },
  );
  await fc.assert(
    // The binary extension: no header (all JSON), the exact JSON length (then `tail` is the tensors' bytes), or any number.
    fc.asyncProperty(body, fc.uint8Array({ maxLength: 48 }), fc.oneof(fc.constant('none'), fc.constant('exact'), fc.constant('exact'), fc.integer({ min: -5, max: 400 })), async (b, tail, header) => {
      const json = Buffer.from(JSON.stringify(b) ?? 'null');
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
      if (header !== 'none') headers['inference-header-content-length'] = String(header === 'exact' ? json.length : header);
      const r = await inject(app, 'POST', '/v2/models/iris/infer', Buffer.concat([json, header !== 'none' ? Buffer.from(tail) : Buffer.alloc(0)]), headers);
      assert.ok(r.status < 500, `${r.status} for ${json.toString()}: ${r.raw.toString().slice(0, 300)}`);
      if (r.status !== 200) {
        const e = r.json();
        assert.equal(typeof e.error, 'string');
        assert.equal(typeof e.error_code, 'string');
      }
    }),
    { numRuns: Number(process.env.FUZZ_RUNS ?? 1500), seed: 20261205 },
  );
});
