import { createHash } from 'node:crypto';
import { startServer } from '../../server';
import { BackendClient } from './client';
import { makeDataset, train, type Trained } from './train';
import { formatTable } from '../../cli/output';
import { logisticRegressionOnnx, onnxMlModel } from './onnx';
import { runServingDemo } from '../serving/demo';
import type { EndpointDrift, ProfileInfo } from '../../api/v1/contract';
import type { App } from '../../app';
import { trainDemoModel } from '../jobs/demo';
import { AcceleratedClock } from '../../util/clock';
import { churnScenario, runRetrainLoop } from './loop';
import { irisExampleDir, irisScenario } from './iris';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DemoOptions {
  home: string;
  log: (line: string) => void;
}

interface RunResult {
  runId: string;
  name: string;
  lr: number;
  l2: number;
  trained: Trained;
}

const EXPERIMENT = 'churn-demo';
const MODEL = 'churn-classifier';

/**
 * `mlops demo`: the whole loop on a fresh store, through the same HTTP API the mlflow client uses.
 * Each capability that lands adds its step here.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const t0 = Date.now();
  // The backend's one clock: the wall clock's pace until the retraining loop speeds it up.
  const clock = new AcceleratedClock();
  const { app, handshake } = await startServer({ home: o.home, clock });
  const api = new BackendClient(handshake.url, handshake.token);
  try {
    o.log(`MLOps Studio demo: backend at ${handshake.url}, store ${o.home}`);
    const results = await trackExperiment(api, o.log);
    await registerBest(api, results, o.log);
    await trainThroughLauncher(app, o.log);
    await serve(handshake, o.log);
    await watchDrift(api, o.log);
    // With MLOPS_PYTHON the loop runs on examples/iris and its scikit-learn pipeline; else on churn, with no Python.
    const python = process.env.MLOPS_PYTHON;
    const iris = irisExampleDir();
    const scenario = python && iris ? irisScenario(api, python, iris, o.log) : churnScenario(MODEL, 'churn');
    await runRetrainLoop({ api, clock, home: o.home, scenario, log: o.log });
    o.log('');
    o.log(`Done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try: mlops --home ${o.home} runs list --experiment ${EXPERIMENT} --order-by "metrics.val_accuracy DESC"`);
  } finally {
    await app.server.close();
  }
}

async function trackExperiment(api: BackendClient, log: (s: string) => void): Promise<RunResult[]> {
  log('');
  log(`1. Track: experiment '${EXPERIMENT}', a grid of logistic-regression runs`);
  const exp = await api.mlflow<{ experiment_id: string }>('POST', 'experiments/create', { name: EXPERIMENT, tags: [{ key: 'project', value: 'demo' }] });
  const trainSet = makeDataset(4000, 1);
  const valSet = makeDataset(1000, 2);
  const digest = createHash('sha256')
    .update(trainSet.x.map((r) => Array.from(r).join(',')).join('\n'))
    .digest('hex')
    .slice(0, 16);
  // The training data beside each run: registration profiles it (reference_data.csv), so endpoint drift has a baseline.
  const trainingCsv = `${[...trainSet.features, 'churned'].join(',')}\n${trainSet.x.map((r, i) => `${Array.from(r, (v) => v.toFixed(4)).join(',')},${trainSet.y[i]}`).join('\n')}\n`;
  const results: RunResult[] = [];
  for (const lr of [0.05, 0.2, 1.0]) {
    for (const l2 of [0, 0.05]) {
      const epochs = 30;
      const name = `lr${lr}-l2${l2}`;
      const { run } = await api.mlflow<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', 'runs/create', {
        experiment_id: exp.experiment_id,
        run_name: name,
        start_time: Date.now(),
        tags: [{ key: 'mlflow.source.name', value: 'mlops demo' }],
      });
      const id = run.info.run_id;
      const trained = train(trainSet, valSet, lr, epochs, l2);
      const now = Date.now();
      await api.mlflow('POST', 'runs/log-batch', {
        run_id: id,
        params: [
          { key: 'learning_rate', value: String(lr) },
          { key: 'l2', value: String(l2) },
          { key: 'epochs', value: String(epochs) },
        ],
        metrics: [
          ...trained.history.flatMap((h) => [
            { key: 'loss', value: h.loss, step: h.epoch, timestamp: now },
            { key: 'accuracy', value: h.accuracy, step: h.epoch, timestamp: now },
          ]),
          { key: 'val_accuracy', value: trained.valAccuracy, step: epochs, timestamp: now },
          { key: 'val_loss', value: trained.valLoss, step: epochs, timestamp: now },
        ],
      });
      await api.mlflow('POST', 'runs/log-inputs', {
        run_id: id,
        datasets: [{ dataset: { name: 'churn-train', digest, source_type: 'code', source: 'makeDataset(4000, seed=1)' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
      });
      const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
      await api.upload(`${root}/model/model.onnx`, logisticRegressionOnnx(trained.weights, trained.bias));
      await api.upload(`${root}/model/MLmodel`, onnxMlModel(id, trainSet.features));
      await api.upload(`${root}/reference_data.csv`, trainingCsv);
      await api.mlflow('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
      results.push({ runId: id, name, lr, l2, trained });
      log(`   run ${name.padEnd(14)} val_accuracy ${trained.valAccuracy.toFixed(4)}  val_loss ${trained.valLoss.toFixed(4)}`);
    }
  }
  return results;
}

async function registerBest(api: BackendClient, results: RunResult[], log: (s: string) => void): Promise<void> {
  log('');
  log(`2. Register: search the best runs, register them as '${MODEL}', promote the best`);
  const { runs } = await api.mlflow<{ runs: { info: { run_id: string; run_name: string }; data: { metrics: { key: string; value: number }[] } }[] }>('POST', 'runs/search', {
    experiment_ids: [await experimentId(api)],
    filter: "attributes.status = 'FINISHED' and metrics.val_accuracy > 0.5",
    order_by: ['metrics.val_accuracy DESC', 'metrics.val_loss ASC'],
    max_results: 2,
  });
  if (runs.length === 0) throw new Error('no run reached val_accuracy > 0.5');
  await api.mlflow('POST', 'registered-models/create', { name: MODEL, description: 'Churn classifier trained by mlops demo' });
  const versions: string[] = [];
  // register the runner-up first, so the champion is the newest version
  for (const r of [...runs].reverse()) {
    const { model_version } = await api.mlflow<{ model_version: { version: string } }>('POST', 'model-versions/create', {
      name: MODEL,
      source: `runs:/${r.info.run_id}/model`,
      run_id: r.info.run_id,
    });
    versions.unshift(model_version.version);
  }
  await api.mlflow('POST', 'registered-models/alias', { name: MODEL, alias: 'champion', version: versions[0] });
  if (versions[1]) await api.mlflow('POST', 'registered-models/alias', { name: MODEL, alias: 'challenger', version: versions[1] });
  const rows = runs.map((r, i) => ({
    version: versions[i]!,
    alias: i === 0 ? '@champion' : '@challenger',
    run: r.info.run_name,
    acc: r.data.metrics.find((m) => m.key === 'val_accuracy')?.value ?? NaN,
    lr: results.find((x) => x.runId === r.info.run_id)?.lr,
  }));
  log(
    formatTable(rows, [
      { header: '   VERSION', get: (r) => `   v${r.version}` },
      { header: 'ALIAS', get: (r) => r.alias },
      { header: 'RUN', get: (r) => r.run },
      { header: 'VAL_ACCURACY', get: (r) => r.acc.toFixed(4), align: 'right' },
    ]),
  );
  const profile = await api.call<ProfileInfo>('GET', `/api/v1/models/${MODEL}/versions/${versions[0]}/profile`);
  log(`   reference profile of v${versions[0]}: ${profile.status} (${profile.source}, ${profile.rows ?? 0} rows, features ${Object.keys(profile.features).join(', ')})`);
  const { events } = await api.call<{ events: { action: string; object_id: string }[] }>('GET', '/api/v1/audit?limit=10');
  log(`   audit log: ${events.length} events, newest: ${events[0]?.action} ${events[0]?.object_id}`);
}

async function experimentId(api: BackendClient): Promise<string> {
  const { experiment } = await api.mlflow<{ experiment: { experiment_id: string } }>('GET', 'experiments/get-by-name', { experiment_name: EXPERIMENT });
  return experiment.experiment_id;
}

async function serve(h: { url: string; token: string }, log: (s: string) => void): Promise<void> {
  log('');
  log(`3. Serve: deploy @champion, canary @challenger under synthetic traffic, roll back`);
  const rows = makeDataset(64, 3).x.map((r) => Array.from(r, (v) => Math.round(v * 1000) / 1000));
  const r = await runServingDemo({
    url: h.url,
    token: h.token,
    champion: `${MODEL}@champion`,
    challenger: `${MODEL}@challenger`,
    endpoint: 'churn',
    rate: 100,
    stepSeconds: 0.5,
    rollbackAt: 25,
    rows,
    log: (s) => log(`   ${s}`),
  });
  if (r.failed > 0) throw new Error(`${r.failed} of ${r.requests} requests failed during the rollout`);
}

/** Endpoint drift of the champion: traffic like the training data, then with tenure shifted, each checked over HTTP. */
async function watchDrift(api: BackendClient, log: (s: string) => void): Promise<void> {
  log('');
  log(`4. Watch: drift of the 'churn' endpoint's served inputs against the champion's training profile (PSI, KS, Wasserstein, JS; 2 votes)`);
  const steps = [
    ['same distribution', makeDataset(1000, 7)],
    ['tenure shifted by +0.5 sd', makeDataset(1000, 8, 0.5)],
  ] as const;
  for (const [label, data] of steps) {
    for (let i = 0; i < data.x.length; i += 20) {
      const rows = data.x.slice(i, i + 20).map((r) => Array.from(r, (v) => Math.round(v * 1000) / 1000));
      await api.call('POST', '/endpoints/churn/invocations', { dataframe_split: { columns: data.features, data: rows } });
    }
    const report = await api.call<EndpointDrift>('GET', '/api/v1/endpoints/churn/drift?window=1000');
    const v = report.variants[0];
    if (!v || v.status !== 'ok') throw new Error(`no drift verdict for endpoint churn: ${v?.message ?? 'it serves nothing'}`);
    const drifted = v.features.filter((f) => f.drift).map((f) => f.feature);
    log(`   ${label.padEnd(26)} dataset drift: ${v.drift ? 'YES' : 'no '}  drifted features: ${drifted.length ? drifted.join(', ') : 'none'}  (reference: ${v.reference?.kind}, ${v.window.rows} served rows)`);
  }
  log(`   the same report: mlops drift endpoint churn; ml_drift_score in /metrics; the Drift view in VS Code`);
}

/** The scikit-learn example trained as a job (its own run, live logs, lineage), when a Python with mlflow is given. */
async function trainThroughLauncher(app: App, log: (s: string) => void): Promise<void> {
  log('');
  log('2b. Train: examples/iris (scikit-learn) as a job through the local launcher');
  const python = process.env.MLOPS_PYTHON;
  const src = irisExampleDir();
  const jobs = app.runtime.jobs;
  if (!python || !src) {
    log('   skipped: set MLOPS_PYTHON to a Python that has mlflow, scikit-learn, skl2onnx, onnxruntime and pandas to include this step (and run step 5 on examples/iris)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'mlops-demo-iris-'));
  cpSync(src, dir, { recursive: true });
  const job = await trainDemoModel(jobs, { python, exampleDir: dir, experiment: 'iris-demo' });
  if (job.status !== 'finished') throw new Error(`the training job ended ${job.status}: ${job.message ?? ''}`);
  const run = app.ctx.tracking.runs.get(job.run_id!);
  const acc = run.data.metrics?.find((m) => m.key === 'train_accuracy')?.value;
  const lineage = app.ctx.tracking.runs.lineage(job.run_id!);
  log(`   job ${job.job_id} finished: run ${job.run_id} train_accuracy ${acc?.toFixed(4) ?? '?'}; lineage: commit ${lineage.code_commit ?? 'none'}, command ${lineage.command ?? '?'}`);
}
