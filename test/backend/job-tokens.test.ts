import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobTokens } from '../../backend/src/services/jobs/tokens';
import { harness, M, TOKEN } from '../helpers/app';

interface Err {
  error_code: string;
  message: string;
}

void test("a job token writes only its own run's data; other writes are 403, after revocation 401", async () => {
  const h = await harness();
  try {
    const exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'e' })).body.experiment_id;
    const run = (id: string) => h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: id });
    const own = (await run(exp)).body.run.info.run_id;
    const other = (await run(exp)).body.run.info.run_id;
    const tokens = new JobTokens(h.app.ctx.db);
    const token = tokens.issue('job1', exp, own);
    const as = { authorization: `Bearer ${token}` };
    const call = <T,>(method: string, path: string, body?: unknown) => h.call<T>(method, path, body, as);
    const refused = async (method: string, path: string, body?: unknown) => {
      const r = await call<Err>(method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, 'PERMISSION_DENIED');
      assert.match(r.body.message, /^A job's token may not /);
    };

    assert.equal((await call('POST', M('runs/log-batch'), { run_id: own, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] })).status, 200);
    assert.equal((await call('GET', M('runs/get'), { run_id: other })).status, 200, 'reads are open');
    await refused('POST', M('runs/log-parameter'), { run_id: other, key: 'k', value: 'v' });
    // run_id is what the handler writes to: a matching run_uuid does not help.
    await refused('POST', M('runs/set-tag'), { run_id: other, run_uuid: own, key: 'k', value: 'v' });
    await refused('POST', M('runs/delete'), { run_id: own });
    await refused('POST', M('experiments/create'), { name: 'x' });
    await refused('POST', M('runs/create'), { experiment_id: '0' });
    await refused('POST', M('registered-models/alias'), { name: 'm', alias: 'a', version: '1' });
    await refused('DELETE', M('registered-models/delete'), { name: 'm' });
    await refused('GET', '/api/v1/jobs');
    await refused('GET', '/api/v1/audit');
    await refused('POST', '/endpoints/x/deploy', { model: 'm/1' });
    await refused('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${other}/artifacts/x.txt`, 'x');
    await refused('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${own}/artifacts/../../${other}/artifacts/x.txt`, 'x');
    assert.equal((await call('PUT', `/api/2.0/mlflow-artifacts/artifacts/${exp}/${own}/artifacts/x.txt`, 'x')).status, 200);

    // A run it creates in its experiment (a nested run) is its own to write.
    const child = (await call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp })).body.run.info.run_id;
    assert.equal((await call('POST', M('runs/log-metric'), { run_id: child, key: 'c', value: 1, timestamp: 1 })).status, 200);
    const model = (await call<{ model: { info: { model_id: string } } }>('POST', M('logged-models'), { experiment_id: exp, source_run_id: own })).body.model.info.model_id;
    assert.equal((await call('PATCH', M(`logged-models/${model}`), { status: 'LOGGED_MODEL_READY' })).status, 200);
    assert.equal((await call('POST', M('registered-models/create'), { name: 'm' })).status, 200);
    assert.equal((await call('POST', M('model-versions/create'), { name: 'm', source: `models:/${model}`, model_id: model })).status, 200);
    await refused('POST', M('model-versions/create'), { name: 'm', source: `runs:/${other}/model`, run_id: other });

    tokens.revokeJob('job1');
    const dead = await call<Err>('POST', M('runs/log-batch'), { run_id: own, metrics: [] });
    assert.equal(dead.status, 401);
    assert.deepEqual(dead.body, { error_code: 'UNAUTHENTICATED', message: 'This job token was revoked: job job1 has ended' });
    assert.deepEqual(h.serverErrors, []);
  } finally {
    await h.close();
  }
});

void test("API answers never carry the backend's token", async () => {
  const h = await harness();
  try {
    const run = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: '0' })).body.run.info.run_id;
    assert.equal((await h.call('POST', M('runs/log-parameter'), { run_id: run, key: 'leak', value: `x${TOKEN}y` })).status, 200);
    const got = await h.call<{ run: { data: { params: { key: string; value: string }[] } } }>('GET', M('runs/get'), { run_id: run });
    assert.deepEqual(got.body.run.data.params, [{ key: 'leak', value: 'x***y' }]);
  } finally {
    await h.close();
  }
});
