import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer } from '../../../backend/src/server';
import { trainDemoModel } from '../../../backend/src/services/jobs/demo';
import { tempHome, venv } from './helpers';

void test('trainDemoModel trains the example through the local launcher into its own run, with lineage', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-demo-'));
  cpSync(resolve(import.meta.dirname, '../../../examples/iris'), dir, { recursive: true });
  const { app } = await startServer({ home: tempHome(t), token: 'demo' });
  t.after(() => app.server.close());
  const jobs = app.runtime.jobs;
  const job = await trainDemoModel(jobs, { python: `${venv()}/bin/python`, exampleDir: dir });
  assert.equal(job.status, 'finished', job.message ?? '');
  const run = app.ctx.tracking.runs.get(job.run_id!);
  assert.equal(run.info.status, 'FINISHED');
  assert.ok(run.data.metrics?.some((m) => m.key === 'train_accuracy'));
  assert.equal(run.data.params?.find((p) => p.key === 'n_estimators')?.value, '50');
  assert.equal(run.inputs.dataset_inputs?.[0]?.dataset.name, 'iris.csv', 'the data digest is recorded as a dataset input');
  assert.equal(JSON.parse(app.ctx.tracking.runs.lineage(job.run_id!).command ?? '[]')[1], 'train.py');
});
