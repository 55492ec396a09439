import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, TOKEN } from '../helpers/app';

const A = '/api/2.0/mlflow-artifacts/artifacts';

void test('artifact service: upload, list, download, delete; unsafe paths refused', async () => {
  const h = await harness('file');
  try {
    const put = (path: string, payload: string | Buffer, type = 'application/octet-stream') =>
      h.app.server.inject({ method: 'PUT', url: `${A}/${path}`, payload, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type } });
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    assert.equal((await put('1/run/artifacts/model/MLmodel', 'flavors: {}\n', 'text/plain')).statusCode, 200);
    assert.equal((await put('1/run/artifacts/model/weights.bin', big)).statusCode, 200);
    assert.equal((await put('1/run/artifacts/input_example.json', '{"a": 1}', 'application/json')).statusCode, 200, 'JSON files are stored as bytes, not parsed');
    const list = await h.call<{ files: { path: string; is_dir: boolean; file_size?: number }[] }>('GET', A, { path: '1/run/artifacts' });
    assert.deepEqual(list.body.files, [
      { path: 'input_example.json', is_dir: false, file_size: 8 },
      { path: 'model', is_dir: true },
    ]);
    assert.deepEqual((await h.call('GET', A, { path: '1/run/artifacts/none' })).body, {}, 'an empty listing is {}');
    const dl = await h.app.server.inject({ method: 'GET', url: `${A}/1/run/artifacts/model/weights.bin`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.rawPayload.length, big.length);
    assert.ok(dl.rawPayload.equals(big));
    assert.match(String(dl.headers['content-disposition']), /weights\.bin/);
    assert.equal((await h.call('GET', `${A}/1/run/artifacts/missing.txt`)).status, 404);
    // the MLflow tracking-side listing is run-relative
    // A literal '..' is folded by URL parsing before routing (then no route matches: 404); encoded dots reach us.
    const literal = await put('1/../../../../outside.txt', 'x');
    assert.ok(literal.statusCode === 400 || literal.statusCode === 404, String(literal.statusCode));
    assert.equal(existsSync(join(h.home, 'outside.txt')), false);
    for (const bad of ['1/run/a%5Cb', '1/x%00y', '1/a%23b', '/etc/x']) {
      const r = await put(bad, 'x');
      assert.equal(r.statusCode, 400, bad);
      assert.equal(JSON.parse(r.body).error_code, 'INVALID_PARAMETER_VALUE');
    }
    for (const path of ['../..', '1/../../x', '/etc', '1/./x', 'C:\\x']) {
      const escape = await h.call<{ error_code: string }>('GET', A, { path });
      assert.deepEqual([escape.status, escape.body.error_code], [400, 'INVALID_PARAMETER_VALUE'], path);
    }
    // a symlink inside the root that points outside it is not followed
    const outside = join(h.home, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(outside, join(h.home, 'artifacts', 'link'));
    assert.equal((await h.call('GET', `${A}/link/secret.txt`)).status, 400);
    assert.equal((await put('link/new.txt', 'x')).statusCode, 400);
    const del = await h.app.server.inject({ method: 'DELETE', url: `${A}/1/run/artifacts/input_example.json`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(del.statusCode, 200);
    assert.equal((await h.call('GET', `${A}/1/run/artifacts/input_example.json`)).status, 404);
    const mpu = await h.call<{ error_code: string; message: string }>('POST', '/api/2.0/mlflow-artifacts/mpu/create/1/x', { path: 'x', num_parts: 2 });
    assert.equal(mpu.status, 501);
    assert.match(mpu.body.message, /^Multipart upload is not supported/);
    assert.equal((await h.app.server.inject({ method: 'PUT', url: `${A}/1/x.txt`, payload: 'x' })).statusCode, 401);
    assert.deepEqual(h.serverErrors, []);
  } finally {
    await h.close();
  }
});
