import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_KINDS, harness, M, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;
interface RunBody {
  run: { info: { run_id: string; run_uuid: string; status: string; artifact_uri: string; lifecycle_stage: string; run_name: string; end_time?: number }; data: { metrics?: Obj[]; params?: Obj[]; tags?: Obj[] }; inputs: Obj; outputs: Obj };
}

for (const kind of DB_KINDS) {
  void describe(`MLflow tracking API (${kind} database)`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(kind);
    });
    after(async () => {
      assert.deepEqual(h.serverErrors, [], 'no request may answer 5xx');
      await h.close();
    });

    const createExp = async (name: string) => (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name })).body.experiment_id;
    const createRun = async (experiment_id: string, extra: Obj = {}) => (await h.call<RunBody>('POST', M('runs/create'), { experiment_id, start_time: 1000, ...extra })).body.run;

    void test('auth: every route but /health needs the bearer token', async () => {
      const health = await h.app.server.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.body, 'OK');
      for (const authorization of [undefined, 'Bearer wrong', 'Basic dGVzdDp0ZXN0']) {
        const res = await h.app.server.inject({ method: 'GET', url: M('experiments/get?experiment_id=0'), headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401);
        assert.equal(JSON.parse(res.body).error_code, 'UNAUTHENTICATED');
      }
    });

    void test('experiments: create, get, get-by-name, rename, tags, delete, restore, search', async () => {
      const id = await createExp('exp-a');
      assert.match(id, /^\d+$/);
      const got = await h.call<{ experiment: Obj }>('GET', M('experiments/get'), { experiment_id: id });
      assert.equal(got.status, 200);
      assert.equal(got.body.experiment.artifact_location, `mlflow-artifacts:/${id}`);
      assert.equal(got.body.experiment.lifecycle_stage, 'active');
      const byName = await h.call<{ experiment: Obj }>('GET', M('experiments/get-by-name'), { experiment_name: 'exp-a' });
      assert.equal(byName.body.experiment.experiment_id, id);
      const dup = await h.call('POST', M('experiments/create'), { name: 'exp-a' });
      assert.deepEqual([dup.status, dup.body.error_code], [400, 'RESOURCE_ALREADY_EXISTS']);
      assert.equal((await h.call('POST', M('experiments/update'), { experiment_id: id, new_name: 'exp-b' })).status, 200);
      assert.equal((await h.call('POST', M('experiments/set-experiment-tag'), { experiment_id: id, key: 'team', value: 'ml' })).status, 200);
      let exp = (await h.call<{ experiment: { name: string; tags: Obj[] } }>('GET', M('experiments/get'), { experiment_id: id })).body.experiment;
      assert.equal(exp.name, 'exp-b');
      assert.deepEqual(exp.tags, [{ key: 'team', value: 'ml' }]);
      const s = await h.call<{ experiments: { name: string }[] }>('POST', M('experiments/search'), { filter: "name LIKE 'exp-%' and tags.team = 'ml'", order_by: ['name ASC'] });
      assert.deepEqual(s.body.experiments.map((e) => e.name), ['exp-b']);
      assert.equal((await h.call('POST', M('experiments/delete-experiment-tag'), { experiment_id: id, key: 'team' })).status, 200);
      assert.equal((await h.call('POST', M('experiments/delete'), { experiment_id: id })).status, 200);
      exp = (await h.call<{ experiment: { name: string; tags: Obj[]; lifecycle_stage?: string } }>('GET', M('experiments/get'), { experiment_id: id })).body.experiment;
      assert.equal((exp as Obj).lifecycle_stage, 'deleted');
      const active = await h.call<{ experiments: { name: string }[] }>('POST', M('experiments/search'), {});
      assert.ok(!active.body.experiments.some((e) => e.name === 'exp-b'));
      const deleted = await h.call<{ experiments: { name: string }[] }>('POST', M('experiments/search'), { view_type: 'DELETED_ONLY' });
      assert.deepEqual(deleted.body.experiments.map((e) => e.name), ['exp-b']);
      assert.equal((await h.call('POST', M('experiments/restore'), { experiment_id: id })).status, 200);
      const runOnDeleted = await h.call('POST', M('experiments/delete'), { experiment_id: '0' });
      assert.equal(runOnDeleted.status, 400);
    });

    void test('experiments: bad input is a 4xx naming the field', async () => {
      const cases: [string, string, unknown, number, string, RegExp][] = [
        ['POST', 'experiments/create', {}, 400, 'INVALID_PARAMETER_VALUE', /'name'/],
        ['POST', 'experiments/create', { name: 'x'.repeat(501) }, 400, 'INVALID_PARAMETER_VALUE', /limit is 500/],
        ['GET', 'experiments/get', { experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST', /id=999999/],
        ['GET', 'experiments/get', {}, 400, 'INVALID_PARAMETER_VALUE', /experiment_id/],
        ['GET', 'experiments/get-by-name', { experiment_name: 'nope' }, 404, 'RESOURCE_DOES_NOT_EXIST', /nope/],
        ['POST', 'experiments/search', { max_results: 50001 }, 400, 'INVALID_PARAMETER_VALUE', /max_results/],
        ['POST', 'experiments/search', { page_token: 'not-a-token' }, 400, 'INVALID_PARAMETER_VALUE', /page token/],
        ['POST', 'experiments/search', { filter: 'name = ' }, 400, 'INVALID_PARAMETER_VALUE', /Invalid filter/],
        ['POST', 'experiments/create', '{"name": ', 400, 'INVALID_PARAMETER_VALUE', /Malformed JSON|JSON/],
        ['POST', 'experiments/create', '[1,2]', 400, 'INVALID_PARAMETER_VALUE', /JSON object/],
      ];
      for (const [method, rpc, body, status, code, msg] of cases) {
        const r = await h.call<{ error_code: string; message: string }>(method, M(rpc), body);
        assert.equal(r.status, status, `${rpc} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error_code, code);
        assert.match(r.body.message, msg);
      }
    });

    void test('runs: create, log, read back, update, tags, delete and restore', async () => {
      const exp = await createExp('runs-exp');
      const conflict = await h.call('POST', M('runs/create'), { experiment_id: exp, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] });
      assert.equal(conflict.status, 400);
      const run = await createRun(exp, { run_name: 'r1', user_id: 'ana', tags: [{ key: 't', value: 'v' }] });
      assert.match(run.info.run_id, /^[0-9a-f]{32}$/);
      assert.equal(run.info.run_uuid, run.info.run_id);
      assert.equal(run.info.status, 'RUNNING');
      assert.equal(run.info.artifact_uri, `mlflow-artifacts:/${exp}/${run.info.run_id}/artifacts`);
      const id = run.info.run_id;
      assert.equal((await h.call('POST', M('runs/log-parameter'), { run_id: id, run_uuid: id, key: 'alpha', value: '0.5' })).status, 200);
      assert.equal((await h.call('POST', M('runs/log-parameter'), { run_id: id, key: 'alpha', value: '0.5' })).status, 200, 'same value again is a no-op');
      const changed = await h.call<{ message: string }>('POST', M('runs/log-parameter'), { run_id: id, key: 'alpha', value: '0.9' });
      assert.equal(changed.status, 400);
      assert.match(changed.body.message, /Changing param values is not allowed/);
      for (const [step, value] of [[0, 1.0], [1, 0.5], [2, 0.25]] as const) {
        assert.equal((await h.call('POST', M('runs/log-metric'), { run_uuid: id, key: 'loss', value, timestamp: 100 + step, step })).status, 200);
      }
      assert.equal((await h.call('POST', M('runs/log-metric'), { run_id: id, key: 'loss', value: 9, timestamp: 50, step: 1 })).status, 200, 'an older point is history, not latest');
      await h.call('POST', M('runs/log-batch'), { run_id: id, metrics: [{ key: 'n', value: 'NaN', timestamp: 1, step: 0 }, { key: 'inf', value: 'Infinity', timestamp: 1 }, { key: 'ninf', value: '-Infinity', timestamp: 1 }] });
      assert.equal((await h.call('POST', M('runs/set-tag'), { run_id: id, key: 'mlflow.runName', value: 'renamed' })).status, 200);
      assert.equal((await h.call('POST', M('runs/set-tag'), { run_id: id, key: 'gone', value: 'x' })).status, 200);
      assert.equal((await h.call('POST', M('runs/delete-tag'), { run_id: id, key: 'gone' })).status, 200);
      assert.equal((await h.call('POST', M('runs/delete-tag'), { run_id: id, key: 'gone' })).status, 404);
      const got = (await h.call<RunBody>('GET', M('runs/get'), { run_id: id, run_uuid: id })).body.run;
      const metrics = Object.fromEntries((got.data.metrics ?? []).map((m) => [m.key, m.value]));
      assert.deepEqual(metrics, { loss: 0.25, n: 'NaN', inf: 'Infinity', ninf: '-Infinity' });
      assert.equal(got.info.run_name, 'renamed');
      assert.deepEqual((got.data.tags ?? []).map((t) => t.key).sort(), ['mlflow.runName', 't']);
      const hist = await h.call<{ metrics: { step: number; value: number; timestamp: number }[]; next_page_token?: string }>('GET', M('metrics/get-history'), { run_id: id, metric_key: 'loss', max_results: 2 });
      assert.deepEqual(hist.body.metrics.map((m) => [m.timestamp, m.step, m.value]), [[50, 1, 9], [100, 0, 1]]);
      const hist2 = await h.call<{ metrics: { step: number }[]; next_page_token?: string }>('GET', M('metrics/get-history'), { run_id: id, metric_key: 'loss', max_results: 2, page_token: hist.body.next_page_token! });
      assert.deepEqual(hist2.body.metrics.map((m) => m.step), [1, 2]);
      assert.equal(hist2.body.next_page_token, undefined);
      const bulk = await h.call<{ metrics: { step: number; run_id: string }[] }>('GET', M('metrics/get-history-bulk-interval'), { run_ids: [id], metric_key: 'loss', start_step: 1, end_step: 2 });
      assert.deepEqual(bulk.body.metrics.map((m) => m.step).sort(), [1, 1, 2]);
      const upd = await h.call<{ run_info: { status: string; end_time: number } }>('POST', M('runs/update'), { run_id: id, status: 'FINISHED', end_time: 5000 });
      assert.deepEqual([upd.body.run_info.status, upd.body.run_info.end_time], ['FINISHED', 5000]);
      assert.equal((await h.call('POST', M('runs/update'), { run_id: id, status: 'DONE' })).status, 400);
      assert.equal((await h.call('POST', M('runs/delete'), { run_id: id })).status, 200);
      assert.equal((await h.call<RunBody>('GET', M('runs/get'), { run_id: id })).body.run.info.lifecycle_stage, 'deleted');
      assert.equal((await h.call('POST', M('runs/log-metric'), { run_id: id, key: 'x', value: 1, timestamp: 1 })).status, 400, 'a deleted run takes no writes');
      assert.equal((await h.call('POST', M('runs/restore'), { run_id: id })).status, 200);
      const missing = await h.call<{ error_code: string }>('GET', M('runs/get'), { run_id: 'f'.repeat(32) });
      assert.deepEqual([missing.status, missing.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
    });

    void test('log-batch: MLflow limits, validation, and a rejected batch writes nothing', async () => {
      const exp = await createExp('batch-exp');
      const id = (await createRun(exp)).info.run_id;
      const m = (i: number) => ({ key: `m${i % 7}`, value: i, timestamp: i, step: i });
      const tooMany = await h.call<{ message: string }>('POST', M('runs/log-batch'), { run_id: id, metrics: Array.from({ length: 1001 }, (_, i) => m(i)) });
      assert.equal(tooMany.status, 400);
      assert.match(tooMany.body.message, /at most 1000 metrics/);
      const bad: [Obj, RegExp][] = [
        [{ params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) }, /at most 100 params/],
        [{ tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) }, /at most 100 tags/],
        [{ metrics: [...Array.from({ length: 950 }, (_, i) => m(i)), { key: 'bad', value: 'abc', timestamp: 1 }] }, /metrics\[950\]\.value/],
        [{ metrics: [m(1), { key: 'x', value: 1, timestamp: 'soon' }] }, /metrics\[1\]\.timestamp/],
        [{ metrics: [m(1), { key: 'x', value: 1 }] }, /metrics\[1\]\.timestamp/],
        [{ metrics: [m(1), { key: 'x', value: 1, timestamp: -5 }] }, /timestamp/],
        [{ metrics: [m(1), { key: '../etc', value: 1, timestamp: 1 }] }, /normalised|Invalid Metric key/],
        [{ metrics: [m(1), { key: 'bad!key', value: 1, timestamp: 1 }] }, /Invalid Metric key/],
        [{ metrics: [m(2)], params: [{ key: 'p', value: 'a' }, { key: 'p', value: 'b' }] }, /Duplicate parameter keys/],
        [{ metrics: [m(3)], params: [{ key: 'long', value: 'x'.repeat(6001) }] }, /limit is 6000/],
        [{ metrics: [m(3)], tags: [{ key: 'k'.repeat(251), value: 'x' }] }, /limit is 250/],
      ];
      for (const [body, msg] of bad) {
        const r = await h.call<{ error_code: string; message: string }>('POST', M('runs/log-batch'), { run_id: id, ...body });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(r.body.message, msg);
      }
      // a param conflict found inside the transaction rolls back the metrics already written in it
      await h.call('POST', M('runs/log-parameter'), { run_id: id, key: 'fixed', value: '1' });
      const conflict = await h.call('POST', M('runs/log-batch'), { run_id: id, metrics: [m(1), m(2)], params: [{ key: 'fixed', value: '2' }] });
      assert.equal(conflict.status, 400);
      const run = (await h.call<RunBody>('GET', M('runs/get'), { run_id: id })).body.run;
      assert.equal(run.data.metrics, undefined, 'nothing from rejected batches was written');
      const ok = await h.call('POST', M('runs/log-batch'), { run_id: id, metrics: Array.from({ length: 1000 }, (_, i) => m(i)) });
      assert.equal(ok.status, 200);
      const dupAgain = await h.call('POST', M('runs/log-batch'), { run_id: id, metrics: [m(5), m(5)] });
      assert.equal(dupAgain.status, 200, 'exact duplicate points are accepted and de-duplicated');
      const hist = await h.call<{ metrics: unknown[] }>('GET', M('metrics/get-history'), { run_id: id, metric_key: 'm5' });
      assert.equal(hist.body.metrics.length, Math.ceil((1000 - 5) / 7));
    });

    void test('runs/search: filter grammar, order_by, paging, view types', async () => {
      const exp = await createExp('search-exp');
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await createRun(exp, { start_time: 10_000 + i, run_name: `run-${i}` });
        ids.push(r.info.run_id);
        const metrics = [{ key: 'rmse', value: i / 10, timestamp: 1 }];
        if (i % 3 === 0) metrics.push({ key: 'f1 score', value: 1 - i / 20, timestamp: 1 });
        await h.call('POST', M('runs/log-batch'), {
          run_id: r.info.run_id,
          metrics,
          params: [{ key: 'model', value: i % 2 ? 'tree' : 'linear' }],
          tags: [{ key: 'team', value: i < 6 ? 'Ops-A' : 'ml' }],
        });
        if (i % 4 === 0) await h.call('POST', M('runs/update'), { run_id: r.info.run_id, status: 'FINISHED', end_time: 20_000 });
      }
      const names = async (body: Obj) => {
        const r = await h.call<{ runs?: RunBody['run'][]; next_page_token?: string; message?: string }>('POST', M('runs/search'), { experiment_ids: [exp], ...body });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.runs ?? []).map((x) => x.info.run_name);
      };
      assert.deepEqual(await names({ filter: "metrics.rmse < 0.35 and params.model = 'tree'", order_by: ['metrics.rmse DESC'] }), ['run-3', 'run-1']);
      assert.deepEqual(await names({ filter: 'metrics.`f1 score` >= 0.7', order_by: ['metrics.`f1 score` ASC'] }), ['run-6', 'run-3', 'run-0']);
      assert.deepEqual(await names({ filter: "tags.team LIKE 'Ops%'", order_by: ['attributes.start_time ASC'], max_results: 3 }), ['run-0', 'run-1', 'run-2']);
      assert.deepEqual(await names({ filter: "tags.team LIKE 'ops%'" }), [], 'LIKE is case-sensitive');
      assert.equal((await names({ filter: "tags.team ILIKE 'ops%'" })).length, 6);
      assert.deepEqual(await names({ filter: "attributes.status = 'FINISHED'", order_by: ['start_time ASC'] }), ['run-0', 'run-4', 'run-8']);
      assert.deepEqual(await names({ filter: `attributes.run_id IN ('${ids[2]}', '${ids[5]}')`, order_by: ['attributes.run_name ASC'] }), ['run-2', 'run-5']);
      assert.deepEqual(await names({ filter: 'params.nothere IS NULL and metrics.rmse > 1.05' }), ['run-11']);
      assert.deepEqual(await names({ filter: "run_name = 'run-7'" }), ['run-7']);
      assert.deepEqual((await names({})).slice(0, 2), ['run-11', 'run-10'], 'default order: start_time DESC');
      // metrics missing on some runs sort last in both directions
      const f1 = await names({ order_by: ['metrics.`f1 score` DESC'], max_results: 5 });
      assert.deepEqual(f1.slice(0, 4), ['run-0', 'run-3', 'run-6', 'run-9']);
      // paging covers everything exactly once
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const r = await h.call<{ runs: RunBody['run'][]; next_page_token?: string }>('POST', M('runs/search'), { experiment_ids: [exp], max_results: 5, ...(token ? { page_token: token } : {}) });
        seen.push(...r.body.runs.map((x) => x.info.run_name));
        token = r.body.next_page_token;
      } while (token);
      assert.equal(new Set(seen).size, 12);
      assert.equal(seen.length, 12);
      await h.call('POST', M('runs/delete'), { run_id: ids[0] });
      assert.equal((await names({})).length, 11);
      assert.deepEqual(await names({ run_view_type: 'DELETED_ONLY' }), ['run-0']);
      assert.equal((await names({ run_view_type: 'ALL' })).length, 12);
      const errors: [Obj, RegExp][] = [
        [{ filter: "metrics.rmse < 1 OR params.model = 'x'" }, /OR is not supported/],
        [{ filter: "metrics.rmse < 'abc'" }, /numeric value/],
        [{ filter: 'params.model > 3' }, /comparator/],
        [{ filter: 'foo.bar = 1' }, /entity/],
        [{ filter: "attributes.user_id IN ('a')" }, /only supported for run_id/],
        [{ filter: 'attributes.colour = 1' }, /Invalid attribute key/],
        [{ page_token: Buffer.from('{"offset": -1}').toString('base64') }, /page token/],
        [{ page_token: '%%%' }, /page token/],
        [{ max_results: 50001 }, /max_results/],
        [{ order_by: ['metrics.rmse ASC', 'metrics.rmse DESC'] }, /more than once/],
      ];
      for (const [body, msg] of errors) {
        const r = await h.call<{ error_code: string; message: string }>('POST', M('runs/search'), { experiment_ids: [exp], ...body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
        assert.match(r.body.message, msg);
      }
    });

    void test('datasets, run inputs and outputs, lineage', async () => {
      const exp = await createExp('inputs-exp');
      const id = (await createRun(exp)).info.run_id;
      const ds = { name: 'train', digest: 'abc123', source_type: 'local', source: '/data/train.csv', schema: '{"a":"int"}' };
      assert.equal((await h.call('POST', M('runs/log-inputs'), { run_id: id, datasets: [{ dataset: ds, tags: [{ key: 'mlflow.data.context', value: 'training' }] }] })).status, 200);
      assert.equal((await h.call('POST', M('runs/log-inputs'), { run_id: id, datasets: [{ dataset: { name: 'x' } }] })).status, 400);
      assert.equal((await h.call('POST', M('runs/outputs'), { run_id: id, models: [{ model_id: 'm-1', step: 3 }] })).status, 200);
      const run = (await h.call<RunBody>('GET', M('runs/get'), { run_id: id })).body.run;
      assert.deepEqual(run.inputs, { dataset_inputs: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: ds }] });
      assert.deepEqual(run.outputs, { model_outputs: [{ model_id: 'm-1', step: 3 }] });
      const found = await h.call<{ runs: unknown[] }>('POST', M('runs/search'), { experiment_ids: [exp], filter: "datasets.digest = 'abc123' and datasets.context = 'training'" });
      assert.equal(found.body.runs.length, 1);
      const summaries = await h.call<{ dataset_summaries: Obj[] }>('POST', M('experiments/search-datasets'), { experiment_ids: [exp] });
      assert.deepEqual(summaries.body.dataset_summaries, [{ experiment_id: exp, name: 'train', digest: 'abc123', context: 'training' }]);
      const put = await h.call('PUT', `/api/v1/runs/${id}/lineage`, { code_commit: 'deadbeef', code_dirty: true, code_diff_digest: 'sha256:1', image_digest: 'sha256:img', command: 'python train.py', environment: { PYTHONHASHSEED: '0' } });
      assert.equal(put.status, 200);
      const lin = await h.call<{ lineage: Obj; datasets: Obj[] }>('GET', `/api/v1/runs/${id}/lineage`);
      assert.equal(lin.body.lineage.code_commit, 'deadbeef');
      assert.equal(lin.body.lineage.code_dirty, true);
      assert.deepEqual(lin.body.datasets, [{ name: 'train', digest: 'abc123', source_type: 'local', source: '/data/train.csv' }]);
      const badLineage = await h.call<{ error_code: string }>('PUT', `/api/v1/runs/${id}/lineage`, { code_dirty: 'maybe' });
      assert.equal(badLineage.status, 400);
      assert.equal((await h.call('GET', `/api/v1/runs/${'0'.repeat(32)}/lineage`)).status, 404);
    });

    void test('unknown endpoints answer ENDPOINT_NOT_FOUND', async () => {
      const r = await h.call<{ error_code: string }>('GET', M('no/such/thing'));
      assert.deepEqual([r.status, r.body.error_code], [404, 'ENDPOINT_NOT_FOUND']);
    });
  });
}
