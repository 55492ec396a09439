import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CLI, ROOT } from '../../helpers/backend';
import { scaleoutModule, startKubeMock, type KubeMock } from '../../helpers/scaleout';
import { openCore } from '../../../backend/src/core';
import { applyManifests } from '../../../backend/src/services/k8s/apply';
import { registerOnnxModel } from '../../fixtures/onnx/harness';
import { CHAMPION, linearClassifier } from '../../fixtures/onnx/models';

/**
 * `--apply` of the generated manifests, run with the real CLI against kmock (PyPI), a mock Kubernetes API server
 * that stores what it is sent (test/python/kmock_apiserver.py adds server-side apply's create-or-update and
 * dryRun on top of its emulator). No real cluster was available: this checks the requests and their handling,
 * not what a real API server, Argo or KServe would then do.
 */

const IRIS = join(ROOT, 'examples/iris/mlops.yaml');
const TOKEN = randomBytes(16).toString('hex');
const APPLY_QUERY = { fieldManager: 'mlops-studio', force: 'true' };
const RESOURCES = ['v1/secrets=Secret', 'batch/v1/jobs=Job', 'argoproj.io/v1alpha1/workflows=Workflow', 'argoproj.io/v1alpha1/cronworkflows=CronWorkflow', 'argoproj.io/v1alpha1/analysistemplates=AnalysisTemplate', 'serving.kserve.io/v1beta1/inferenceservices=InferenceService'];
const REJECTED = '/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/rejected';
const REJECTION = 'InferenceService.serving.kserve.io "rejected" is invalid: spec.predictor.canaryTrafficPercent: Invalid value: 10: needs an existing revision';
const CONFLICTED = '/apis/argoproj.io/v1alpha1/namespaces/ml/analysistemplates/conflicted-canary-health';
const FORBIDDEN = 'jobs.batch is forbidden: User "system:serviceaccount:ci:mlops" cannot patch resource "jobs" in API group "batch" in the namespace "locked"';
const CONFLICT = 'Operation cannot be fulfilled on analysistemplates.argoproj.io "conflicted-canary-health": the object has been modified; please apply your changes to the latest version and try again';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI; the token only ever in its environment, never on its argv. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', MLOPS_KUBE_TOKEN: TOKEN, MLOPS_KUBE_SERVER: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A failure the way a user should see it: exit 1, one `mlops:` line, no stack trace, no token. */
function failsClearly(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 1, `exit code, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/);
  assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN), 'the token is never printed');
}

const listen = (s: Server | ReturnType<typeof createHttpServer>): Promise<number> =>
  new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));

void test('--apply sends server-side apply requests that kmock stores', { timeout: 240_000 }, async (t) => {
  const found = scaleoutModule('kmock');
  if ('skip' in found) {
    process.stderr.write(`# --apply tests skipped: ${found.skip}\n`);
    t.skip(found.skip);
    return;
  }
  const answers = [
    { method: 'patch', path: REJECTED, status: 422, reason: 'Invalid', message: REJECTION },
    { method: 'patch', path: CONFLICTED, status: 409, reason: 'Conflict', message: CONFLICT },
    { method: 'patch', path_regex: '/apis/batch/v1/namespaces/locked/jobs/[a-z0-9-]+', status: 403, reason: 'Forbidden', message: FORBIDDEN },
  ];
  const mock: KubeMock = await startKubeMock(found.python, [...RESOURCES.flatMap((r) => ['--resource', r]), ...answers.flatMap((a) => ['--answer', JSON.stringify(a)])], TOKEN);
  t.after(() => mock.stop());
  const home = mkdtempSync(join(tmpdir(), 'mlops-k8s-apply-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  let seen = 0;
  /** The requests since the last call. */
  const newRequests = async () => {
    const all = await mock.requests();
    const out = all.slice(seen);
    seen = all.length;
    return out;
  };

  await t.test('pipeline export --format argo --apply: one PATCH with the exact server-side apply request; kmock holds the Workflow', async () => {
    const args = ['pipeline', 'export', IRIS, '--format', 'argo', '--image', 'registry.example/iris:1', '--namespace', 'ml'];
    const r = await cli([...args, '--apply', '--server', mock.url]);
    assert.equal(r.code, 0, r.stderr);
    const m = /^workflow\.argoproj\.io\/(iris-[a-z0-9]{5}) created in namespace ml\n$/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const name = m[1]!;
    const [req, ...more] = await newRequests();
    assert.equal(more.length, 0);
    assert.equal(req!.method, 'PATCH');
    assert.equal(req!.path, `/apis/argoproj.io/v1alpha1/namespaces/ml/workflows/${name}`);
    assert.deepEqual(req!.query, APPLY_QUERY);
    assert.equal(req!.content_type, 'application/apply-patch+yaml');
    assert.equal(req!.authorization, `Bearer ${TOKEN}`);
    assert.equal(req!.user_agent, 'MLOpsStudio-Apply/1');
    // The body is the manifest the command prints, with the generateName turned into that name.
    const printed = parseYaml((await cli(args)).stdout) as { metadata: Record<string, unknown>; spec: unknown };
    assert.equal(printed.metadata.generateName, 'iris-');
    assert.deepEqual(req!.body.spec, printed.spec);
    assert.deepEqual(req!.body.metadata, { name, namespace: 'ml', labels: printed.metadata.labels });
    const got = await mock.get(`/apis/argoproj.io/v1alpha1/namespaces/ml/workflows/${name}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.metadata.labels, { 'app.kubernetes.io/managed-by': 'mlops-studio', 'mlops.studio/pipeline': 'iris' });
    assert.deepEqual(got.body.spec, printed.spec);
    assert.equal(got.body.kind, 'Workflow');
  });

  await t.test('argo-cron: re-applying updates the one CronWorkflow (same uid), never a duplicate', async () => {
    const args = (schedule: string) => ['pipeline', 'export', IRIS, '--format', 'argo-cron', '--schedule', schedule, '--image', 'registry.example/iris:1', '--namespace', 'ml', '--apply', '--server', mock.url];
    const first = await cli(args('0 3 * * 1'));
    assert.equal(first.stdout, 'cronworkflow.argoproj.io/iris-retrain created in namespace ml\n', first.stderr);
    const path = '/apis/argoproj.io/v1alpha1/namespaces/ml/cronworkflows/iris-retrain';
    const before = (await mock.get(path)).body;
    const again = await cli(args('0 3 * * 1'));
    assert.equal(again.stdout, 'cronworkflow.argoproj.io/iris-retrain updated in namespace ml\n', again.stderr);
    const changed = await cli(args('30 4 * * *'));
    assert.equal(changed.stdout, 'cronworkflow.argoproj.io/iris-retrain updated in namespace ml\n', changed.stderr);
    const list = (await mock.get('/apis/argoproj.io/v1alpha1/namespaces/ml/cronworkflows')).body.items as { metadata: { name: string; uid: string }; spec: { schedules: string[] } }[];
    assert.deepEqual(list.map((i) => i.metadata.name), ['iris-retrain']);
    assert.equal(list[0]!.metadata.uid, before.metadata.uid);
    assert.deepEqual(list[0]!.spec.schedules, ['30 4 * * *']);
    const reqs = await newRequests();
    assert.deepEqual(reqs.map((q) => [q.method, q.path, q.query]), [[ 'PATCH', path, APPLY_QUERY ], [ 'PATCH', path, APPLY_QUERY ], [ 'PATCH', path, APPLY_QUERY ]]);
  });

  await t.test('train --k8s-manifest --apply: the server from MLOPS_KUBE_SERVER, namespace default; the Job with its GPU limit is stored', async () => {
    const r = await cli(['train', '--k8s-manifest', '--apply', '--image', 'registry.example/iris:1', '--gpus', '1', '--experiment', 'iris', '--', 'python', 'train.py'], { MLOPS_KUBE_SERVER: mock.url });
    assert.equal(r.code, 0, r.stderr);
    const name = /^job\.batch\/(iris-train-[a-z0-9]{5}) created in namespace default\n$/.exec(r.stdout)?.[1];
    assert.ok(name, r.stdout);
    const [req] = await newRequests();
    assert.equal(req!.path, `/apis/batch/v1/namespaces/default/jobs/${name}`);
    assert.deepEqual(req!.query, APPLY_QUERY);
    const job = (await mock.get(`/apis/batch/v1/namespaces/default/jobs/${name}`)).body;
    assert.deepEqual(job.metadata.labels, { 'app.kubernetes.io/managed-by': 'mlops-studio', 'mlops.studio/kind': 'train' });
    assert.deepEqual(job.spec.template.spec.containers[0].resources.limits, { 'nvidia.com/gpu': '1' });
    assert.deepEqual(job.spec.template.spec.containers[0].command, ['python', 'train.py']);
  });

  await t.test('export --format kserve --apply --dry-run sends dryRun=All and stores nothing; then the real apply stores it', async () => {
    const args = ['--home', home, 'export', `iris/${v}`, '--format', 'kserve', '--storage-uri', 's3://models/iris/1', '--canary-percent', '10', '--endpoint', 'iris-prod', '--namespace', 'ml', '--apply', '--server', mock.url];
    const dry = await cli([...args, '--dry-run']);
    assert.equal(dry.stdout, 'inferenceservice.serving.kserve.io/iris-prod created in namespace ml (dry run: nothing stored)\n', dry.stderr);
    const path = '/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/iris-prod';
    assert.deepEqual((await newRequests()).map((q) => [q.method, q.path, q.query]), [['PATCH', path, { ...APPLY_QUERY, dryRun: 'All' }]]);
    assert.equal((await mock.get(path)).status, 404);
    const real = await cli(args);
    assert.equal(real.stdout, 'inferenceservice.serving.kserve.io/iris-prod created in namespace ml\n', real.stderr);
    const isvc = (await mock.get(path)).body;
    assert.equal(isvc.spec.predictor.canaryTrafficPercent, 10);
    assert.equal(isvc.spec.predictor.model.storageUri, 's3://models/iris/1');
    assert.equal(isvc.metadata.annotations['mlops.studio/model'], `iris/${v}`);
    // A dry run against the stored object answers "updated" and still changes nothing.
    const dry2 = await cli([...args.map((a) => (a === '10' ? '50' : a)), '--dry-run']);
    assert.match(dry2.stdout, /iris-prod updated in namespace ml \(dry run: nothing stored\)/);
    assert.equal((await mock.get(path)).body.spec.predictor.canaryTrafficPercent, 10);
    const rollouts = await cli(['--home', home, 'export', `iris/${v}`, '--format', 'argo-rollouts', '--endpoint', 'iris-prod', '--namespace', 'ml', '--apply', '--server', mock.url]);
    assert.equal(rollouts.stdout, 'analysistemplate.argoproj.io/iris-prod-canary-health created in namespace ml\n', rollouts.stderr);
    const at = (await mock.get('/apis/argoproj.io/v1alpha1/namespaces/ml/analysistemplates/iris-prod-canary-health')).body;
    assert.deepEqual(at.spec.metrics.map((x: { name: string }) => x.name), ['error-rate', 'p99-latency-ms']);
    await newRequests();
  });

  await t.test('errors the API server answers: 422, 409 and 403 with its message, 401 for a wrong token; nothing stored', async () => {
    const kserve = (endpoint: string) => ['--home', home, 'export', `iris/${v}`, '--format', 'kserve', '--storage-uri', 's3://models/iris/1', '--canary-percent', '10', '--endpoint', endpoint, '--namespace', 'ml', '--apply', '--server', mock.url];
    failsClearly(await cli(kserve('rejected')), new RegExp(`^mlops: inferenceservice\\.serving\\.kserve\\.io/rejected is invalid \\(422\\): ${REJECTION.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
    assert.equal((await mock.get(REJECTED)).status, 404);
    const conflict = await cli(['--home', home, 'export', `iris/${v}`, '--format', 'argo-rollouts', '--endpoint', 'conflicted', '--namespace', 'ml', '--apply', '--server', mock.url]);
    failsClearly(conflict, /^mlops: analysistemplate\.argoproj\.io\/conflicted-canary-health: conflict \(409\): Operation cannot be fulfilled on analysistemplates\.argoproj\.io "conflicted-canary-health": the object has been modified/);
    const forbidden = await cli(['train', '--k8s-manifest', '--image', 'x', '--namespace', 'locked', '--apply', '--server', mock.url, '--', 'python', 'train.py']);
    failsClearly(forbidden, /^mlops: job\.batch\/train-train-[a-z0-9]{5}: forbidden \(403\): jobs\.batch is forbidden: User "system:serviceaccount:ci:mlops" cannot patch resource "jobs"/);
    const badToken = await cli(kserve('iris-other'), { MLOPS_KUBE_TOKEN: 'not-the-token' });
    failsClearly(badToken, new RegExp(`^mlops: the API server at ${mock.url} refused the credentials \\(401 Unauthorized: Unauthorized\\); is the token in MLOPS_KUBE_TOKEN valid\\?`));
    assert.ok(!badToken.stderr.includes('not-the-token'));
    const noToken = await cli(kserve('iris-other'), { MLOPS_KUBE_TOKEN: '' });
    failsClearly(noToken, /401 Unauthorized: Unauthorized\); no token was sent: set MLOPS_KUBE_TOKEN/);
    const reqs = await newRequests();
    assert.deepEqual(reqs.map((q) => [q.path, q.authorization]), [
      [REJECTED, `Bearer ${TOKEN}`],
      [CONFLICTED, `Bearer ${TOKEN}`],
      [`/apis/batch/v1/namespaces/locked/jobs/${/job\.batch\/(\S+):/.exec(forbidden.stderr)![1]}`, `Bearer ${TOKEN}`],
      ['/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/iris-other', 'Bearer not-the-token'],
      ['/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/iris-other', null],
    ]);
    assert.equal((await mock.get('/apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/iris-other')).status, 404);
    assert.deepEqual((await mock.get('/apis/batch/v1/namespaces/locked/jobs')).body.items, []);
  });

  await t.test('a cluster without KServe: the 404 is explained after a discovery check', async () => {
    const bare = await startKubeMock(found.python, ['--resource', 'batch/v1/jobs=Job'], TOKEN);
    try {
      const r = await cli(['--home', home, 'export', `iris/${v}`, '--format', 'kserve', '--storage-uri', 's3://models/iris/1', '--apply', '--server', bare.url]);
      failsClearly(r, /^mlops: the cluster does not serve inferenceservices in serving\.kserve\.io\/v1beta1 \(404: the server could not find the requested resource\): is KServe installed\?\n$/);
      const wf = await cli(['pipeline', 'export', IRIS, '--format', 'argo', '--image', 'x', '--apply', '--server', bare.url]);
      failsClearly(wf, /does not serve workflows in argoproj\.io\/v1alpha1 .*: is Argo Workflows installed\?/);
      assert.deepEqual((await bare.requests()).map((q) => [q.method, q.path.replace(/iris-[a-z0-9]{5}$/, 'iris-NAME')]), [
        ['PATCH', '/apis/serving.kserve.io/v1beta1/namespaces/default/inferenceservices/iris'],
        ['GET', '/apis/serving.kserve.io/v1beta1'],
        ['PATCH', '/apis/argoproj.io/v1alpha1/namespaces/default/workflows/iris-NAME'],
        ['GET', '/apis/argoproj.io/v1alpha1'],
      ]);
    } finally {
      await bare.stop();
    }
  });

  await t.test('unreachable, silent and oversized servers fail in bounded time with the URL named', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((r) => closed.close(r));
    const job = (server: string, extra: string[] = []) => cli(['train', '--k8s-manifest', '--image', 'x', '--apply', '--server', server, ...extra, '--', 'python', 'train.py']);
    failsClearly(await job(`http://127.0.0.1:${port}`), new RegExp(`^mlops: cannot reach the Kubernetes API server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is --server or MLOPS_KUBE_SERVER right\\?\n$`));
    // Accepts connections, never answers.
    const silent = createServer(() => undefined);
    const silentPort = await listen(silent);
    t.after(() => silent.close());
    failsClearly(await job(`http://127.0.0.1:${silentPort}`, ['--request-timeout', '1']), new RegExp(`^mlops: no usable answer from the Kubernetes API server at http://127\\.0\\.0\\.1:${silentPort} \\(no answer in 1 s\\)`));
    // Answers 200 with more than 8 MiB.
    const huge = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1 << 20, 0x20);
      for (let i = 0; i < 9; i++) res.write(chunk);
      res.end('{}');
    });
    const hugePort = await listen(huge);
    t.after(() => huge.close());
    failsClearly(await job(`http://127.0.0.1:${hugePort}`), /no usable answer from the Kubernetes API server at .*passed 8 MiB/);
  });

  await t.test('a core-group kind (a Secret) goes to /api/v1/...', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mlops-mlflow' }, stringData: { MLFLOW_TRACKING_URI: 'http://mlflow.ml.svc:5000' } };
    assert.deepEqual(await applyManifests([secret], { server: mock.url, token: TOKEN, namespace: 'ml' }), [{ ref: 'secret/mlops-mlflow', namespace: 'ml', action: 'created', dryRun: false, uid: (await mock.get('/api/v1/namespaces/ml/secrets/mlops-mlflow')).body.metadata.uid }]);
    assert.deepEqual((await newRequests()).map((q) => [q.method, q.path, q.query, q.content_type]), [['PATCH', '/api/v1/namespaces/ml/secrets/mlops-mlflow', APPLY_QUERY, 'application/apply-patch+yaml']]);
  });

  await t.test('usage errors exit 2: no server, credentials in the URL, --dry-run without --apply', async () => {
    const none = await cli(['train', '--k8s-manifest', '--image', 'x', '--apply', '--', 'python', 'train.py']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--apply needs --server URL or MLOPS_KUBE_SERVER/);
    const creds = await cli(['train', '--k8s-manifest', '--image', 'x', '--apply', '--server', 'http://user:pw@127.0.0.1:1', '--', 'python', 'train.py']);
    assert.equal(creds.code, 2);
    assert.match(creds.stderr, /must not carry credentials/);
    const dry = await cli(['pipeline', 'export', IRIS, '--format', 'argo', '--image', 'x', '--dry-run']);
    assert.equal(dry.code, 2);
    assert.match(dry.stderr, /--server and --dry-run go with --apply/);
    assert.equal((await newRequests()).length, 0);
  });
});
