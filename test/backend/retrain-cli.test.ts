import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { parsePipeline } from '../../backend/src/services/pipelines/spec';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { cli, ensureBuilt } from '../integration/serving/proc';

const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');

/** One mlops.yaml: the training pipeline and, beside it, the retrain: policy that runs it. */
const MLOPS_YAML = `
name: retrain-iris
params: { data: "" }
steps:
  train:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]
    env: { TRAIN_CSV: "\${{ params.data }}" }
    outputs: [model.onnx]
    cache: false
retrain:
  model: iris
  endpoint: iris
  triggers: { on_drift: false, on_performance: false }
  rollout: { strategy: shadow }
  promotion: { require: better, min_accuracy: 0.9 }
`;

void test('mlops retrain: the retrain: section of mlops.yaml, a manual retrain run to its end, list, show', { timeout: 120_000 }, async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-retrain-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  const { app, handshake } = await startServer({ home });
  t.after(() => app.server.close());
  const auth = { authorization: `Bearer ${handshake.token}`, 'content-type': 'application/json' };
  const post = (path: string, body: object) => fetch(`${handshake.url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  assert.equal((await post('/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  const feedback: { request_id: string; label: number }[] = [];
  for (const row of sampleRows(200, 11)) {
    const r = await post('/endpoints/iris/invocations', { dataframe_split: { columns: FEATURES, data: [row] } });
    assert.equal(r.status, 200);
    feedback.push({ request_id: r.headers.get('x-request-id')!, label: row[1]! > 1.5 ? 1 : 0 });
  }
  assert.equal((await post('/endpoints/iris/feedback', { feedback })).status, 200);
  const dir = mkdtempSync(join(home, 'project-'));
  const file = join(dir, 'mlops.yaml');
  writeFileSync(file, MLOPS_YAML);
  assert.equal(parsePipeline(MLOPS_YAML, file).steps.length, 1, 'the pipeline parser accepts the retrain: key');
  const mlops = (...a: string[]) => cli(home, ...a);

  const set = await mlops('retrain', 'policy', 'set', file);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /policy #1: iris on iris/);
  assert.match(set.stdout, new RegExp(`pipeline\\s+${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), 'the pipeline defaults to the file itself');
  assert.match(set.stdout, /rollout\s+\{"strategy":"shadow"\}/);
  assert.match((await mlops('retrain', 'policy', 'list')).stdout, /#1\s+iris\s+iris/);

  writeFileSync(join(dir, 'typo.yaml'), MLOPS_YAML.replace('rollout:', 'rolout:'));
  const typo = await mlops('retrain', 'policy', 'set', join(dir, 'typo.yaml'));
  assert.notEqual(typo.code, 0);
  assert.match(typo.stderr, /Unknown retrain policy setting\(s\): rolout/);
  writeFileSync(join(dir, 'none.yaml'), 'name: x\nsteps: { a: { command: [true] } }\n');
  assert.equal((await mlops('retrain', 'policy', 'set', join(dir, 'none.yaml'))).code, 2);

  const run = await mlops('retrain', 'run', 'iris', 'iris', '--reason', 'cli test', '--wait');
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /retrain #1: iris on iris, rolling_out/);
  assert.match(run.stdout, /trigger\s+manual .*"reason":"cli test"/);
  assert.match(run.stdout, /versions\s+champion 1, challenger 2/);
  for (const s of ['initiated', 'collecting', 'validating', 'training', 'evaluating', 'rolling_out']) assert.match(run.stdout, new RegExp(`  ${s} `));
  assert.match(run.stdout, /iris\/2 is shadow on iris at 100% \(shadow: promote or roll back by hand\)/);
  assert.match((await mlops('retrain', 'list', '--endpoint', 'iris')).stdout, /#1\s+iris\/2\s+iris\s+manual\s+rolling_out/);
  // Promoting the shadow by hand ends the retrain: the endpoint's stable and @champion move together.
  assert.equal((await mlops('endpoints', 'promote', 'iris')).code, 0);
  const list = await mlops('retrain', 'list', '--endpoint', 'iris');
  assert.match(list.stdout, /#1\s+iris\/2\s+iris\s+manual\s+deployed/);
  const shown = JSON.parse((await mlops('retrain', 'show', '1', '--json')).stdout) as { decision: { verdict: string }; reason: string };
  assert.equal(shown.decision.verdict, 'better');
  assert.match(shown.reason, /iris\/2 is the stable of iris and @champion/);
  const model = (await (await fetch(`${handshake.url}/api/2.0/mlflow/registered-models/get?name=iris`, { headers: auth })).json()) as { registered_model: { aliases?: { alias: string; version: string }[] } };
  assert.deepEqual(model.registered_model.aliases, [{ alias: 'champion', version: '2' }]);
  const cancel = await mlops('retrain', 'cancel', '1');
  assert.notEqual(cancel.code, 0);
  assert.match(cancel.stderr, /already ended \(deployed\)/);

  // mlops ab: an online experiment on an A/B split, started, looked at, shown and stopped from the CLI.
  assert.equal((await mlops('ab', 'start', 'iris')).code, 1, 'no A/B split yet');
  assert.equal((await mlops('deploy', 'iris/1', '--endpoint', 'iris', '--strategy', 'ab', '--weight', '20')).code, 0);
  assert.equal((await mlops('ab', 'start', 'iris', '--max-duration', 'soon')).code, 2);
  const started = await mlops('ab', 'start', 'iris', '--min-samples', '50', '--max-duration', '2d', '--require', 'better');
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /experiment #1 started: iris\/1 \(20%\) against iris\/2 \(80%\) on accuracy: better, α = 0.05, at least 50 labelled/);
  const look = await mlops('ab', 'look', '1');
  assert.equal(look.code, 0, look.stderr);
  assert.match(look.stdout, /experiment #1 on iris: running/);
  assert.match(look.stdout, /waiting for 50 labelled predictions per arm/);
  assert.match((await mlops('ab', 'list', '--status', 'running')).stdout, /#1\s+iris\s+iris\/2\s+iris\/1\s+running/);
  const stop = await mlops('ab', 'stop', '1', '--reason', 'enough');
  assert.match(stop.stdout, /experiment #1 stopped: stopped by .*: enough/);
});
