import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../../backend/src/core';
import { SyncRepo } from '../../../backend/src/services/sync/repository';
import { addRemote } from '../../../backend/src/services/sync/remotes';
import type { Job } from '../../../backend/src/services/jobs/types';
import { startServer } from '../../../backend/src/server';
import { api as callApi } from '../../helpers/backend';
import type { PipelineRun } from '../../../backend/src/services/pipelines/repository';
import { backend, ended, followLogs, pyMounts, tempHome, testImages, until, venv, type Backend } from './helpers';

/**
 * A training script as a job runs it: logs params, metrics, tags, artifacts, a nested run and a registered model
 * with the real mlflow client and the job's own token; then tries what a job must not do, and dumps its env.
 */
const SCRIPT = `import json, os, sys, urllib.request
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

out, other_run, other_exp, model_name = sys.argv[1:5]
token = os.environ["MLFLOW_TRACKING_TOKEN"]
open(os.path.join(out, "token"), "w").write(token)
json.dump(dict(os.environ), open(os.path.join(out, "env.json"), "w"))
print("env:", dict(os.environ))
print("token:", token)
print("db:", os.environ["DATABASE_URL"], "plain:", os.environ["PLAIN"])
print("argv:", " ".join(sys.argv), flush=True)
client = MlflowClient()
with mlflow.start_run() as run:
    mlflow.log_params({"lr": 0.1, "depth": 3})
    mlflow.log_metric("acc", 0.9)
    mlflow.log_metrics({"loss": 0.2}, step=1)
    mlflow.set_tag("stage", "train")
    mlflow.log_dict({"a": 1}, "conf/d.json")
    model = LogisticRegression(max_iter=200).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    mlflow.sklearn.log_model(model, name="model", registered_model_name=model_name)
    client.create_model_version(model_name, source=f"{run.info.artifact_uri}/conf", run_id=run.info.run_id)
    with mlflow.start_run(nested=True):
        mlflow.log_metric("child", 1.0)
results = {}
def attempt(name, fn):
    try:
        fn()
        results[name] = "ok"
    except MlflowException as e:
        results[name] = e.error_code
attempt("other_run_param", lambda: client.log_param(other_run, "x", "1"))
attempt("other_run_delete", lambda: client.delete_run(other_run))
attempt("other_experiment_run", lambda: client.create_run(other_exp))
attempt("alias", lambda: client.set_registered_model_alias(model_name, "prod", "1"))
attempt("register_other_run", lambda: client.create_model_version(model_name, source=f"runs:/{other_run}/model", run_id=other_run))
req = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/v1/jobs", headers={"Authorization": "Bearer " + token})
try:
    urllib.request.urlopen(req)
    results["jobs_api"] = "ok"
except urllib.error.HTTPError as e:
    results["jobs_api"] = [e.code, json.loads(e.read())["error_code"]]
json.dump(results, open(os.path.join(out, "results.json"), "w"))
print("done", flush=True)
`;

interface Secrets {
  master: string;
  sync: string;
}

/** A backend whose own token is long and random, with MLOPS_TOKEN in its env and a sync remote whose secret it knows. */
async function secretBackend(t: TestContext): Promise<{ b: Backend; s: Secrets }> {
  const s: Secrets = { master: `master-${randomBytes(16).toString('hex')}`, sync: `syncval-${randomBytes(12).toString('hex')}` };
  const saved = { token: process.env.MLOPS_TOKEN, sync: process.env.JOBSEC_SYNC_VALUE };
  process.env.MLOPS_TOKEN = s.master;
  process.env.JOBSEC_SYNC_VALUE = s.sync;
  t.after(() => {
    for (const [k, v] of [['MLOPS_TOKEN', saved.token], ['JOBSEC_SYNC_VALUE', saved.sync]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const home = tempHome(t);
  const core = openCore(home);
  addRemote(new SyncRepo(core.db), { name: 'origin', url: 'http://127.0.0.1:9', tokenEnv: 'JOBSEC_SYNC_VALUE' });
  core.db.close();
  const b = await backend(home, s.master);
  t.after(() => b.close());
  return { b, s };
}

interface Found {
  job: Job;
  token: string;
  results: Record<string, unknown>;
  env: Record<string, string>;
  live: string;
  other: string;
}

async function runScript(b: Backend, launcher: 'local' | 'docker', plain: string): Promise<Found> {
  const work = mkdtempSync(join(tmpdir(), 'mlops-jobsec-'));
  writeFileSync(join(work, 'train.py'), SCRIPT);
  const otherExp = (await b.api<{ experiment_id: string }>('POST', '/api/2.0/mlflow/experiments/create', { name: `other-${launcher}` })).body.experiment_id;
  const other = (await b.api<{ run: { info: { run_id: string } } }>('POST', '/api/2.0/mlflow/runs/create', { experiment_id: otherExp })).body.run.info.run_id;
  const dir = launcher === 'docker' ? '/work' : work;
  const body = {
    launcher,
    command: [`${venv()}/bin/python`, `${dir}/train.py`, dir, other, otherExp, `jobsec-${launcher}`, '--password=hunter2-secret-pw', '--token', 'tok-abc-12345'],
    env: { DATABASE_URL: 'postgres://u:pgsecretpw@127.0.0.1/db', MY_API_KEY: 'apikeyvalue123', PLAIN: plain },
    experiment: `jobsec-${launcher}`,
    ...(launcher === 'docker' ? { image: 'mlops-test/pyhost:1', mounts: [...pyMounts(), { source: work, target: '/work' }], cwd: '/work' } : { cwd: work }),
  };
  const submit = await b.api<Job>('POST', '/api/v1/jobs', body);
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  const stream = followLogs(b, submit.body.job_id);
  const job = await until(b, submit.body.job_id, ended, 240_000);
  const { text: live } = await stream;
  assert.equal(job.status, 'finished', `${job.message}\n${readFileSync(job.log_file, 'utf8')}`);
  return {
    job,
    token: readFileSync(join(work, 'token'), 'utf8'),
    results: JSON.parse(readFileSync(join(work, 'results.json'), 'utf8')) as Record<string, unknown>,
    env: JSON.parse(readFileSync(join(work, 'env.json'), 'utf8')) as Record<string, string>,
    live,
    other,
  };
}

interface Run {
  run: { info: { run_id: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[]; tags?: { key: string; value: string }[] } };
}

async function check(b: Backend, s: Secrets, f: Found, launcher: string): Promise<void> {
  assert.match(f.token, /^mlopsjob_/, 'the job got a token of its own');
  assert.notEqual(f.token, s.master);
  // What it is meant to do worked: its run has what it logged, its model is registered.
  const run = (await b.api<Run>('GET', `/api/2.0/mlflow/runs/get?run_id=${f.job.run_id}`)).body.run;
  assert.equal(run.data.params?.find((p) => p.key === 'lr')?.value, '0.1');
  assert.equal(run.data.metrics?.find((m) => m.key === 'acc')?.value, 0.9);
  assert.equal(run.data.tags?.find((x) => x.key === 'stage')?.value, 'train');
  const versions = (await b.api<{ model_versions: unknown[] }>('GET', `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='jobsec-${launcher}'`)}`)).body;
  assert.equal(versions.model_versions.length, 2, 'log_model registered a version and create_model_version another');
  // What it must not do was refused with MLflow's error shape.
  assert.deepEqual(f.results, {
    other_run_param: 'PERMISSION_DENIED',
    other_run_delete: 'PERMISSION_DENIED',
    other_experiment_run: 'PERMISSION_DENIED',
    alias: 'PERMISSION_DENIED',
    register_other_run: 'PERMISSION_DENIED',
    jobs_api: [403, 'PERMISSION_DENIED'],
  });
  const otherRun = (await b.api<Run>('GET', `/api/2.0/mlflow/runs/get?run_id=${f.other}`)).body.run;
  assert.equal(otherRun.data.params, undefined, 'nothing reached the other run');
  // The backend's token is nowhere in the job's environment.
  assert.ok(!JSON.stringify(f.env).includes(s.master), 'master token in the job env');
  assert.equal(f.env.MLOPS_TOKEN, undefined);
  assert.equal(f.env.JOBSEC_SYNC_VALUE, undefined, "a local job does not inherit the backend's sync secret");
  // No secret in the log file, the logs API, the live stream, the job API or the lineage record.
  const places: Record<string, string> = {
    'log file': readFileSync(f.job.log_file, 'utf8'),
    'logs API': (await b.api<string>('GET', `/api/v1/jobs/${f.job.job_id}/logs`)).body,
    'live stream': f.live,
    'job API': JSON.stringify((await b.api('GET', `/api/v1/jobs/${f.job.job_id}`)).body),
    lineage: JSON.stringify((await b.api('GET', `/api/v1/runs/${f.job.run_id}/lineage`)).body),
  };
  const secrets = { master: s.master, sync: s.sync, 'job token': f.token, 'db password': 'pgsecretpw', 'api key': 'apikeyvalue123', '--password': 'hunter2-secret-pw', '--token': 'tok-abc-12345' };
  for (const [where, text] of Object.entries(places)) {
    for (const [what, value] of Object.entries(secrets)) assert.ok(!text.includes(value), `${what} in the ${where}`);
  }
  assert.match(places['log file']!, /token: \*\*\*/);
  assert.match(places['log file']!, /postgres:\/\/u:\*\*\*@127\.0\.0\.1\/db/);
  assert.match(places['log file']!, /--password=\*\*\* --token \*\*\*/);
  assert.match(places['log file']!, /plain: \*\*\*/, 'a known secret is masked by value whatever its name');
  assert.match(places['log file']!, /done/);
  // Dead once the job ended; stored only as its hash.
  const after = await fetch(`${b.url}/api/2.0/mlflow/runs/get?run_id=${f.job.run_id}`, { headers: { authorization: `Bearer ${f.token}` } });
  assert.equal(after.status, 401);
  assert.equal(((await after.json()) as { error_code: string }).error_code, 'UNAUTHENTICATED');
  const core = openCore(b.home);
  try {
    const rows = core.db.prepare('SELECT * FROM job_tokens WHERE job_id = ?').all(f.job.job_id) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.token_hash, createHash('sha256').update(f.token).digest('hex'));
    assert.ok(rows[0]!.revoked_at);
    assert.ok(!JSON.stringify(rows).includes(f.token));
  } finally {
    core.db.close();
  }
}

void test('job tokens and masking: a local job', { timeout: 300_000 }, async (t) => {
  const { b, s } = await secretBackend(t);
  const f = await runScript(b, 'local', s.sync);
  await check(b, s, f, 'local');
});

void test('job tokens and masking: a Docker job', { timeout: 300_000 }, async (t) => {
  testImages();
  const { b, s } = await secretBackend(t);
  const f = await runScript(b, 'docker', s.sync);
  await check(b, s, f, 'docker');
});

void test('job tokens: each pipeline step has its own, and one step cannot write to another step\'s run', { timeout: 120_000 }, async (t) => {
  const { b, s } = await secretBackend(t);
  const dir = mkdtempSync(join(tmpdir(), 'mlops-jobsec-pipe-'));
  const py = `${venv()}/bin/python`;
  writeFileSync(
    join(dir, 'step.py'),
    `import hashlib, json, os, mlflow
from mlflow.exceptions import MlflowException
out = os.environ["MLOPS_OUTPUT_DIR"]
res = {"token_sha": hashlib.sha256(os.environ["MLFLOW_TRACKING_TOKEN"].encode()).hexdigest(), "run": os.environ["MLFLOW_RUN_ID"]}
with mlflow.start_run():
    mlflow.log_metric("m", 1.0)
upstream = os.environ.get("MLOPS_INPUT_A")
if upstream:
    try:
        mlflow.MlflowClient().log_param(json.load(open(os.path.join(upstream, "outputs.json")))["run"], "x", "1")
        res["upstream_write"] = "ok"
    except MlflowException as e:
        res["upstream_write"] = e.error_code
json.dump(res, open(os.path.join(out, "outputs.json"), "w"))
`,
  );
  writeFileSync(join(dir, 'mlops.yaml'), `steps:\n  a:\n    command: [${py}, step.py]\n    cache: false\n  b:\n    needs: [a]\n    command: [${py}, step.py]\n    cache: false\n`);
  const start = await b.api<PipelineRun>('POST', '/api/v1/pipelines/runs', { file: join(dir, 'mlops.yaml') });
  assert.equal(start.status, 201, JSON.stringify(start.body));
  let r = start.body;
  while (r.status === 'running') {
    await new Promise((done) => setTimeout(done, 100));
    r = (await b.api<PipelineRun>('GET', `/api/v1/pipelines/runs/${r.pipeline_run_id}`)).body;
  }
  assert.equal(r.status, 'finished', JSON.stringify(r.steps));
  const [a, bOut] = r.steps.map((st) => st.outputs as { token_sha: string; run: string; upstream_write?: string });
  assert.notEqual(a!.token_sha, bOut!.token_sha, 'each step has its own token');
  assert.notEqual(a!.token_sha, createHash('sha256').update(s.master).digest('hex'));
  assert.equal(bOut!.upstream_write, 'PERMISSION_DENIED');
});

void test('job tokens: a Docker job reattached by a restarted backend (with another token of its own) still logs', { timeout: 180_000 }, async (t) => {
  testImages();
  const home = tempHome(t);
  const work = mkdtempSync(join(tmpdir(), 'mlops-jobsec-restart-'));
  writeFileSync(
    join(work, 'train.py'),
    `import os, time, mlflow
print("waiting", flush=True)
while not os.path.exists("/work/go"):
    time.sleep(0.05)
with mlflow.start_run():
    mlflow.log_metric("after_restart", 1.0)
print("logged", flush=True)
`,
  );
  const b0 = await backend(home, `first-${randomBytes(12).toString('hex')}`);
  let b: Backend = b0;
  const submit = await b.api<Job>('POST', '/api/v1/jobs', { image: 'mlops-test/pyhost:1', command: [`${venv()}/bin/python`, '/work/train.py'], mounts: [...pyMounts(), { source: work, target: '/work' }] });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  const id = submit.body.job_id;
  await until(b, id, (j) => j.status === 'running' && readLog(j).includes('waiting'), 60_000);
  await b0.close();
  // Same port (the container has the URL), another token: the job's own token is in the store, hashed.
  const again = await startServer({ home, token: `second-${randomBytes(12).toString('hex')}`, port: Number(new URL(b.url).port) });
  t.after(() => again.app.server.close());
  b = { ...b, token: again.handshake.token, api: (method, path, body) => callApi({ url: again.handshake.url, token: again.handshake.token }, method, path, body) };
  writeFileSync(join(work, 'go'), '');
  const job = await until(b, id, ended, 60_000);
  assert.equal(job.status, 'finished', readLog(job));
  const run = (await b.api<Run>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).body.run;
  assert.equal(run.data.metrics?.find((m) => m.key === 'after_restart')?.value, 1.0);
});

function readLog(j: Job): string {
  try {
    return readFileSync(j.log_file, 'utf8');
  } catch {
    return '';
  }
}
