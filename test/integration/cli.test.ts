import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, python, tempHome } from '../helpers/backend';

const mlops = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

void test('mlops demo walks the loop and leaves a store the other commands read', { timeout: 400_000 }, () => {
  const home = tempHome('mlops-cli-');
  const demo = mlops(['--home', home, 'demo'], { MLOPS_PYTHON: python() });
  assert.equal(demo.code, 0, demo.err);
  assert.match(demo.out, /job [0-9a-f]+ finished: run [0-9a-f]{32} train_accuracy 0\.\d+/);
  assert.match(demo.out, /1\. Track/);
  assert.match(demo.out, /@champion/);
  assert.match(demo.out, /3\. Serve/);
  assert.match(demo.out, /rolled back churn-classifier\/\d+ → churn-classifier\/\d+/);
  assert.match(demo.out, /\d+ synthetic requests, 0 failed/);
  assert.match(demo.out, /reference profile of v\d+: ready \(artifact \S+\/reference_data\.csv, 4000 rows, features tenure, support_calls, monthly_spend, region_code\)/);
  assert.match(demo.out, /same distribution\s+dataset drift: no\s+drifted features: none\s+\(reference: training, 1000 served rows\)/);
  assert.match(demo.out, /tenure shifted by \+0\.5 sd\s+dataset drift: no\s+drifted features: tenure\s+\(reference: training, 1000 served rows\)\n/);
  // 5. The loop with nobody typing: an incident starts a retrain that is promoted; a scheduled worse one is rejected.
  // With MLOPS_PYTHON the retraining step is scikit-learn's (examples/churn/retrain.py) as a real pipeline job.
  assert.match(demo.out, /trainer: scikit-learn \(\S+examples\/churn\/retrain\.py\)/);
  assert.match(demo.out, /incident #\d+ \((data_drift|prediction_drift|concept_drift|performance), \w+\) [\d.]+ min after the drift began/);
  assert.match(demo.out, /retrain #1 \((drift|performance)\) rolling_out offline comparison: better/);
  assert.match(demo.out, /retrain #1 \((drift|performance)\) deployed +churn-classifier\/\d+ is the stable of churn and @champion \(canary: canary ramp complete/);
  assert.match(demo.out, /retrain #2 \(schedule\) rejected +offline comparison: worse/);
  assert.match(demo.out, /report: 2 retrains \(.*\): 100 % started by automated triggers; 1 deployed, 1 rejected/);
  // 6. The report of the store, as mlops report prints it.
  assert.match(demo.out, /Retrains started by automated triggers\s+100\.0 % \(2 of 2: 1 schedule, \d drift, \d performance, 0 manual\)/);
  assert.match(demo.out, /Drift onset → incident → fix deployed\s+median [\d.]+ min from onset to incident, [\d.]+ min from incident to fix \(1 fix\(es\)\)/);
  const promoted = /promoted: @champion is v(\d+)/.exec(demo.out)?.[1];
  assert.ok(promoted, demo.out);

  const exps = mlops(['--home', home, 'experiments', 'list', '--json']);
  assert.equal(exps.code, 0);
  const names = (JSON.parse(exps.out) as { name: string }[]).map((e) => e.name);
  assert.deepEqual(names.sort(), ['Default', 'churn-demo', 'churn-retrain', 'iris-demo'], 'the retraining pipeline logs into an experiment named after it');

  const table = mlops(['--home', home, 'runs', 'list', '--experiment', 'churn-demo', '--order-by', 'metrics.val_loss ASC']);
  assert.equal(table.code, 0);
  const lines = table.out.trim().split('\n');
  assert.match(lines[0]!, /^RUN ID\s+NAME\s+STATUS\s+STARTED/);
  assert.equal(lines.length, 7, 'header + six runs');

  const runs = JSON.parse(mlops(['--home', home, 'runs', 'list', '--experiment', 'churn-demo', '--filter', 'metrics.val_accuracy > 0.9', '--order-by', 'metrics.val_loss ASC', '--json']).out) as {
    info: { run_id: string };
    data: { metrics: { key: string; value: number }[] };
  }[];
  const losses = runs.map((r) => r.data.metrics.find((m) => m.key === 'val_loss')!.value);
  assert.deepEqual(losses, [...losses].sort((a, b) => a - b));
  assert.ok(runs.every((r) => r.data.metrics.find((m) => m.key === 'val_accuracy')!.value > 0.9));

  const models = JSON.parse(mlops(['--home', home, 'models', 'list', '--json']).out) as { name: string; aliases: { alias: string; version: string }[] }[];
  assert.deepEqual(models.map((m) => m.name), ['churn-classifier']);
  assert.deepEqual(models[0]!.aliases.map((a) => a.alias).sort(), ['challenger', 'champion']);
  // @champion is the retrained version now; the first champion was the best run by val_accuracy, then val_loss
  const champion = models[0]!.aliases.find((a) => a.alias === 'champion')!.version;
  assert.equal(champion, promoted);
  const sets = JSON.parse(mlops(['--home', home, 'audit', '--action', 'alias.set', '--json']).out) as { object_id: string; after: { version: string } }[];
  const first = sets.find((e) => e.object_id === 'churn-classifier@champion')!.after.version;
  const versions = JSON.parse(mlops(['--home', home, 'models', 'versions', 'churn-classifier', '--json']).out) as { version: string; run_id: string }[];
  const champRun = versions.find((v) => v.version === first)!.run_id;
  const show = JSON.parse(mlops(['--home', home, 'runs', 'show', champRun, '--json']).out) as { run: { data: { metrics: { key: string; value: number }[] } }; lineage: { datasets: { name: string }[] } };
  const best = JSON.parse(mlops(['--home', home, 'runs', 'list', '--experiment', 'churn-demo', '--order-by', 'metrics.val_accuracy DESC', 'metrics.val_loss ASC', '--max', '1', '--json']).out) as { info: { run_id: string } }[];
  assert.equal(best[0]!.info.run_id, champRun);
  assert.deepEqual(show.lineage.datasets.map((d) => d.name), ['churn-train']);
  const human = mlops(['--home', home, 'runs', 'show', champRun]);
  assert.match(human.out, /Lineage/);
  assert.match(human.out, /data churn-train [0-9a-f]{16}/);

  // promote the challenger; the move is audited with the reason
  const challenger = models[0]!.aliases.find((a) => a.alias === 'challenger')!.version;
  const moved = mlops(['--home', home, 'models', 'alias', 'churn-classifier', challenger, '@champion', '--reason', 'manual promotion'], { MLOPS_ACTOR: 'tester' });
  assert.equal(moved.code, 0, moved.err);
  assert.equal(moved.out.trim(), `churn-classifier@champion -> version ${challenger}`);
  const audit = JSON.parse(mlops(['--home', home, 'audit', '--action', 'alias.move', '--json']).out) as { actor: string; before: { version: string }; after: { version: string }; reason: string }[];
  assert.deepEqual(audit.map((e) => [e.actor, e.before.version, e.after.version, e.reason]), [
    ['tester', champion, challenger, 'manual promotion'],
    ['canary', first, champion, 'retrain 1: canary ramp complete (20 → 50 → 100 %)'],
  ]);
  assert.match(mlops(['--home', home, 'audit']).out, /alias\.move\s+churn-classifier@champion\s+v\d+\s+v\d+\s+manual promotion/);
});

void test('exit codes: 1 with one clear message on failure, 2 on bad usage', () => {
  const home = tempHome('mlops-cli-');
  const none = mlops(['--home', home, 'runs', 'list']);
  assert.equal(none.code, 1);
  assert.match(none.err, /^mlops: no MLOps Studio store at /);
  assert.equal(none.err.trim().split('\n').length, 1);
  const plain = mlops(['--home', home, 'demo']);
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /trainer: the built-in logistic regression/);
  assert.match(plain.out, /retrain #1 \((drift|performance)\) deployed/);
  const unknownRun = mlops(['--home', home, 'runs', 'show', 'nope']);
  assert.equal(unknownRun.code, 1);
  assert.equal(unknownRun.err.trim(), 'mlops: Run with id=nope not found');
  const badFilter = mlops(['--home', home, 'runs', 'list', '--filter', 'metrics.x <']);
  assert.equal(badFilter.code, 1);
  assert.match(badFilter.err, /Invalid filter/);
  const badAlias = mlops(['--home', home, 'models', 'alias', 'churn-classifier', '99', 'champion']);
  assert.equal(badAlias.code, 1);
  assert.match(badAlias.err, /version=99\) not found/);
  assert.equal(mlops(['--home', home, 'frobnicate']).code, 2);
  assert.equal(mlops(['--home', home, 'runs', 'list', '--max', 'lots']).code, 2);
  assert.equal(mlops(['--home', home, 'serve', '--port', '70000']).code, 2);
  assert.equal(mlops(['--home', home, 'audit', '--limit', '0']).code, 2);
  const help = mlops(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /serve/);
});
