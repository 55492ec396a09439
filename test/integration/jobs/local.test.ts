import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, ended, followLogs, tempHome, until, venv } from './helpers';

interface MlflowRun {
  run: { info: { status: string }; data: { params?: { key: string; value: string }[]; metrics?: { key: string; value: number }[] } };
}

/** A zombie (killed, not yet reaped by init) counts as gone. */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

void test('local jobs', { timeout: 300_000 }, async (t) => {
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const py = `${venv()}/bin/python`;

  await t.test('an mlflow script run as a local process logs into the job run while it runs', async () => {
    const work = mkdtempSync(join(tmpdir(), 'mlops-local-'));
    writeFileSync(
      join(work, 'train.py'),
      `import os, time, mlflow
job_run = os.environ["MLFLOW_RUN_ID"]
with mlflow.start_run() as run:
    assert run.info.run_id == job_run
    mlflow.log_param("depth", 4)
    mlflow.log_metric("acc", 0.75)
    print("logged", flush=True)
    for _ in range(1200):
        if os.path.exists("go"):
            break
        time.sleep(0.05)
`,
    );
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: [py, 'train.py'], cwd: work, experiment: 'local-e2e' });
    let live: Promise<void> | undefined;
    const logs = followLogs(b, body.job_id, (text) => {
      if (!live && text.includes('logged')) {
        live = (async () => {
          const run = (await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${body.run_id}`)).body.run;
          assert.equal(run.data.params?.find((p) => p.key === 'depth')?.value, '4');
          assert.equal(run.data.metrics?.find((m) => m.key === 'acc')?.value, 0.75);
          assert.equal((await b.api<Job>('GET', `/api/v1/jobs/${body.job_id}`)).body.status, 'running');
        })().finally(() => writeFileSync(join(work, 'go'), ''));
      }
    });
    const { end } = await logs;
    assert.ok(live, 'the script printed while it ran');
    await live;
    assert.equal(end.status, 'finished');
    const run = (await b.api<MlflowRun>('GET', `/api/2.0/mlflow/runs/get?run_id=${body.run_id}`)).body.run;
    assert.equal(run.info.status, 'FINISHED');
  });

  await t.test('cancel ends the whole process group', async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', {
      launcher: 'local',
      command: ['sh', '-c', 'sleep 60 & echo child $!; trap "echo got TERM; kill $!; exit 143" TERM; wait'],
      stop_grace_s: 2,
    });
    let childPid = 0;
    const logs = followLogs(b, body.job_id, (text) => {
      const m = /child (\d+)/.exec(text);
      if (m) childPid = Number(m[1]);
    });
    await until(b, body.job_id, (j) => j.status === 'running');
    while (!childPid) await new Promise((r) => setTimeout(r, 50));
    await b.api('POST', `/api/v1/jobs/${body.job_id}/cancel`);
    const job = await until(b, body.job_id, ended, 10_000);
    assert.deepEqual([job.status, job.reason, job.exit_code], ['cancelled', 'cancelled', 143]);
    assert.match((await logs).text, /got TERM/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(alive(childPid), false, 'the child it spawned is gone too');
  });

  await t.test('timeout and the memory watchdog end local jobs with the right reason', async () => {
    const slow = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['sleep', '60'], timeout: 1, stop_grace_s: 1 });
    // The watchdog is the fallback where the backend cannot make a memory cgroup (limits.test.ts covers cgroups).
    process.env.MLOPS_LOCAL_CGROUPS = 'off';
    const hog = await b.api<Job>('POST', '/api/v1/jobs', {
      launcher: 'local',
      command: [py, '-c', 'import time\nb = b"x" * (400 * 2**20)\ntime.sleep(30)'],
      memory: '100m',
    });
    await until(b, hog.body.job_id, (j) => j.status !== 'queued').finally(() => delete process.env.MLOPS_LOCAL_CGROUPS);
    const s = await until(b, slow.body.job_id, ended, 15_000);
    assert.deepEqual([s.status, s.reason], ['failed', 'timeout']);
    const h = await until(b, hog.body.job_id, ended, 30_000);
    assert.deepEqual([h.status, h.reason, h.exit_code], ['failed', 'oom', 137]);
    assert.match(h.message ?? '', /Out of memory: the job used \d+ MiB, over its 100 MiB limit/);
    assert.equal(h.limits?.memory?.how, 'watchdog');
  });

  await t.test('a missing command, a GPU request and a bad working folder fail with clear messages', async () => {
    const missing = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['no-such-command-xyz'] });
    const m = await until(b, missing.body.job_id, ended);
    assert.deepEqual([m.status, m.reason], ['failed', 'launch_error']);
    assert.match(m.message ?? '', /command not found: 'no-such-command-xyz'/);
    const t0 = Date.now();
    const gpu = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], gpus: 1 });
    const g = await until(b, gpu.body.job_id, ended);
    assert.deepEqual([g.status, g.reason], ['failed', 'no_gpu']);
    assert.match(g.message ?? '', /No GPU available/);
    assert.ok(Date.now() - t0 < 1000);
    const cwd = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], cwd: '/nonexistent/dir' });
    const c = await until(b, cwd.body.job_id, ended);
    assert.equal(c.reason, 'launch_error');
    assert.match(c.message ?? '', /working folder '\/nonexistent\/dir' does not exist/);
  });

  await t.test('the queue runs at most `concurrency` jobs at once, oldest first', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mlops-queue-'));
    const submitted = await Promise.all([0, 1, 2, 3].map(() => b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['sleep', '1.5'], cwd })));
    const ids = submitted.map((r) => r.body.job_id);
    let maxRunning = 0;
    for (;;) {
      const { body } = await b.api<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=50');
      const mine = body.jobs.filter((j) => ids.includes(j.job_id));
      maxRunning = Math.max(maxRunning, mine.filter((j) => j.status === 'running').length);
      if (mine.every(ended)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(maxRunning, 2);
    const jobs = await Promise.all(ids.map((id) => until(b, id, ended)));
    assert.ok(jobs.every((j) => j.status === 'finished'));
    const byStart = [...jobs].sort((x, y) => x.started_at! - y.started_at!);
    assert.ok(byStart[2]!.started_at! >= Math.min(byStart[0]!.ended_at!, byStart[1]!.ended_at!), 'the third waited for a slot');
  });
});

void test('a local job running when the backend stops is marked lost, never left running', { timeout: 60_000 }, async (t) => {
  const home = tempHome(t);
  let b = await backend(home);
  const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['sleep', '30'] });
  const running = await until(b, body.job_id, (j) => j.status === 'running' && !!j.handle);
  await b.close();
  b = await backend(home);
  t.after(() => b.close());
  const job = await until(b, body.job_id, ended);
  assert.deepEqual([job.status, job.reason], ['failed', 'lost']);
  assert.match(job.message ?? '', /local jobs end with/);
  assert.equal(alive(Number(running.handle!.split(':')[0])), false);
});
