import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { PipelineRunView } from '../../backend/src/api/v1/contract';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { api, CLI, python, startBackend, tempHome } from '../helpers/backend';

const mlops = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/**
 * The ledger the demo's loop left on `endpoint`, read through a backend started on its store: the incident-triggered
 * retrain and the scheduled one (each with its pipeline run), @champion of the model, the endpoint's stable variant
 * and how many versions the model has.
 */
async function loopState(home: string, endpoint: string) {
  const b = await startBackend(home);
  try {
    const get = async <T>(path: string): Promise<T> => {
      const r = await api<T>(b, 'GET', path);
      assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const retrains = (await get<{ retrains: RetrainView[] }>(`/api/v1/retrains?endpoint=${endpoint}`)).retrains.sort((x, y) => x.id - y.id);
    assert.equal(retrains.length, 2, JSON.stringify(retrains));
    const [first, second] = retrains as [RetrainView, RetrainView];
    assert.match(first.trigger, /^(drift|performance)$/);
    assert.ok(first.incident_id, 'started by an incident');
    assert.deepEqual(first.transitions.map((t) => t.status), ['initiated', 'collecting', 'validating', 'training', 'evaluating', 'rolling_out', 'deployed']);
    assert.equal(first.decision!.verdict, 'better');
    assert.equal(second.trigger, 'schedule');
    assert.deepEqual(second.transitions.map((t) => t.status), ['initiated', 'collecting', 'validating', 'training', 'evaluating', 'rejected']);
    assert.deepEqual([second.decision!.verdict, second.decision!.accepted], ['worse', false]);
    const model = first.model;
    const champion = (await get<{ model_version: { version: string } }>(`/api/2.0/mlflow/registered-models/alias?name=${model}&alias=champion`)).model_version.version;
    const ep = await get<{ variants: { role: string; model_name: string; model_version: number }[] }>(`/endpoints/${endpoint}`);
    const stable = ep.variants.filter((v) => v.role === 'stable').map((v) => `${v.model_name}/${v.model_version}`);
    assert.equal(stable.length, 1);
    const versions = (await get<{ model_versions: unknown[] }>(`/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='${model}'`)}`)).model_versions.length;
    const run = async (id: string | null) => {
      const r = await get<PipelineRunView>(`/api/v1/pipelines/runs/${id}`);
      // Each step with the command its job ran.
      const steps = await Promise.all(r.steps.map(async (x) => ({ ...x, command: x.job_id ? (await get<{ spec: { command: string[] } }>(`/api/v1/jobs/${x.job_id}`)).spec.command : null })));
      return { ...r, steps };
    };
    return { first, second, firstRun: await run(first.pipeline_run_id), secondRun: await run(second.pipeline_run_id), champion, stable: stable[0]!, versions };
  } finally {
    await b.stop();
  }
}

void test('mlops demo with MLOPS_PYTHON walks the loop on examples/iris and leaves a store the other commands read', { timeout: 400_000 }, async () => {
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
  // 5. The loop with nobody typing, on examples/iris: its scikit-learn pipeline registers the champion and retrains it.
  assert.match(demo.out, /examples\/iris's pipeline \(validate → train → evaluate → export → register\) with \S+python: accuracy 0\.\d+ on its test split; iris-classifier v1 registered, @champion/);
  assert.match(demo.out, /reference profile of v1: ready \(105 training rows\)/);
  assert.match(demo.out, /trainer: the scikit-learn pipeline of examples\/iris/);
  assert.match(demo.out, /incident #\d+ \((data_drift|prediction_drift|concept_drift|performance), \w+\) [\d.]+ min after the drift began/);
  assert.match(demo.out, /retrain #1 \((drift|performance)\) rolling_out offline comparison: better/);
  assert.match(demo.out, /retrain #2 \(schedule\) rejected +offline comparison: worse/);
  assert.match(demo.out, /report: 2 retrains \(.*\): 100 % started by automated triggers; 1 deployed, 1 rejected/);
  // 6. The report of the store, as mlops report prints it.
  assert.match(demo.out, /Retrains started by automated triggers\s+100\.0 % \(2 of 2: 1 schedule, \d drift, \d performance, 0 manual\)/);
  assert.match(demo.out, /Drift onset → incident → fix deployed\s+median [\d.]+ min from onset to incident, [\d.]+ min from incident to fix \(1 fix\(es\)\)/);
  const promoted = /promoted: @champion is v(\d+)/.exec(demo.out)?.[1];
  assert.ok(promoted, demo.out);
  const loop = await loopState(home, 'iris');
  // The drift-triggered retrain ran the iris pipeline on the exported log (joined with iris.csv) and was promoted.
  assert.equal(loop.first.model, 'iris-classifier');
  assert.equal(loop.firstRun.name, 'iris');
  assert.equal(loop.firstRun.params.python, python());
  assert.deepEqual(loop.firstRun.steps[1]!.command!.slice(0, 4), [python(), 'train.py', '--data', loop.first.data_file], 'train.py ran with MLOPS_PYTHON on the exported file');
  assert.equal(loop.firstRun.params.data, loop.first.data_file);
  assert.equal(loop.firstRun.params.register, 'false');
  assert.deepEqual(loop.firstRun.steps.map((x) => [x.step, x.status]), [['validate', 'finished'], ['train', 'finished'], ['evaluate', 'finished'], ['export', 'finished'], ['register', 'skipped']]);
  assert.match(loop.firstRun.steps[0]!.message ?? '', /^1350 rows passed 5 column check/, '1,200 logged rows + the 150 of iris.csv, checked by the pipeline');
  assert.equal((loop.firstRun.steps[2]!.outputs as { rows: number }).rows, 300, 'evaluate scored the retrain holdout');
  assert.deepEqual([loop.first.champion_version, loop.first.challenger_version], [1, 2]);
  assert.ok((loop.first.decision!.challenger_accuracy as number) > 0.9 && (loop.first.decision!.champion_accuracy as number) < 0.6, JSON.stringify(loop.first.decision));
  assert.equal(loop.champion, '2', '@champion moved to the iris challenger');
  assert.equal(promoted, '2');
  assert.deepEqual(loop.stable, 'iris-classifier/2');
  // The scheduled retrain with one stump was rejected offline against the new champion.
  assert.deepEqual(loop.secondRun.steps.map((x) => x.status), ['finished', 'finished', 'finished', 'finished', 'skipped']);
  assert.deepEqual([loop.secondRun.params.n_estimators, loop.secondRun.params.max_depth], ['1', '1']);
  assert.deepEqual([loop.second.champion_version, loop.second.challenger_version], [2, 3]);
  assert.ok((loop.second.decision!.challenger_accuracy as number) < (loop.second.decision!.champion_accuracy as number) - 0.1, JSON.stringify(loop.second.decision));
  assert.equal(loop.versions, 3, 'v1 from the register step; v2 and v3 registered by the policy (register: false)');

  const exps = mlops(['--home', home, 'experiments', 'list', '--json']);
  assert.equal(exps.code, 0);
  const names = (JSON.parse(exps.out) as { name: string }[]).map((e) => e.name);
  assert.deepEqual(names.sort(), ['Default', 'churn-demo', 'iris', 'iris-demo'], "examples/iris's pipeline, retrains included, logs into its experiment");

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
  assert.deepEqual(models.map((m) => m.name).sort(), ['churn-classifier', 'iris-classifier']);
  const churn = models.find((m) => m.name === 'churn-classifier')!;
  assert.deepEqual(churn.aliases.map((a) => a.alias).sort(), ['challenger', 'champion']);
  // The churn champion is still the best run by val_accuracy, then val_loss (the loop ran on iris)
  const champion = churn.aliases.find((a) => a.alias === 'champion')!.version;
  const sets = JSON.parse(mlops(['--home', home, 'audit', '--action', 'alias.set', '--json']).out) as { object_id: string; after: { version: string } }[];
  const first = sets.find((e) => e.object_id === 'churn-classifier@champion')!.after.version;
  assert.equal(champion, first);
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
  const challenger = churn.aliases.find((a) => a.alias === 'challenger')!.version;
  const moved = mlops(['--home', home, 'models', 'alias', 'churn-classifier', challenger, '@champion', '--reason', 'manual promotion'], { MLOPS_ACTOR: 'tester' });
  assert.equal(moved.code, 0, moved.err);
  assert.equal(moved.out.trim(), `churn-classifier@champion -> version ${challenger}`);
  const audit = JSON.parse(mlops(['--home', home, 'audit', '--action', 'alias.move', '--json']).out) as { actor: string; object_id: string; before: { version: string }; after: { version: string }; reason: string }[];
  assert.deepEqual(audit.map((e) => [e.actor, e.object_id, e.before.version, e.after.version, e.reason]), [
    ['tester', 'churn-classifier@champion', champion, challenger, 'manual promotion'],
    ['canary', 'iris-classifier@champion', '1', '2', 'retrain 1: canary ramp complete (20 → 50 → 100 %)'],
  ]);
  assert.match(mlops(['--home', home, 'audit']).out, /alias\.move\s+churn-classifier@champion\s+v\d+\s+v\d+\s+manual promotion/);
});

void test('mlops demo without Python runs the loop on churn with the built-in trainer; exit codes: 1 with one clear message on failure, 2 on bad usage', { timeout: 400_000 }, async () => {
  const home = tempHome('mlops-cli-');
  const none = mlops(['--home', home, 'runs', 'list']);
  assert.equal(none.code, 1);
  assert.match(none.err, /^mlops: no MLOps Studio store at /);
  assert.equal(none.err.trim().split('\n').length, 1);
  const plain = mlops(['--home', home, 'demo'], { MLOPS_PYTHON: '' });
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /2b\. Train.*\n   skipped: set MLOPS_PYTHON/);
  assert.match(plain.out, /trainer: the built-in logistic regression/);
  assert.match(plain.out, /retrain #1 \((drift|performance)\) deployed +churn-classifier\/\d+ is the stable of churn and @champion \(canary: canary ramp complete/);
  assert.match(plain.out, /retrain #2 \(schedule\) rejected +offline comparison: worse/);
  assert.match(plain.out, /Retrains started by automated triggers\s+100\.0 % \(2 of 2: 1 schedule, \d drift, \d performance, 0 manual\)/);
  const loop = await loopState(home, 'churn');
  assert.equal(loop.first.model, 'churn-classifier');
  assert.equal(loop.firstRun.name, 'churn-retrain');
  assert.deepEqual(loop.firstRun.steps[0]!.command!.slice(-1), ['demo-train'], 'the built-in trainer, no Python');
  assert.deepEqual(loop.firstRun.steps.map((x) => [x.step, x.status]), [['train', 'finished']]);
  assert.equal(loop.champion, String(loop.first.challenger_version), '@champion moved to the retrained version');
  assert.equal(loop.stable, `churn-classifier/${loop.first.challenger_version}`);
  assert.equal(loop.secondRun.params.epochs, '0');
  assert.equal(loop.second.champion_version, loop.first.challenger_version);
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
