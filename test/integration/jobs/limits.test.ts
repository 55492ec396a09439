import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, ended, tempHome, until, venv } from './helpers';

const root = resolve(import.meta.dirname, '../../..');
const cliPath = join(root, 'dist/backend/cli.mjs');

/** This machine (root, cgroup v1 cpu and memory mounted read-write) lets the backend make job cgroups. */
const cgroupsHere = process.getuid?.() === 0 && existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us') && existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');

/** Burns CPU for 2 s of wall time, then reports what it got and where it ran. */
const BURN = `import json, os, resource, time
groups = [l.split(":", 2) for l in open("/proc/self/cgroup").read().splitlines()]
cpu = next((p for _, c, p in groups if "cpu" in c.split(",")), None)
quota = None
for f in ("/sys/fs/cgroup/cpu%s/cpu.cfs_quota_us" % cpu, "/sys/fs/cgroup%s/cpu.max" % next((p for h, _, p in groups if h == "0"), "")):
    if os.path.exists(f):
        quota = open(f).read().strip()
        break
t = time.time()
while time.time() - t < 2.0:
    pass
r = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({"cgroup": cpu, "quota": quota, "cpu_s": r.ru_utime + r.ru_stime, "wall_s": time.time() - t, "affinity": sorted(os.sched_getaffinity(0))}), flush=True)
`;

interface Burn {
  cgroup: string | null;
  quota: string | null;
  cpu_s: number;
  wall_s: number;
  affinity: number[];
}

async function result(b: Awaited<ReturnType<typeof backend>>, id: string): Promise<Burn> {
  const log = (await b.api<string>('GET', `/api/v1/jobs/${id}/logs`)).body;
  const line = /RESULT (.*)/.exec(log)?.[1];
  assert.ok(line, `the job printed its result:\n${log}`);
  return JSON.parse(line) as Burn;
}

const leftovers = (ids: string[]): string[] =>
  ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].flatMap((d) => {
    try {
      return readdirSync(d).filter((n) => ids.some((id) => n === `mlops-job-${id}`));
    } catch {
      return [];
    }
  });

void test('CPU and memory limits of local jobs are applied and recorded, never ignored', { timeout: 180_000 }, async (t) => {
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const py = `${venv()}/bin/python`;
  const ids: string[] = [];
  t.after(() => delete process.env.MLOPS_LOCAL_CGROUPS);

  await t.test('--cpus 0.5 through a cgroup: the job gets half a CPU', { skip: !cgroupsHere && 'no writable cgroup v1 here' }, async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: [py, '-c', BURN], cpus: 0.5, memory: '256m' });
    ids.push(body.job_id);
    const job = await until(b, body.job_id, ended, 30_000);
    assert.equal(job.status, 'finished', job.message ?? '');
    assert.equal(job.limits?.cpus?.how, 'cgroup-v1');
    assert.equal(job.limits?.memory?.how, 'cgroup-v1');
    const r = await result(b, body.job_id);
    assert.equal(r.cgroup, `/mlops-job-${body.job_id}`, 'the job ran inside its own cgroup');
    assert.equal(r.quota, '50000');
    assert.ok(r.cpu_s < 0.7 * r.wall_s, `CPU time ${r.cpu_s.toFixed(2)} s in ${r.wall_s.toFixed(2)} s of busy-looping: throttled to about half`);
  });

  await t.test('the kernel enforces --memory in the job cgroup and the job ends oom', { skip: !cgroupsHere && 'no writable cgroup v1 here' }, async () => {
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: [py, '-c', 'import time\nb = b"x" * (400 * 2**20)\ntime.sleep(30)'], memory: '80m' });
    ids.push(body.job_id);
    const job = await until(b, body.job_id, ended, 30_000);
    assert.deepEqual([job.status, job.reason, job.exit_code], ['failed', 'oom', 137]);
    assert.match(job.message ?? '', /the kernel killed the job at its 80 MiB cgroup memory limit/);
  });

  await t.test('a process that left the job (setsid) still goes with it: the cgroup finds it', { skip: !cgroupsHere && 'no writable cgroup v1 here' }, async () => {
    const dir = tempHome(t);
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['sh', '-c', 'setsid sh -c \'echo $$ > escaped.pid; exec sleep 60\' & sleep 0.5'], cwd: dir, cpus: 1 });
    ids.push(body.job_id);
    const job = await until(b, body.job_id, ended, 30_000);
    assert.equal(job.status, 'finished', job.message ?? '');
    const pid = Number(readFileSync(join(dir, 'escaped.pid'), 'utf8'));
    assert.ok(pid > 1);
    let gone = false;
    for (let i = 0; i < 30 && !gone; i++) {
      gone = !existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
      if (!gone) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(gone, 'the escaped process was killed with its job');
    assert.deepEqual(leftovers([body.job_id]), []);
  });

  await t.test('a job ends when its main process does, even if an escaped process holds its output open', async () => {
    const dir = tempHome(t);
    process.env.MLOPS_LOCAL_CGROUPS = 'off';
    const t0 = Date.now();
    const { body } = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['sh', '-c', 'setsid sh -c \'echo $$ > escaped.pid; exec sleep 60\' & sleep 0.3; echo main-done'], cwd: dir, cpus: 1 });
    const job = await until(b, body.job_id, ended, 15_000);
    delete process.env.MLOPS_LOCAL_CGROUPS;
    const pid = Number(readFileSync(join(dir, 'escaped.pid'), 'utf8'));
    t.after(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    });
    assert.equal(job.status, 'finished');
    assert.ok(Date.now() - t0 < 6000, `ended ${Date.now() - t0} ms after submission, not when the escaped sleep ends`);
    assert.match((await b.api<string>('GET', `/api/v1/jobs/${body.job_id}/logs`)).body, /main-done/);
  });

  await t.test('without cgroups, whole CPUs are pinned (concurrent jobs on different CPUs) and fractions are refused', async () => {
    process.env.MLOPS_LOCAL_CGROUPS = 'off';
    const two = await Promise.all([0, 1].map(() => b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: [py, '-c', BURN], cpus: 1 })));
    ids.push(...two.map((r) => r.body.job_id));
    const jobs = await Promise.all(two.map((r) => until(b, r.body.job_id, ended, 30_000)));
    const seen = await Promise.all(jobs.map((j) => result(b, j.job_id)));
    for (const [i, j] of jobs.entries()) {
      assert.equal(j.status, 'finished', j.message ?? '');
      assert.equal(j.limits?.cpus?.how, 'cpu-affinity');
      assert.equal(seen[i]!.affinity.length, 1, 'os.sched_getaffinity(0) in the job is one CPU');
      assert.match(j.limits!.cpus!.detail, new RegExp(`pinned to CPU\\(s\\) ${seen[i]!.affinity[0]} with taskset`));
    }
    if (availableParallelism() > 1) assert.notDeepEqual(seen[0]!.affinity, seen[1]!.affinity, 'two jobs at once are pinned to different CPUs');
    const half = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], cpus: 0.5 });
    const refused = await until(b, half.body.job_id, ended);
    assert.deepEqual([refused.status, refused.reason], ['failed', 'launch_error']);
    assert.match(refused.message ?? '', /Cannot limit a local job to 0\.5 CPUs: a fractional limit needs a cpu cgroup, and cgroups are turned off/);
    const mem = await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], memory: '64m' });
    const m = await until(b, mem.body.job_id, ended);
    assert.equal(m.limits?.memory?.how, 'watchdog');
    delete process.env.MLOPS_LOCAL_CGROUPS;
  });

  await t.test('bad CPU counts are refused before anything runs; no job cgroup is left behind', async () => {
    const many = await b.api<{ message: string }>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], cpus: availableParallelism() + 1 });
    assert.equal(many.status, 400);
    assert.match(many.body.message, new RegExp(`only ${availableParallelism()} CPU\\(s\\) available`));
    const zero = await b.api<{ message: string }>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], cpus: 0 });
    assert.equal(zero.status, 400);
    assert.match(zero.body.message, /Invalid cpus '0'/);
    assert.deepEqual(leftovers(ids), []);
  });

  await t.test('the CLI: --cpus 0 is a usage error, more CPUs than exist exit 1, a limited job runs', () => {
    if (!existsSync(cliPath)) execFileSync(process.execPath, [join(root, '.ci/build.mjs')], { cwd: root });
    const cli = (args: string[]) => spawnSync(process.execPath, [cliPath, '--home', tempHome(t), ...args], { encoding: 'utf8', timeout: 60_000 });
    const zero = cli(['train', '--local', '--cpus', '0', '--', 'true']);
    assert.equal(zero.status, 2);
    assert.match(zero.stderr, /--cpus expects a positive number of CPUs such as 2 or 0\.5, got '0'/);
    const many = cli(['train', '--local', '--cpus', String(availableParallelism() + 1), '--', 'true']);
    assert.equal(many.status, 1);
    assert.match(many.stderr, /this machine has only \d+ CPU\(s\) available/);
    const ok = cli(['train', '--local', '--cpus', '1', '--', py, '-c', 'import os; print("cpus", len(os.sched_getaffinity(0)))']);
    assert.equal(ok.status, 0, ok.stderr);
  });
});
