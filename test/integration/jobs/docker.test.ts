import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, containersOf, ended, followLogs, pyMounts, tempHome, testImages, until, venv } from './helpers';

const BUSYBOX = 'mlops-test/busybox:1';
const PY = 'mlops-test/pyhost:1';

interface MlflowRun {
  run: { info: { status: string; run_id: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] } };
}

void test('docker jobs', { timeout: 300_000 }, async (t) => {
  testImages();
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());

  await t.test('a containerised mlflow script logs params and metrics into the backend while it runs; logs stream live', async () => {
    const work = mkdtempSync(join(tmpdir(), 'mlops-job-work-'));
    writeFileSync(
      join(work, 'train.py'),
      `import os, time, mlflow
job_run = os.environ["MLFLOW_RUN_ID"]
with mlflow.start_run() as run:
    assert run.info.run_id == job_run, "the job's run is resumed"
    mlflow.log_param("lr", 0.1)
    for i in range(3):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
    print("logged", flush=True)
    for _ in range(1200):
        if os.path.exists("/work/go"):
            break
        time.sleep(0.05)
print("bye", flush=True)
`,
    );
    const submit = await b.api<Job>('POST', '/api/v1/jobs', {
      image: PY,
      command: [`${venv()}/bin/python`, '/work/train.py'],
      mounts: [...pyMounts(), { source: work, target: '/work' }],
      experiment: 'docker-e2e',
      params: { epochs: '3' },
    });
    assert.equal(submit.status, 201, JSON.stringify(submit.body));
    const id = submit.body.job_id;
    let liveChecked = false;
    const logs = followLogs(b, id, (text) => {
      if (text.includes('logged') && !liveChecked) {
        liveChecked = true;
        void (async () => {
          const job = (await b.api<Job>('GET', `/api/v1/jobs/${id}`)).body;
          const run = (await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).body.run;
          assert.equal(job.status, 'running', 'the metrics arrive while the job runs');
          assert.deepEqual(run.data.params?.find((p) => p.key === 'lr')?.value, '0.1');
          assert.equal(run.data.metrics?.find((m) => m.key === 'loss')?.value, 1 / 3);
          assert.equal(run.info.status, 'RUNNING');
          writeFileSync(join(work, 'go'), '');
        })().catch((err: unknown) => {
          writeFileSync(join(work, 'go'), '');
          liveFailure = err;
        });
      }
    });
    let liveFailure: unknown;
    const { text, end } = await logs;
    if (liveFailure) throw liveFailure;
    assert.ok(liveChecked, `the log stream showed the script's output: ${text}`);
    assert.match(text, /bye/);
    assert.equal(end.status, 'finished');
    const job = await until(b, id, ended);
    assert.equal(job.exit_code, 0);
    const run = (await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).body.run;
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(run.data.params?.find((p) => p.key === 'epochs')?.value, '3');
    const stored = await b.api<string>('GET', `/api/v1/jobs/${id}/logs`);
    assert.match(stored.body, /logged\n[\s\S]*bye/, 'the log is kept with the run');
    assert.deepEqual(containersOf(id), []);
    const lineage = await b.api<{ image_digest?: string; command?: string }>('GET', `/api/v1/runs/${job.run_id}/lineage`);
    assert.match(JSON.stringify(lineage.body), /sha256:/, 'the image digest is recorded');
  });

  await t.test('cancel stops gracefully (SIGTERM reaches the program) and leaves no container', async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['sh', '-c', 'trap "echo got TERM; exit 143" TERM; echo started; while true; do sleep 0.1; done'] });
    const seen = followLogs(b, body.job_id);
    await until(b, body.job_id, (j) => j.status === 'running');
    await new Promise((r) => setTimeout(r, 500));
    const c = await b.api<Job>('POST', `/api/v1/jobs/${body.job_id}/cancel`);
    assert.equal(c.status, 200);
    const job = await until(b, body.job_id, ended, 20_000);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.reason, 'cancelled');
    assert.equal(job.exit_code, 143);
    assert.match((await seen).text, /got TERM/);
    assert.deepEqual(containersOf(body.job_id), []);
    const again = await b.api<{ error_code: string }>('POST', `/api/v1/jobs/${body.job_id}/cancel`);
    assert.equal(again.status, 400);
    assert.equal(again.body.error_code, 'INVALID_STATE');
  });

  await t.test('a job past its timeout is stopped and marked timed out', async () => {
    const t0 = Date.now();
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['sleep', '60'], timeout: '1s', stop_grace_s: 1 });
    const job = await until(b, body.job_id, ended, 20_000);
    assert.equal(job.status, 'failed');
    assert.equal(job.reason, 'timeout');
    assert.match(job.message ?? '', /Timed out after 1s/);
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(containersOf(body.job_id), []);
  });

  await t.test('a job over its memory limit is OOM-killed and says so', async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', {
      image: PY,
      command: [`${venv()}/bin/python`, '-c', 'b = b"x" * (400 * 2**20); print(len(b))'],
      mounts: pyMounts(),
      memory: '64m',
      cpus: 1,
    });
    const job = await until(b, body.job_id, ended, 60_000);
    assert.deepEqual([job.limits?.cpus?.how, job.limits?.cpus?.detail, job.limits?.memory?.how], ['docker', 'HostConfig.NanoCpus=1000000000', 'docker'], 'the job records the limits it was given');
    assert.equal(job.status, 'failed');
    assert.equal(job.reason, 'oom', JSON.stringify(job));
    assert.equal(job.exit_code, 137);
    assert.match(job.message ?? '', /Out of memory.*64 MiB/);
    assert.deepEqual(containersOf(body.job_id), []);
  });

  await t.test('a GPU request on a host without GPUs fails within a second with a clear message', async () => {
    const t0 = Date.now();
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['true'], gpus: 1 });
    const job = await until(b, body.job_id, ended, 10_000);
    const ms = Date.now() - t0;
    assert.equal(job.status, 'failed');
    assert.equal(job.reason, 'no_gpu');
    assert.match(job.message ?? '', /No GPU available.*nvidia/);
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.deepEqual(containersOf(body.job_id), []);
  });

  await t.test('an image that does not exist, a failing command and bad input end with clear errors', async () => {
    const missing = await b.api<Job>('POST', '/api/v1/jobs', { image: 'mlops-test/absent:0', command: ['true'] });
    const j1 = await until(b, missing.body.job_id, ended);
    assert.equal(j1.reason, 'launch_error');
    assert.match(j1.message ?? '', /Image 'mlops-test\/absent:0' does not exist/);
    const failing = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['sh', '-c', 'echo boom >&2; exit 7'] });
    const j2 = await until(b, failing.body.job_id, ended);
    assert.deepEqual([j2.status, j2.reason, j2.exit_code], ['failed', 'exit', 7]);
    const notFound = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['no-such-binary'] });
    const j3 = await until(b, notFound.body.job_id, ended);
    assert.equal(j3.status, 'failed');
    assert.match(j3.message ?? '', /no-such-binary/);
    const bad = await b.api<{ message: string }>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['true'], memory: 'lots' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /Invalid memory 'lots'/);
    const noData = await b.api<{ message: string }>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['true'], data: ['/nonexistent/train.csv'] });
    assert.equal(noData.status, 400);
    assert.match(noData.body.message, /Data file '\/nonexistent\/train.csv' does not exist/);
    for (const j of [j1, j2, j3]) assert.deepEqual(containersOf(j.job_id), []);
  });

  await t.test('retries run a failing job again, in the same run', async () => {
    const work = mkdtempSync(join(tmpdir(), 'mlops-job-retry-'));
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', {
      image: BUSYBOX,
      command: ['sh', '-c', 'if [ -f /w/once ]; then echo second; exit 0; fi; touch /w/once; echo first; exit 1'],
      mounts: [{ source: work, target: '/w' }],
      retries: 2,
    });
    const job = await until(b, body.job_id, ended);
    assert.deepEqual([job.status, job.attempt], ['finished', 2]);
    const log = (await b.api<string>('GET', `/api/v1/jobs/${body.job_id}/logs`)).body;
    assert.match(log, /first[\s\S]*attempt 1 failed[\s\S]*second/);
  });
});

void test('docker jobs survive a backend restart: reattached when the container lives, lost when it is gone', { timeout: 120_000 }, async (t) => {
  testImages();
  const home = tempHome(t);
  let b = await backend(home);
  const keep = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo tick $i; sleep 0.2; done; exit 4'] });
  const gone = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['sleep', '30'] });
  await until(b, keep.body.job_id, (j) => j.status === 'running');
  const goneJob = await until(b, gone.body.job_id, (j) => j.status === 'running' && !!j.handle);
  await b.close();
  execFileSync('docker', ['rm', '-f', goneJob.handle!]);
  assert.equal(containersOf(keep.body.job_id).length, 1, 'the container keeps running while the backend is down');
  b = await backend(home);
  t.after(() => b.close());
  const lost = await until(b, gone.body.job_id, ended, 10_000);
  assert.equal(lost.reason, 'lost');
  assert.match(lost.message ?? '', /Lost after a backend restart: its container is gone/);
  const kept = await until(b, keep.body.job_id, ended, 30_000);
  assert.deepEqual([kept.status, kept.exit_code], ['failed', 4], 'the exit code comes from the reattached container');
  const log = (await b.api<string>('GET', `/api/v1/jobs/${keep.body.job_id}/logs`)).body;
  assert.match(log, /reattached[\s\S]*tick 15/);
  assert.deepEqual(containersOf(keep.body.job_id), []);
});

void test('with no Docker daemon reachable, a Docker job fails at once and says where it looked', { timeout: 30_000 }, async (t) => {
  const old = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'unix:///tmp/mlops-no-docker.sock';
  t.after(() => (old === undefined ? delete process.env.DOCKER_HOST : (process.env.DOCKER_HOST = old)));
  const b = await backend(tempHome(t));
  t.after(() => b.close());
  const { body } = await b.api<Job>('POST', '/api/v1/jobs', { image: BUSYBOX, command: ['true'] });
  const job = await until(b, body.job_id, ended, 10_000);
  assert.deepEqual([job.status, job.reason], ['failed', 'launch_error']);
  assert.match(job.message ?? '', /Cannot reach the Docker daemon.*mlops-no-docker\.sock.*is dockerd running, or is DOCKER_HOST set right\?/);
});
