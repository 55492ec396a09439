import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import { harness, M, TOKEN, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;

void describe('search under hostile filters (file database)', () => {
  let h: Harness;
  let exp: string;
  let runId: string;
  let artifactUri: string;
  before(async () => {
    h = await harness('file');
    exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'hostile' })).body.experiment_id;
    for (let i = 0; i < 20; i++) {
      const run = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp, start_time: 1000 + i })).body.run.info.run_id;
      // 6,000 characters is MLflow's longest param value
      const res = await h.call('POST', M('runs/log-batch'), { run_id: run, params: [{ key: 'p', value: 'a'.repeat(6000) }], metrics: [{ key: 'm', value: i, timestamp: 1 }] });
      assert.equal(res.status, 200);
      runId = run;
    }
    artifactUri = ((await h.call<{ run: { info: { artifact_uri: string } } }>('GET', M('runs/get'), { run_id: runId })).body.run.info.artifact_uri);
  });
  after(async () => {
    assert.deepEqual(h.serverErrors, [], 'no request may answer 5xx');
    await h.close();
  });

  const search = (body: Obj) => h.call<{ runs?: unknown[]; error_code?: string; message?: string }>('POST', M('runs/search'), { experiment_ids: [exp], ...body });

  void test("LIKE '%a%a%a%a%b' over 6,000-character params answers in < 50 ms (a backtracking regex took 8 s on 200 characters)", async () => {
    const times: number[] = [];
    for (const [filter, want] of [
      ["params.p LIKE '%a%a%a%a%b'", 0],
      ["params.p ILIKE '%A%A%A%A%B'", 0],
      ["params.p LIKE '%a_a%a%a'", 20],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await search({ filter });
        times.push(performance.now() - t0);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.runs?.length ?? 0, want, filter);
      }
    }
    // best of three per pattern: the machine is shared, the claim is about the matcher
    const best = [0, 3, 6].map((i) => Math.min(...times.slice(i, i + 3)));
    console.log(`LIKE over 20 x 6,000 chars: best ${best.map((t) => t.toFixed(1)).join(' / ')} ms`);
    for (const t of best) assert.ok(t < 50, `search took ${t.toFixed(1)} ms`);
    assert.ok(runId);
  });

  /** A 400 in MLflow's shape whose message matches `msg`. */
  const rejects = (res: { status: number; body: { error_code?: string; message?: string } }, msg: RegExp, what: string) => {
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    assert.equal(res.body.error_code, 'INVALID_PARAMETER_VALUE', what);
    assert.match(res.body.message ?? '', msg, what);
  };

  void test('JS built-in names as filter and order_by keys are unknown keys, not Object members', async () => {
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      rejects(await search({ filter: `attributes.${key} = 'x'` }), /Invalid attribute key/, `runs filter ${key}`);
      rejects(await search({ filter: `${key}.x = 'x'` }), /invalid entity type/, `runs entity ${key}`);
      rejects(await search({ order_by: [`attributes.${key} DESC`] }), /Invalid order_by/, `runs order_by ${key}`);
      rejects(await search({ filter: `datasets.${key} = 'x'` }), /Invalid dataset key/, `datasets ${key}`);
      rejects(await h.call('POST', M('experiments/search'), { order_by: [key] }), /Invalid order_by key/, `experiments order_by ${key}`);
      rejects(await h.call('GET', M('model-versions/search'), { order_by: key }), /Invalid order by key/, `versions order_by ${key}`);
      rejects(await h.call('POST', M('logged-models/search'), { experiment_ids: [exp], filter: `attributes.${key} = 'x'` }), /Invalid attribute key/, `logged models ${key}`);
      rejects(await h.call('POST', M('logged-models/search'), { experiment_ids: [exp], order_by: [{ field_name: key }] }), /Invalid order_by field/, `logged models order ${key}`);
    }
    rejects(await h.call('POST', M('logged-models/search'), { experiment_ids: [exp], order_by: [null] }), /order_by/, 'logged models order_by [null]');
  });

  void test('page tokens with offsets past 2^53, and SQLite limits, get a 400 naming the limit', async () => {
    const token = (offset: unknown) => Buffer.from(JSON.stringify({ offset })).toString('base64');
    for (const offset of [1e20, 2 ** 53, -1, 1.5, '5']) {
      rejects(await search({ page_token: token(offset) }), /Invalid page token/, `offset ${offset}`);
      rejects(await h.call('POST', M('experiments/search'), { page_token: token(offset) }), /Invalid page token/, `experiments offset ${offset}`);
    }
    assert.equal((await search({ page_token: token(2 ** 53 - 1) })).status, 200);
    const and = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(' AND ');
    rejects(await search({ filter: and(70, (i) => `metrics.m${i} > 0`) }), /at most 50 distinct metrics, params and tags/, '70 metric clauses');
    rejects(await search({ order_by: Array.from({ length: 70 }, (_, i) => `metrics.m${i} DESC`) }), /at most 50 distinct/, '70 order_by keys');
    rejects(await search({ filter: and(1100, () => 'attributes.start_time > 0') }), /more than 200 comparisons/, '1,100 ANDs');
    rejects(await h.call('POST', M('experiments/search'), { filter: and(1100, () => "name != 'x'") }), /more than 200 comparisons/, 'experiments 1,100 ANDs');
    const list = `(${Array.from({ length: 40_000 }, (_, i) => `'r${i}'`).join(',')})`;
    rejects(await search({ filter: `attributes.run_id IN ${list}` }), /more than 10000 values in IN lists/, '40,000-value IN list');
    rejects(await search({ experiment_ids: Array.from({ length: 40_000 }, (_, i) => String(i)) }), /at most 10000 items/, '40,000 experiment ids');
    // what stays allowed: 50 keys, 200 comparisons, 10,000 listed run ids
    assert.equal((await search({ filter: and(50, (i) => `metrics.m${i % 50} > -1`) })).status, 200);
    assert.equal((await search({ filter: and(200, () => 'attributes.start_time > 0') })).status, 200);
    const ok = await search({ filter: `attributes.run_id IN (${[runId, ...Array.from({ length: 9_999 }, (_, i) => `r${i}`)].map((r) => `'${r}'`).join(',')})` });
    assert.deepEqual([ok.status, ok.body.runs?.length], [200, 1]);
  });

  void test('order_by with a long run of spaces parses in linear time', async () => {
    const t0 = performance.now();
    rejects(await search({ order_by: [`a${' '.repeat(100_000)}x`] }), /Invalid order_by/, 'spaces');
    assert.ok(performance.now() - t0 < 2000, `took ${(performance.now() - t0).toFixed(0)} ms`);
  });

  void test('a run under an artifact location of 200,000 slashes is created in linear time', async () => {
    const loc = `mlflow-artifacts:/a${'/'.repeat(200_000)}b`;
    const e = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'slashes', artifact_location: loc })).body.experiment_id;
    const t0 = performance.now();
    const res = await h.call<{ run: { info: { artifact_uri: string } } }>('POST', M('runs/create'), { experiment_id: e });
    const ms = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.ok(res.body.run.info.artifact_uri.endsWith('b/' + res.body.run.info.artifact_uri.split('/').slice(-2).join('/')));
    assert.ok(ms < 2000, `runs/create took ${ms.toFixed(0)} ms`);
  });

  void test('null inside lists, non-object datasets and schemas, and a fractional status are 400s', async () => {
    rejects(await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [null] }), /datasets\[0\]/, 'datasets [null]');
    rejects(await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [{ dataset: null }] }), /datasets\[0\]\.dataset/, 'dataset null');
    const ds = { name: 'd', digest: 'x1', source_type: 'local', source: 's' };
    rejects(await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [{ dataset: { ...ds, schema: { a: 1 } } }] }), /schema/, 'object schema');
    rejects(await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [{ dataset: ds, tags: 'abc' }] }), /tags/, 'string tags');
    rejects(await h.call('POST', M('runs/log-inputs'), { run_id: runId, models: [null] }), /models\[0\]/, 'models [null]');
    rejects(await h.call('POST', M('runs/outputs'), { run_id: runId, models: [null] }), /models\[0\]/, 'outputs [null]');
    rejects(await h.call('POST', M('runs/update'), { run_id: runId, status: 1.5 }), /status/, 'status 1.5');
    assert.equal((await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [{ dataset: { ...ds, schema: '{"a":1}' }, tags: [{ key: 'mlflow.data.context', value: 'train' }] }] })).status, 200);
    const sd = await h.call<{ dataset_summaries: { context?: string }[] }>('POST', M('experiments/search-datasets'), { experiment_ids: [exp] });
    assert.deepEqual(sd.body.dataset_summaries.map((d) => d.context), ['train']);
  });

  void test('artifact writes onto a directory, under a file, through a dangling symlink or with over-long names are 400s', async () => {
    const root = artifactUri.replace(/^mlflow-artifacts:\/*/, '');
    const dir = join(h.home, 'artifacts', root);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'file.txt'), 'x');
    symlinkSync(join(dir, 'nowhere', 'x'), join(dir, 'dangling'));
    symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
    const put = (p: string) => h.call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${root}/${p}`, 'data', { 'content-type': 'application/octet-stream' });
    rejects(await put('sub'), /is a directory/, 'onto a directory');
    rejects(await put('file.txt/x'), /is a file/, 'under a file');
    rejects(await put('dangling/x'), /broken link|file/, 'through a dangling symlink');
    rejects(await put('loop/x'), /symlink loop|broken link|file/, 'through a symlink loop');
    rejects(await put('n'.repeat(256)), /longer than 255 bytes/, 'a 256-byte name');
    rejects(await put(Array.from({ length: 20 }, () => 'd'.repeat(250)).join('/')), /longer than 4000 bytes/, 'a 5,000-byte path');
    const del = await h.call('DELETE', `/api/2.0/mlflow-artifacts/artifacts/${root}/dangling/${'n'.repeat(300)}`);
    rejects(del, /longer than 255 bytes/, 'delete a long name');
    rejects(await h.call('GET', '/api/2.0/mlflow-artifacts/artifacts?path=a&path=b'), /one string/, 'repeated path');
    // a download of a file named outside Latin-1 (Node refuses such a header: it was a 500 in Fastify's shape)
    assert.equal((await put('日本.json')).status, 200);
    const dl = await h.app.server.inject({ method: 'GET', url: `/api/2.0/mlflow-artifacts/artifacts/${root}/${encodeURIComponent('日本.json')}`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.headers['content-disposition'], `attachment; filename="__.json"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.json`);
    // a 255-byte name still works: the temporary file beside it has a short name of its own
    assert.equal((await put('n'.repeat(255))).status, 200);
    assert.equal((await put('dangling')).status, 200, 'a write onto a dangling link replaces the link');
  });

  void test('over-long path parameters, malformed escapes and over-long headers are 4xx in MLflow shape', async () => {
    const res = await h.app.server.inject({ method: 'GET', url: `/api/2.0/mlflow/logged-models/${'x'.repeat(1001)}`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 414);
    assert.equal(JSON.parse(res.body).error_code, 'INVALID_PARAMETER_VALUE');
    const ok = await h.app.server.inject({ method: 'GET', url: `/api/2.0/mlflow/logged-models/${'x'.repeat(300)}`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.statusCode, 404, 'a 300-character id is looked up (the router used to cap parameters at 100)');
    const bad = await h.app.server.inject({ method: 'GET', url: '/api/2.0/mlflow/logged-models/%zz', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual([bad.statusCode, JSON.parse(bad.body).error_code], [400, 'INVALID_PARAMETER_VALUE']);
    const actor = await h.call('POST', M('registered-models/create'), { name: 'm1' }, { 'x-mlops-actor': 'a'.repeat(257) });
    rejects(actor, /x-mlops-actor .* limit is 256/, 'long actor header');
    const anon = await h.app.server.inject({ method: 'POST', url: M('registered-models/create'), payload: { name: 'm2' }, headers: { 'x-mlops-actor': 'a'.repeat(257) } });
    assert.equal(anon.statusCode, 401, 'the token is checked first');
  });

  void test('over-long headers and malformed requests on a real socket get MLflow-shaped 4xx', async () => {
    await h.app.server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = h.app.server.server.address() as AddressInfo;
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => sock.end(text));
        let out = '';
        sock.on('data', (d: Buffer) => (out += d.toString()));
        sock.on('close', () => resolve(out));
        sock.on('error', reject);
      });
    for (const [req, status] of [
      [`GET /api/2.0/mlflow/experiments/get?experiment_id=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['GARBAGE\r\n\r\n', 400],
    ] as const) {
      const out = await raw(req);
      assert.match(out, new RegExp(`^HTTP/1.1 ${status} `), out.slice(0, 100));
      const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { error_code: string; message: string };
      assert.equal(typeof body.error_code, 'string');
      assert.equal(typeof body.message, 'string');
    }
  });
});
