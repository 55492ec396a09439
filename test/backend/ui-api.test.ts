import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { topicsOf } from '../../backend/src/api/v1/events';
import { choosePrimary } from '../../backend/src/api/v1/ui';
import { DB_KINDS, harness, M, TOKEN, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;

for (const kind of DB_KINDS) {
  void describe(`extension read API /api/v1/ui (${kind} database)`, () => {
    let h: Harness;
    let exp: string;
    const ids: string[] = [];
    before(async () => {
      h = await harness(kind);
      exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'ui' })).body.experiment_id;
      for (let i = 0; i < 5; i++) {
        const r = await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp, run_name: `r${i}`, start_time: 1000 + i, tags: [{ key: 'mlflow.source.name', value: 'src/train.py' }] });
        const id = r.body.run.info.run_id;
        ids.push(id);
        await h.call('POST', M('runs/log-batch'), {
          run_id: id,
          params: [{ key: 'lr', value: String(i % 2 ? 0.1 : 0.01) }],
          metrics: [0, 1, 2].flatMap((s) => [{ key: 'rmse', value: 10 - i - s, timestamp: 1 + s * 1000, step: s }]).concat([{ key: 'rmse', value: 99, timestamp: 0, step: 2 }]),
        });
      }
      await h.call('POST', M('runs/delete'), { run_id: ids[4] });
      await h.call('POST', M('registered-models/create'), { name: 'm' });
      await h.call('POST', M('model-versions/create'), { name: 'm', source: `runs:/${ids[0]}/model`, run_id: ids[0] });
      await h.call('POST', M('registered-models/alias'), { name: 'm', alias: 'champion', version: '1' });
    });
    after(async () => {
      assert.deepEqual(h.serverErrors, []);
      await h.close();
    });

    void test('experiments: active runs counted, primary metric chosen with its goal', async () => {
      const r = await h.call<{ experiments: Obj[] }>('GET', '/api/v1/ui/experiments');
      assert.equal(r.status, 200);
      const e = r.body.experiments.find((x) => x.name === 'ui')!;
      assert.equal(e.run_count, 4);
      assert.deepEqual(e.primary_metric, { key: 'rmse', goal: 'min' });
      await h.call('POST', M('experiments/set-experiment-tag'), { experiment_id: exp, key: 'mlops.primary_metric', value: 'custom:max' });
      const again = await h.call<{ experiments: Obj[] }>('GET', '/api/v1/ui/experiments');
      assert.deepEqual(again.body.experiments.find((x) => x.name === 'ui')!.primary_metric, { key: 'custom', goal: 'max' });
      await h.call('POST', M('experiments/delete-experiment-tag'), { experiment_id: exp, key: 'mlops.primary_metric' });
    });

    void test('runs: newest first, paged, with the primary metric', async () => {
      const p1 = await h.call<{ runs: Obj[]; total: number; next_offset: number | null }>('GET', '/api/v1/ui/runs', { experiment_id: exp, limit: 3 });
      assert.equal(p1.status, 200);
      assert.deepEqual(p1.body.runs.map((r) => r.name), ['r3', 'r2', 'r1']);
      assert.equal(p1.body.total, 4);
      assert.equal(p1.body.next_offset, 3);
      assert.deepEqual(p1.body.runs[0]!.metric, { key: 'rmse', value: 5 });
      const p2 = await h.call<{ runs: Obj[]; next_offset: number | null }>('GET', '/api/v1/ui/runs', { experiment_id: exp, offset: 3, limit: 3 });
      assert.deepEqual(p2.body.runs.map((r) => r.name), ['r0']);
      assert.equal(p2.body.next_offset, null);
    });

    void test('runs: bad input is a 4xx naming the problem', async () => {
      const missing = await h.call<Obj>('GET', '/api/v1/ui/runs', { experiment_id: '999' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.message, 'No experiment with id 999');
      const big = await h.call<Obj>('GET', '/api/v1/ui/runs', { experiment_id: exp, limit: 9999 });
      assert.equal(big.status, 400);
      assert.match(String(big.body.message), /limit/);
      assert.equal((await h.call('GET', '/api/v1/ui/runs')).status, 400);
    });

    void test('models: versions with aliases', async () => {
      const r = await h.call<{ models: { name: string; versions: Obj[] }[] }>('GET', '/api/v1/ui/models');
      assert.deepEqual(r.body.models.map((m) => [m.name, m.versions.map((v) => [v.version, v.aliases, v.run_id])]), [['m', [['1', ['champion'], ids[0]]]]]);
    });

    void test('compare: params, latest metrics and histories (last value per step); deleted runs are reported missing', async () => {
      const r = await h.call<{ runs: Obj[]; metrics: { key: string; series: { run_id: string; steps: number[]; values: number[] }[] }[]; missing: string[] }>('POST', '/api/v1/ui/compare', { run_ids: [ids[1], ids[4], 'nope'] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.missing, [ids[4], 'nope']);
      assert.deepEqual(r.body.runs.map((x) => [x.name, x.params, x.latest]), [['r1', { lr: '0.1' }, { rmse: 7 }]]);
      // The time of each kept value (the 99 at step 2 was logged earlier, at 0, and lost to 7 at 2001).
      assert.deepEqual(r.body.metrics[0], { key: 'rmse', series: [{ run_id: ids[1], steps: [0, 1, 2], values: [9, 8, 7], t0: 1, dt: [0, 1000, 2000] }] });
      assert.equal((await h.call('POST', '/api/v1/ui/compare', { run_ids: [] })).status, 400);
    });

    void test('script runs: matched by path suffix, with the primary metric', async () => {
      const r = await h.call<{ runs: Obj[]; primary_metric: Obj }>('GET', '/api/v1/ui/script-runs', { source: '/home/ana/project/src/train.py' });
      assert.equal(r.body.runs.length, 4);
      assert.deepEqual(r.body.primary_metric, { key: 'rmse', goal: 'min' });
      const none = await h.call<{ runs: Obj[] }>('GET', '/api/v1/ui/script-runs', { source: '/elsewhere/other.py' });
      assert.deepEqual(none.body.runs, []);
    });

    void test('audit: newest first', async () => {
      const r = await h.call<{ events: Obj[] }>('GET', '/api/v1/ui/audit', { limit: 2 });
      assert.equal(r.body.events.length, 2);
      assert.equal(r.body.events[0]!.action, 'alias.set');
    });
  });
}

void test('event stream: a write through HTTP is pushed to listeners as a topic', async () => {
  const h = await harness('file');
  try {
    await h.app.server.listen({ host: '127.0.0.1', port: 0 });
    const addr = h.app.server.server.address() as { port: number };
    const ctl = new AbortController();
    const res = await fetch(`http://127.0.0.1:${addr.port}/api/v1/events`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    await fetch(`http://127.0.0.1:${addr.port}${M('experiments/create')}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ev' }) });
    while (!text.includes('data:')) text += dec.decode((await reader.read()).value);
    const data = JSON.parse(text.split('data:')[1]!.split('\n')[0]!) as { topics: string[] };
    assert.deepEqual(data.topics, ['experiments']);
    const unauth = await fetch(`http://127.0.0.1:${addr.port}/api/v1/events`);
    assert.equal(unauth.status, 401);
    ctl.abort();
  } finally {
    await h.close();
  }
});

void test('topicsOf: reads publish nothing; writes map to the views they change', () => {
  assert.deepEqual(topicsOf('POST', '/api/2.0/mlflow/runs/search'), []);
  assert.deepEqual(topicsOf('GET', '/api/2.0/mlflow/runs/get?run_id=1'), []);
  assert.deepEqual(topicsOf('POST', '/api/2.0/mlflow/runs/log-batch'), ['runs', 'experiments']);
  assert.deepEqual(topicsOf('POST', '/api/2.0/mlflow/registered-models/alias'), ['models', 'audit']);
  assert.deepEqual(topicsOf('POST', '/api/v1/endpoints/iris/deploy'), ['endpoints', 'models', 'audit']);
  assert.deepEqual(topicsOf('POST', '/api/v1/jobs'), ['jobs', 'runs', 'experiments']);
  assert.deepEqual(topicsOf('POST', '/api/v1/ui/compare'), []);
  assert.deepEqual(choosePrimary(['zeta', 'loss', 'accuracy'], undefined), { key: 'accuracy', goal: 'max' });
  assert.deepEqual(choosePrimary(['zeta', 'b_error'], undefined), { key: 'b_error', goal: 'min' });
  assert.equal(choosePrimary([], undefined), null);
});
