import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../backend/src/services/jobs/types';
import type { PipelineRun } from '../../backend/src/services/pipelines/repository';
import { api, CLI, python, startBackend, type RunningBackend } from '../helpers/backend';
import { rayVenv, startRayHead } from '../helpers/ray';
import { ended, type Backend, until } from './jobs/helpers';

interface MlflowRun {
  run: { info: { status: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] } };
}

const asBackend = (r: RunningBackend): Backend => ({
  url: r.url,
  token: r.token,
  home: r.home,
  close: async () => void (await r.stop()),
  api: (method, path, body) => api(r, method, path, body) as never,
});

/** The job's log as the backend has it (what `mlops jobs logs` prints). */
const logOf = async (b: Backend, id: string): Promise<string> => (await b.api<string>('GET', `/api/v1/jobs/${id}/logs`)).body;

async function untilLog(b: Backend, id: string, re: RegExp, ms = 90_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const text = await logOf(b, id);
    if (re.test(text)) return text;
    if (Date.now() > end || /\[mlops\] (failed|finished|cancelled):/.test(text)) throw new Error(`no ${re} in the log of job ${id}: ${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A hostile argument: were the entrypoint not quoted, Ray's shell would expand, split or run parts of it.
const HOSTILE = `it's "$(echo pwned)" ; echo $HOME \`id\` * 'x'`;

void test('Ray launcher against a real Ray head on 127.0.0.1', { timeout: 300_000 }, async (t) => {
  const found = rayVenv();
  if ('skip' in found) {
    process.stderr.write(`# Ray launcher tests skipped: ${found.skip}\n`);
    t.skip(found.skip);
    return;
  }
  const t0 = Date.now();
  const head = await startRayHead(found.venv);
  t.after(() => head.stop());
  process.stderr.write(`# Ray head up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${head.address}\n`);
  const home = mkdtempSync(join(tmpdir(), 'mlops-ray-home-'));
  const work = mkdtempSync(join(tmpdir(), 'mlops-ray-work-'));
  t.after(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const env = { MLOPS_RAY_ADDRESS: head.address };
  let b = asBackend(await startBackend(home, [], env));
  t.after(() => b.close());
  const py = python();

  await t.test('mlops train --ray: the job logs params and metrics into our store while it runs, argv arrives unchanged', async () => {
    writeFileSync(
      join(work, 'train.py'),
      `import os, sys, time, mlflow
job_run = os.environ["MLFLOW_RUN_ID"]
with mlflow.start_run() as run:
    assert run.info.run_id == job_run
    mlflow.log_param("arg", sys.argv[1])
    mlflow.log_param("files", ",".join(sorted(os.listdir("."))))
    mlflow.log_metric("loss", 0.25, step=1)
    print("logged", flush=True)
    for _ in range(1200):
        if os.path.exists(os.environ["GO_FILE"]):
            break
        time.sleep(0.05)
print("bye", flush=True)
`,
    );
    // Left out of the uploaded folder: VCS data, venvs, and what .rayignore lists.
    mkdirSync(join(work, '.git'));
    writeFileSync(join(work, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(work, 'venv'));
    writeFileSync(join(work, 'venv', 'pyvenv.cfg'), '');
    writeFileSync(join(work, 'data.bin'), 'not for Ray');
    writeFileSync(join(work, '.rayignore'), '# big files\ndata.bin\n');
    const go = join(work, 'go-train');
    const cli = spawn(process.execPath, [CLI, '--home', home, 'train', '--ray', '--address', head.address, '--cpus', '1', '--env', `GO_FILE=${go}`, '--experiment', 'ray-e2e', '--', py, 'train.py', HOSTILE], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
    cli.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => cli.once('exit', r));
    let job: Job | undefined;
    for (let i = 0; i < 300 && !job; i++) {
      job = (await b.api<{ jobs: Job[] }>('GET', '/api/v1/jobs')).body.jobs.find((j) => j.launcher === 'ray');
      if (!job) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(job, `the CLI submitted a ray job: ${err}`);
    await untilLog(b, job.job_id, /logged/);
    // The job is still running: the run's data is already in our store.
    const run = (await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).body.run;
    assert.equal(run.data.params?.find((p) => p.key === 'arg')?.value, HOSTILE);
    assert.equal(run.data.params?.find((p) => p.key === 'files')?.value, '.rayignore,train.py', 'the job ran in its uploaded folder, less what is left out');
    assert.equal(run.data.metrics?.find((m) => m.key === 'loss')?.value, 0.25);
    assert.equal(run.info.status, 'RUNNING');
    const live = (await b.api<Job>('GET', `/api/v1/jobs/${job.job_id}`)).body;
    assert.equal(live.status, 'running');
    const ray = await head.job(job.job_id);
    assert.equal(ray.status, 'RUNNING', 'Ray knows the job by our job id');
    assert.equal(ray.entrypoint, `${py} train.py 'it'\\''s "$(echo pwned)" ; echo $HOME \`id\` * '\\''x'\\'''`, 'each argument is one quoted shell word');
    // --cpus 1 is the entrypoint's reservation: the head's only CPU shows as in use.
    for (let i = 0; i < 150 && (await head.cpusInUse()) < 1; i++) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await head.cpusInUse(), 1);
    assert.match(ray.runtime_env?.working_dir ?? '', /^gcs:\/\/_ray_pkg_[0-9a-f]{32}\.tar\.gz$/);
    assert.deepEqual([ray.runtime_env?.env_vars?.MLFLOW_RUN_ID, ray.runtime_env?.env_vars?.MLFLOW_TRACKING_URI], [job.run_id, b.url]);
    assert.ok(ray.runtime_env?.env_vars?.MLFLOW_TRACKING_TOKEN, 'the job has its own token');
    assert.equal(live.limits?.cpus?.how, 'ray');
    writeFileSync(go, '');
    assert.equal(await exited, 0, `mlops train exits 0: ${err}`);
    assert.match(out, /logged[\s\S]*bye/, 'the CLI streamed the job output');
    const done = (await b.api<Job>('GET', `/api/v1/jobs/${job.job_id}`)).body;
    assert.deepEqual([done.status, done.reason, done.exit_code], ['finished', 'exit', 0]);
    assert.equal((await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).body.run.info.status, 'FINISHED');
    assert.equal((await head.job(job.job_id)).status, 'SUCCEEDED');
  });

  await t.test('cancel stops the job on Ray: cancelled here, STOPPED there; a stop from Ray\'s side is a cancel too', async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'ray', command: [py, '-c', 'import time; print("waiting", flush=True); time.sleep(300)'], cwd: work });
    await untilLog(b, body.job_id, /waiting/);
    const c = await b.api<Job>('POST', `/api/v1/jobs/${body.job_id}/cancel`);
    assert.equal(c.status, 200);
    const job = await until(b, body.job_id, ended, 60_000);
    assert.deepEqual([job.status, job.reason], ['cancelled', 'cancelled']);
    assert.equal((await head.job(body.job_id)).status, 'STOPPED');

    // Stopped on the cluster, not by us: cancelled too, and the message says where.
    const other = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'ray', command: [py, '-c', 'import time; print("waiting", flush=True); time.sleep(300)'], cwd: work });
    await untilLog(b, other.body.job_id, /waiting/);
    assert.equal(await head.stopJob(other.body.job_id), 200);
    const stopped = await until(b, other.body.job_id, ended, 60_000);
    assert.deepEqual([stopped.status, stopped.reason], ['cancelled', 'cancelled']);
    assert.match(stopped.message ?? '', /^Stopped on the Ray cluster/);
  });

  await t.test('a failing job records its exit code; an unreachable cluster fails the start clearly', async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'ray', command: [py, '-c', 'import sys; print("boom", flush=True); sys.exit(3)'], cwd: work });
    const job = await until(b, body.job_id, ended, 90_000);
    assert.deepEqual([job.status, job.reason, job.exit_code], ['failed', 'exit', 3]);
    assert.match(job.message ?? '', /Ray job FAILED \(JOB_ENTRYPOINT_COMMAND_ERROR\): Job entrypoint command failed with exit code 3/);
    assert.match(await logOf(b, body.job_id), /boom/);
    const ray = await head.job(body.job_id);
    assert.deepEqual([ray.status, ray.driver_exit_code], ['FAILED', 3]);

    const off = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'ray', ray_address: 'http://127.0.0.1:1', command: ['true'], cwd: work });
    const lost = await until(b, off.body.job_id, ended, 60_000);
    assert.deepEqual([lost.status, lost.reason], ['failed', 'launch_error']);
    assert.match(lost.message ?? '', /cannot reach the Ray dashboard at http:\/\/127\.0\.0\.1:1 .*ray start --head/);
  });

  await t.test('a pipeline step with launcher: ray runs on the cluster and hands its output to a local step', async () => {
    const dir = mkdtempSync(join(work, 'pipe-'));
    const file = join(dir, 'mlops.yaml');
    writeFileSync(
      file,
      `name: ray-pipe
steps:
  train:
    launcher: ray
    cpus: 1
    outputs: [model.txt]
    command: [${JSON.stringify(py)}, -c, "import os; open(os.path.join(os.environ['MLOPS_OUTPUT_DIR'], 'model.txt'), 'w').write('m1'); print('trained')"]
  check:
    needs: [train]
    command: [sh, -c, 'test "$(cat "$MLOPS_INPUT_TRAIN/model.txt")" = m1']
`,
    );
    const start = await b.api<PipelineRun>('POST', '/api/v1/pipelines/runs', { file });
    assert.equal(start.status, 201, JSON.stringify(start.body));
    let run = start.body;
    for (let i = 0; i < 600 && run.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await b.api<PipelineRun>('GET', `/api/v1/pipelines/runs/${run.pipeline_run_id}`)).body;
    }
    assert.equal(run.status, 'finished', JSON.stringify(run));
    assert.deepEqual(run.steps.map((st) => [st.step, st.status]), [['train', 'finished'], ['check', 'finished']]);
    const train = (await b.api<Job>('GET', `/api/v1/jobs/${run.steps[0]!.job_id}`)).body;
    assert.equal(train.launcher, 'ray');
    assert.equal((await head.job(train.job_id)).status, 'SUCCEEDED');
    assert.match(await logOf(b, train.job_id), /trained/);
  });

  await t.test('a backend restart while the job runs: reattached, its log continues without repeats, it ends finished', async () => {
    const go = join(work, 'go-restart');
    const script = `import os, time
i = 0
while not os.path.exists(${JSON.stringify(go)}) and i < 600:
    i += 1
    print(f"tick {i}", flush=True)
    time.sleep(0.25)
print("done", flush=True)
`;
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'ray', command: [py, '-c', script], cwd: work });
    await untilLog(b, body.job_id, /tick 2\n/);
    await b.close();
    // Ray runs on while no backend follows it.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await head.job(body.job_id)).status, 'RUNNING');
    b = asBackend(await startBackend(home, [], env));
    await untilLog(b, body.job_id, /reattached/);
    writeFileSync(go, '');
    const job = await until(b, body.job_id, ended, 60_000);
    assert.deepEqual([job.status, job.exit_code], ['finished', 0]);
    const log = await logOf(b, body.job_id);
    const ticks = [...log.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(ticks.length >= 3, log);
    assert.deepEqual(ticks, ticks.map((_, i) => i + 1), 'every tick once, in order, across the restart');
    assert.match(log, /reattached[\s\S]*done/);
    assert.equal((await head.job(body.job_id)).status, 'SUCCEEDED');
  });
});
