import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { buildImage } from '../../../backend/src/services/jobs/images';
import type { Job } from '../../../backend/src/services/jobs/types';
import type { PipelineRun } from '../../../backend/src/services/pipelines/repository';
import { backend, ended, pyMounts, tempHome, testImages, until, venv } from './helpers';

const example = resolve(import.meta.dirname, '../../../examples/iris');

async function runPipeline(b: Awaited<ReturnType<typeof backend>>, file: string, params: Record<string, string | number | boolean> = {}): Promise<PipelineRun> {
  const start = await b.api<PipelineRun>('POST', '/api/v1/pipelines/runs', { file, params });
  assert.equal(start.status, 201, JSON.stringify(start.body));
  for (;;) {
    const { body } = await b.api<PipelineRun>('GET', `/api/v1/pipelines/runs/${start.body.pipeline_run_id}`);
    if (body.status !== 'running') return body;
    await new Promise((r) => setTimeout(r, 250));
  }
}

void test('examples/iris: the pipeline validates, trains, evaluates, exports ONNX and registers behind its gate', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-iris-'));
  cpSync(example, dir, { recursive: true });
  // The steps call `python`: the test venv's, with mlflow, scikit-learn, skl2onnx and onnxruntime.
  const oldPath = process.env.PATH;
  process.env.PATH = `${venv()}/bin:${oldPath}`;
  t.after(() => (process.env.PATH = oldPath));
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());

  const run = await runPipeline(b, join(dir, 'mlops.yaml'));
  const steps = Object.fromEntries(run.steps.map((s) => [s.step, s]));
  assert.equal(run.status, 'finished', JSON.stringify(run.steps.map((s) => [s.step, s.status, s.message])));
  assert.deepEqual(run.steps.map((s) => s.status), ['finished', 'finished', 'finished', 'finished', 'finished']);
  assert.ok(statSync(join(steps.export!.output_dir!, 'model.onnx')).size > 100);
  const accuracy = (steps.evaluate!.outputs as { accuracy: number }).accuracy;
  assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
  const model = await b.api<{ registered_model: { latest_versions?: { version: string; run_id: string }[] } }>('GET', '/api/2.0/mlflow/registered-models/get?name=iris-classifier');
  assert.equal(model.status, 200, JSON.stringify(model.body));
  assert.equal(model.body.registered_model.latest_versions?.[0]?.run_id, steps.register!.run_id);

  // A stricter bar: nothing upstream changed, so those steps come from the cache, and the gate stays shut.
  const strict = await runPipeline(b, join(dir, 'mlops.yaml'), { min_accuracy: 1.01 });
  assert.deepEqual(strict.steps.map((s) => s.status), ['finished', 'cached', 'cached', 'cached', 'skipped']);
  assert.equal(strict.status, 'finished');

  // As a retrain runs it: data and holdout are files the data step exported, python is named, and register: false
  // leaves the registration to the retrain policy. validate checks that file, evaluate scores the holdout.
  const rows = readFileSync(join(dir, 'data/iris.csv'), 'utf8').trim().split('\n');
  writeFileSync(join(dir, 'holdout.csv'), [rows[0], ...rows.slice(1).filter((_r, i) => i % 5 === 0)].join('\n') + '\n');
  writeFileSync(join(dir, 'short.csv'), rows.slice(0, 50).join('\n') + '\n');
  const asRetrain = { data: join(dir, 'data/iris.csv'), holdout: join(dir, 'holdout.csv'), python: `${venv()}/bin/python`, register: false };
  const retrain = await runPipeline(b, join(dir, 'mlops.yaml'), asRetrain);
  assert.deepEqual(retrain.steps.map((s) => s.status), ['finished', 'finished', 'finished', 'finished', 'skipped'], JSON.stringify(retrain.steps.map((s) => s.message)));
  assert.equal((retrain.steps[2]!.outputs as { rows: number }).rows, 30, 'evaluated on the 30 held-out rows');
  assert.match(retrain.steps[4]!.message ?? '', /gate closed/);
  const exported = retrain.steps[3]!.output_dir!;
  assert.match(readFileSync(join(exported, 'MLmodel'), 'utf8'), /"name": "sepal_length"/);
  assert.equal(readFileSync(join(exported, 'reference_data.csv'), 'utf8').split('\n')[0], 'sepal_length,sepal_width,petal_length,petal_width,species');
  const short = await runPipeline(b, join(dir, 'mlops.yaml'), { ...asRetrain, data: join(dir, 'short.csv') });
  assert.equal(short.status, 'failed');
  assert.match(short.steps[0]!.message ?? '', /49 rows, fewer than the minimum 100/);
  const versions = await b.api<{ model_versions: unknown[] }>('GET', `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='iris-classifier'")}`);
  assert.equal(versions.body.model_versions.length, 1, 'register: false registered nothing');
});

void test('examples/iris: the Dockerfile builds and the training script runs in the container', { timeout: 300_000 }, async (t) => {
  testImages();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-iris-img-'));
  cpSync(example, dir, { recursive: true });
  // No registry here: build FROM the local test image (Python comes from the mounted venv) and skip pip.
  const built = await buildImage(new Docker(), dir, { buildArgs: { BASE: 'mlops-test/pyhost:1', INSTALL: '0' } });
  // The tag is named after the temporary folder: remove it so repeated runs leave no tags behind.
  t.after(() => execFileSync('docker', ['rmi', '--no-prune', built.tag], { stdio: 'ignore' }));
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const { body } = await b.api<Job>('POST', '/api/v1/jobs', {
    image: built.tag,
    command: [`${venv()}/bin/python`, 'train.py'],
    mounts: pyMounts(),
    env: { MLOPS_OUTPUT_DIR: '/tmp/out' },
    experiment: 'iris-docker',
  });
  const job = await until(b, body.job_id, ended, 240_000);
  const log = (await b.api<string>('GET', `/api/v1/jobs/${body.job_id}/logs`)).body;
  assert.equal(job.status, 'finished', log);
  assert.match(log, /trained: train accuracy/);
  const run = await b.api<{ run: { data: { metrics?: { key: string }[] } } }>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`);
  assert.ok(run.body.run.data.metrics?.some((m) => m.key === 'train_accuracy'));
  assert.equal(existsSync(join(dir, 'outputs')), false, 'the image holds its own copy of the project');
});
