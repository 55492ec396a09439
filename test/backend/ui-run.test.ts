import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { thin } from '../../backend/src/api/v1/ui-run';
import type { UiRunDetail } from '../../backend/src/api/v1/contract-ui';
import { linearClassifier, CHAMPION, mlmodelYaml } from '../fixtures/onnx/models';
import { harness, M, type Harness } from '../helpers/app';

/** The run page's one read: GET /api/v1/ui/runs/<id> (params, metric histories, tags, lineage, artifacts, models, job). */
void describe('run page API /api/v1/ui/runs/:run_id', () => {
  let h: Harness;
  let runId: string;
  let artifactRel: string;
  const put = async (path: string, body: string | Uint8Array) => {
    const res = await h.app.server.inject({ method: 'PUT', url: `/api/2.0/mlflow-artifacts/artifacts/${artifactRel}/${path}`, headers: { authorization: 'Bearer test-token', 'content-type': 'application/octet-stream' }, payload: Buffer.from(body) });
    assert.equal(res.statusCode, 200, res.body);
  };
  before(async () => {
    h = await harness('file');
    const exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'page' })).body.experiment_id;
    const r = await h.call<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', M('runs/create'), { experiment_id: exp, run_name: 'page-run', start_time: 1000, tags: [{ key: 'team', value: 'vision' }, { key: 'mlflow.source.name', value: 'train.py' }] });
    runId = r.body.run.info.run_id;
    artifactRel = r.body.run.info.artifact_uri.replace('mlflow-artifacts:/', '');
    const loss = Array.from({ length: 1500 }, (_, s) => ({ key: 'loss', value: 1 / (1 + s), timestamp: 1, step: s }));
    for (let k = 0; k < loss.length; k += 1000) await h.call('POST', M('runs/log-batch'), { run_id: runId, metrics: loss.slice(k, k + 1000) });
    await h.call('POST', M('runs/log-batch'), { run_id: runId, params: [{ key: 'lr', value: '0.01' }], metrics: [{ key: 'test_accuracy', value: 0.93, timestamp: 2, step: 0 }] });
    await h.call('POST', M('runs/log-inputs'), { run_id: runId, datasets: [{ dataset: { name: 'iris.csv', digest: 'abc123', source_type: 'local', source: 'data/iris.csv' } }] });
    const lin = await h.call('PUT', `/api/v1/runs/${runId}/lineage`, { code_commit: 'deadbeef', code_dirty: false, image_digest: 'sha256:0123', command: 'python train.py', environment: { PYTHONHASHSEED: '0' } });
    assert.equal(lin.status, 200, JSON.stringify(lin.body));
    await put('model/MLmodel', mlmodelYaml());
    await put('model/model.onnx', linearClassifier(CHAMPION));
    await put('sk/MLmodel', 'artifact_path: sk\nflavors:\n  sklearn:\n    pickled_model: model.pkl\n');
    await put('sk/model.pkl', 'not really a pickle');
    await put('plots/roc.png', 'png');
  });
  after(async () => {
    assert.deepEqual(h.serverErrors, []);
    await h.close();
  });

  void test('one read has params, tags, metric histories, lineage, artifacts and the models with their ONNX status', async () => {
    const r = await h.call<UiRunDetail>('GET', `/api/v1/ui/runs/${runId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const d = r.body;
    assert.equal(d.run.name, 'page-run');
    assert.equal(d.run.experiment_name, 'page');
    assert.deepEqual(d.params, { lr: '0.01' });
    assert.equal(d.tags.team, 'vision');
    const loss = d.metrics.find((m) => m.key === 'loss')!;
    assert.equal(loss.points, 1500, 'the full count is reported');
    assert.equal(loss.steps.length, 1000, 'a long history is thinned to 1,000 points');
    assert.equal(loss.steps[0], 0);
    assert.equal(loss.steps.at(-1), 1499, 'the last step is kept');
    assert.equal(loss.latest, 1 / 1500);
    const acc = d.metrics.find((m) => m.key === 'test_accuracy')!;
    assert.deepEqual([acc.steps, acc.values, acc.points], [[0], [0.93], 1]);
    assert.equal(d.lineage.code_commit, 'deadbeef');
    assert.equal(d.lineage.image_digest, 'sha256:0123');
    assert.deepEqual(d.lineage.environment, { PYTHONHASHSEED: '0' });
    assert.equal(d.lineage.source_name, 'train.py');
    assert.deepEqual(d.lineage.datasets, [{ name: 'iris.csv', digest: 'abc123', source: 'data/iris.csv' }]);
    assert.deepEqual(d.artifacts.map((a) => a.path), ['model/MLmodel', 'model/model.onnx', 'plots/roc.png', 'sk/MLmodel', 'sk/model.pkl']);
    assert.equal(d.artifacts_truncated, false);
    assert.deepEqual(
      d.models.map((m) => [m.name, m.source, m.kind, m.flavors, m.onnx]),
      [
        ['model', `runs:/${runId}/model`, 'artifact', ['onnx', 'python_function'], true],
        ['sk', `runs:/${runId}/sk`, 'artifact', ['sklearn'], false],
      ],
    );
    assert.equal(d.job, null, 'a run logged by a client has no job');
  });

  void test("the models list says which versions hold a servable ONNX file (Deploy marks and refuses the others)", async () => {
    await h.call('POST', M('registered-models/create'), { name: 'page-clf' });
    for (const path of ['model', 'sk', 'missing']) await h.call('POST', M('model-versions/create'), { name: 'page-clf', source: `runs:/${runId}/${path}`, run_id: runId });
    const r = await h.call<{ models: { name: string; versions: { version: string; onnx: boolean }[] }[] }>('GET', '/api/v1/ui/models');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const m = r.body.models.find((x) => x.name === 'page-clf')!;
    assert.deepEqual(m.versions.map((v) => [v.version, v.onnx]), [['3', false], ['2', false], ['1', true]]);
  });

  void test('the job that produced the run is named', async () => {
    h.app.ctx.db
      .prepare(`INSERT INTO jobs (job_id, run_uuid, launcher, spec, status, log_file, created_at) VALUES ('job-page', ?, 'local', '{}', 'finished', '/nonexistent.log', 1)`)
      .run(runId);
    const r = await h.call<UiRunDetail>('GET', `/api/v1/ui/runs/${runId}`);
    assert.deepEqual(r.body.job, { job_id: 'job-page', status: 'finished' });
  });

  void test("an unknown or deleted run is a 404 in MLflow's error shape", async () => {
    const r = await h.call<{ error_code: string; message: string }>('GET', '/api/v1/ui/runs/0123456789abcdef0123456789abcdef');
    assert.equal(r.status, 404);
    assert.equal(r.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    const long = await h.call<{ error_code: string }>('GET', `/api/v1/ui/runs/${'a'.repeat(65)}`);
    assert.equal(long.status, 400);
  });

  void test('thin keeps the last value per step and both ends', () => {
    assert.deepEqual(thin([[0, 1], [0, 2], [1, 3]]), { steps: [0, 1], values: [2, 3], points: 2 });
    const big = thin(Array.from({ length: 5000 }, (_, i) => [i, i] as [number, number]));
    assert.equal(big.steps.length, 1000);
    assert.deepEqual([big.steps[0], big.steps.at(-1), big.points], [0, 4999, 5000]);
  });
});
