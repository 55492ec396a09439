import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import { CLI, ROOT } from '../../helpers/backend';
import { scaleoutVenv } from '../../helpers/scaleout';
import { crdValidator } from '../../helpers/k8s';
import { openCore } from '../../../backend/src/core';
import { AUTH, buildServingApp, registerOnnxModel } from '../../fixtures/onnx/harness';
import { CHAMPION, linearClassifier } from '../../fixtures/onnx/models';

/**
 * The manifests `mlops` writes, produced by the real CLI and validated offline against the official schemas:
 * Kubernetes' own (kubernetes-validate from PyPI, strict) for the Job, the Argo Workflows and Argo Rollouts
 * typed models (@kubernetes-models/*) for Workflow, CronWorkflow and AnalysisTemplate, and KServe's CRD schema
 * (vendored, pruned) for the InferenceService. Each validator is shown to reject a broken copy too.
 */

const run = promisify(execFile);
const IRIS = join(ROOT, 'examples/iris/mlops.yaml');

async function cli(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = { metadata: any; spec: any } & Record<string, any>;

const yamlOf = async (args: string[]) => {
  const r = await cli(args);
  assert.equal(r.code, 0, r.stderr);
  return parseYaml(r.stdout) as Doc;
};

// ESM-only packages: loaded with import() (the tests run as CommonJS under tsx).
const argo = () => import('@kubernetes-models/argo-workflows/argoproj.io/v1alpha1');
const rollouts = () => import('@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1');

const throwsInvalid = (fn: () => void) => assert.throws(fn, /must|required|invalid/i);

void test('pipeline export --format argo: a DAG Workflow with dependencies, when, parameters and artifacts that validates', async () => {
  const { Workflow } = await argo();
  const wf = await yamlOf(['pipeline', 'export', IRIS, '--format', 'argo', '--image', 'registry.example/iris:1']);
  new Workflow(wf).validate();
  assert.equal(wf.kind, 'Workflow');
  assert.deepEqual(wf.spec.arguments.parameters.map((p: { name: string; value: string }) => `${p.name}=${p.value}`), ['data=data/iris.csv', 'holdout=', 'python=python', 'n_estimators=50', 'max_depth=3', 'min_accuracy=0.9', 'model_name=iris-classifier', 'register=true']);
  const tasks = Object.fromEntries(wf.spec.templates[0].dag.tasks.map((t: { name: string }) => [t.name, t])) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(Object.keys(tasks), ['validate', 'train', 'evaluate', 'export', 'register']);
  assert.deepEqual(tasks.register.dependencies, ['export', 'evaluate']);
  assert.equal(tasks.register.when, "{{=((workflow.parameters['register'] == 'true') && (asFloat(jsonpath(tasks['evaluate'].outputs.parameters['outputs'], '$.accuracy')) >= asFloat(workflow.parameters['min_accuracy'])))}}");
  assert.deepEqual(tasks.train.arguments.parameters, ['python', 'data', 'n_estimators', 'max_depth'].map((p, i) => ({ name: `t${i}`, value: `{{workflow.parameters.${p}}}` })));
  // The validate step checks the file the data parameter names (a retrain passes its exported log).
  assert.deepEqual(tasks.validate.arguments.parameters, [{ name: 't0', value: '{{workflow.parameters.data}}' }]);
  assert.deepEqual(tasks.evaluate.arguments.artifacts, [{ name: 'in-train', from: '{{tasks.train.outputs.artifacts.outputs}}' }]);
  const train = wf.spec.templates.find((t: { name: string }) => t.name === 'train');
  assert.deepEqual(train.container.command, ['{{inputs.parameters.t0}}', 'train.py', '--data', '{{inputs.parameters.t1}}', '--n-estimators', '{{inputs.parameters.t2}}', '--max-depth', '{{inputs.parameters.t3}}']);
  assert.ok(train.container.env.some((e: { name: string; valueFrom?: { secretKeyRef: { name: string } } }) => e.name === 'MLFLOW_TRACKING_URI' && e.valueFrom?.secretKeyRef.name === 'mlops-mlflow'));
  assert.ok(train.container.env.some((e: { name: string; value: string }) => e.name === 'MLOPS_INPUT_VALIDATE' && e.value === '/mlops/inputs/validate'));
  // The validator is not a rubber stamp.
  throwsInvalid(() => new Workflow({ ...wf, metadata: wf.metadata, spec: { ...wf.spec, templates: [{ ...wf.spec.templates[0], dag: { tasks: [{ ...tasks.train, dependencies: 'validate' }] } }] } }).validate());

  // The exported validate step runs `mlops data validate` with the step's schema: run that command here, for real.
  const exported = wf.spec.templates.find((t: { name: string }) => t.name === 'validate').container.command as string[];
  assert.deepEqual(exported.slice(0, 4), ['mlops', 'data', 'validate', '{{inputs.parameters.t0}}']);
  // Argo substitutes the parameter: here, its default.
  const v = exported.map((a) => (a === '{{inputs.parameters.t0}}' ? 'data/iris.csv' : a));
  const out = mkdtempSync(join(tmpdir(), 'mlops-k8s-'));
  try {
    const r = await run(process.execPath, [CLI, ...v.slice(1)], { cwd: join(ROOT, 'examples/iris'), env: { ...process.env, MLOPS_OUTPUT_DIR: out } });
    assert.match(r.stdout, /^ok: 150 rows/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'outputs.json'), 'utf8')), { rows: 150, ok: true, failed_checks: 0 });
    const bad = await cli([...v.slice(1, 4), '--schema', JSON.stringify({ rows: { min: 1000 } })], join(ROOT, 'examples/iris'));
    assert.equal(bad.code, 1);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

void test('pipeline export --format argo-cron: a CronWorkflow for a scheduled retrain', async () => {
  const { CronWorkflow } = await argo();
  const cron = await yamlOf(['pipeline', 'export', IRIS, '--format', 'argo-cron', '--schedule', '0 3 * * 1', '--timezone', 'Europe/Paris', '--image', 'registry.example/iris:1', '--namespace', 'ml']);
  new CronWorkflow(cron).validate();
  assert.deepEqual([cron.metadata.name, cron.metadata.namespace, cron.spec.schedules, cron.spec.concurrencyPolicy], ['iris-retrain', 'ml', ['0 3 * * 1'], 'Forbid']);
  assert.equal(cron.spec.workflowSpec.entrypoint, 'pipeline');
  throwsInvalid(() => new CronWorkflow({ ...cron, metadata: cron.metadata, spec: { ...cron.spec, workflowSpec: undefined } }).validate());
  const missing = await cli(['pipeline', 'export', IRIS, '--format', 'argo-cron', '--image', 'x']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /needs --schedule/);
  const noImage = await cli(['pipeline', 'export', IRIS, '--format', 'argo']);
  assert.equal(noImage.code, 1);
  assert.match(noImage.stderr, /step 'train' names no image; pass --image/);
});

void test('train --k8s-manifest: a batch Job with GPU limits and the MLFLOW_* env from a Secret, valid under kubernetes-validate --strict', async () => {
  const args = ['train', '--k8s-manifest', '--image', 'registry.example/iris:1', '--gpus', '1', '--cpus', '2', '--memory', '4g', '--experiment', 'iris', '--timeout', '2h', '--param', 'lr=0.1', '--', 'python', 'train.py'];
  const job = await yamlOf(args);
  const c = job.spec.template.spec.containers[0];
  assert.deepEqual(c.resources.limits, { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' });
  assert.deepEqual(c.command, ['python', 'train.py']);
  assert.deepEqual(c.env.filter((e: { valueFrom?: unknown }) => e.valueFrom).map((e: { name: string }) => e.name), ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_TOKEN']);
  assert.equal(job.spec.activeDeadlineSeconds, 7200);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-k8s-'));
  try {
    writeFileSync(join(dir, 'job.yaml'), stringify(job));
    writeFileSync(join(dir, 'bad.yaml'), stringify({ ...job, spec: { ...job.spec, backoffLimt: 1 } }));
    const validate = join(scaleoutVenv(), 'bin', 'kubernetes-validate');
    const ok = await run(validate, ['--strict', join(dir, 'job.yaml')]);
    assert.match(ok.stdout, /passed for resource job\/iris-train-/);
    await assert.rejects(run(validate, ['--strict', join(dir, 'bad.yaml')]), (e: { stdout: string }) => /'backoffLimt' was unexpected/.test(e.stdout));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const noImage = await cli(['train', '--k8s-manifest', '--', 'python', 'train.py']);
  assert.equal(noImage.code, 2);
  assert.match(noImage.stderr, /--k8s-manifest needs --image/);
});

void test('export --format kserve and --format argo-rollouts: an InferenceService and an AnalysisTemplate over our own metrics', async (t) => {
  const { AnalysisTemplate } = await rollouts();
  const home = mkdtempSync(join(tmpdir(), 'mlops-k8s-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();

  const isvc = await yamlOf(['--home', home, 'export', `iris/${v}`, '--format', 'kserve', '--storage-uri', 's3://models/iris/1', '--canary-percent', '10', '--endpoint', 'iris-prod']);
  const check = crdValidator('kserve-inferenceservice.schema.json');
  assert.deepEqual(check(isvc), []);
  assert.deepEqual(isvc.spec.predictor.model, {
    modelFormat: { name: 'onnx' },
    protocolVersion: 'v2',
    storageUri: 's3://models/iris/1',
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  });
  assert.equal(isvc.spec.predictor.canaryTrafficPercent, 10);
  assert.notDeepEqual(check({ ...isvc, spec: { predictor: { ...isvc.spec.predictor, canaryTraficPercent: 10 } } }), []);
  assert.notDeepEqual(check({ ...isvc, spec: { predictor: { ...isvc.spec.predictor, minReplicas: 'one' } } }), []);
  const noUri = await cli(['--home', home, 'export', `iris/${v}`, '--format', 'kserve']);
  assert.equal(noUri.code, 2);
  assert.match(noUri.stderr, /needs --storage-uri/);

  const prom = await yamlOf(['--home', home, 'export', `iris/${v}`, '--format', 'argo-rollouts', '--address', 'http://prometheus.monitoring:9090']);
  new AnalysisTemplate(prom).validate();
  const web = await yamlOf(['--home', home, 'export', `iris/${v}`, '--format', 'argo-rollouts', '--provider', 'web', '--address', 'http://mlops.ml.svc:8080']);
  new AnalysisTemplate(web).validate();
  assert.deepEqual(prom.spec.metrics.map((m: { name: string; failureLimit: number }) => [m.name, m.failureLimit]), [['error-rate', 1], ['p99-latency-ms', 1]]);
  assert.match(prom.spec.metrics[0].successCondition, /result\[0\] <= 0.05/);
  assert.equal(web.spec.metrics[0].provider.web.url, 'http://mlops.ml.svc:8080/endpoints/iris');
  throwsInvalid(() => new AnalysisTemplate({ ...prom, spec: { metrics: [{ ...prom.spec.metrics[0], failureLimit: [1] }] } }).validate());

  // The queries name series and labels our /metrics really exports once an endpoint served a request.
  const app = await buildServingApp(t);
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  await app.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: { model: `iris/${v2}` } });
  await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { inputs: [[1, 2, 3, 4]] } });
  const metrics = (await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
  const series = (q: string) => [...q.matchAll(/(ml_[a-z_]+)\{([^}]*)\}/g)].map((m) => ({ name: m[1]!, labels: [...m[2]!.matchAll(/([a-z_]+)!?=/g)].map((l) => l[1]!) }));
  for (const m of prom.spec.metrics) {
    for (const s of series(m.provider.prometheus.query as string)) {
      const line = metrics.split('\n').find((l) => l.startsWith(`${s.name}{`));
      assert.ok(line, `${s.name} is exported`);
      for (const l of s.labels) assert.match(line, new RegExp(`[{,]${l}="`), `${s.name} has label ${l}`);
    }
  }
  const view = JSON.parse((await app.server.inject({ method: 'GET', url: '/endpoints/iris', headers: AUTH })).body) as { variants: { id: string; window: { errorRate: number; p99Ms: number | null } }[] };
  assert.equal(typeof view.variants[0]!.window.errorRate, 'number');
  assert.ok('p99Ms' in view.variants[0]!.window);
});
