import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PipelineRun } from '../../../backend/src/services/pipelines/repository';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, containersOf, tempHome, testImages, type Backend } from './helpers';

const cliPath = join(resolve(import.meta.dirname, '../../..'), 'dist/backend/cli.mjs');

async function start(b: Backend, yaml: string, dir = mkdtempSync(join(tmpdir(), 'mlops-par-'))): Promise<PipelineRun> {
  writeFileSync(join(dir, 'mlops.yaml'), yaml);
  const r = await b.api<PipelineRun>('POST', '/api/v1/pipelines/runs', { file: join(dir, 'mlops.yaml') });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function until(b: Backend, id: string, pred: (r: PipelineRun) => boolean, ms = 60_000): Promise<PipelineRun> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await b.api<PipelineRun>('GET', `/api/v1/pipelines/runs/${id}`);
    if (pred(body)) return body;
    if (Date.now() > end) throw new Error(`timed out; pipeline run is ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const done = (r: PipelineRun) => r.status !== 'running';
const statuses = (r: PipelineRun) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));
const jobsOf = async (b: Backend, r: PipelineRun) => {
  const all = (await b.api<{ jobs: Job[] }>('GET', '/api/v1/jobs?limit=500')).body.jobs;
  return Object.fromEntries(r.steps.filter((s) => s.job_id).map((s) => [s.step, all.find((j) => j.job_id === s.job_id)!]));
};
/** Seconds two jobs ran at the same time (their running intervals as the backend recorded them). */
const overlap = (x: Job, y: Job) => (Math.min(x.ended_at!, y.ended_at!) - Math.max(x.started_at!, y.started_at!)) / 1000;

/** Each step records when its process began and ended (from inside it) and sleeps 1.5 s. */
const STAMP = `"date +%s%N > $MLOPS_OUTPUT_DIR/begin; sleep 1.5; date +%s%N > $MLOPS_OUTPUT_DIR/end"`;
const stamps = (r: PipelineRun, step: string) => ['begin', 'end'].map((f) => Number(readFileSync(join(r.steps.find((s) => s.step === step)!.output_dir!, f), 'utf8')) / 1e6);

void test('pipelines: parallel steps, fail-fast, and cancel', { timeout: 240_000 }, async (t) => {
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());

  await t.test('independent steps run at the same time; a step that needs both waits for both', async () => {
    const r = await until(b, (await start(b, `steps:\n  a: { command: ${STAMP}, cache: false }\n  b: { command: ${STAMP}, cache: false }\n  c: { needs: [a, b], command: "date +%s%N > $MLOPS_OUTPUT_DIR/begin; date +%s%N > $MLOPS_OUTPUT_DIR/end", cache: false }\n`)).pipeline_run_id, done);
    assert.equal(r.status, 'finished', JSON.stringify(r.steps));
    const [a0, a1] = stamps(r, 'a');
    const [b0, b1] = stamps(r, 'b');
    const [c0] = stamps(r, 'c');
    assert.ok(a0! < b1! && b0! < a1!, `a ran ${a0}-${a1}, b ran ${b0}-${b1}: they overlap`);
    assert.ok(Math.min(a1!, b1!) - Math.max(a0!, b0!) > 1000, 'by most of their 1.5 s');
    assert.ok(c0! >= Math.max(a1!, b1!), 'c began after both ended');
    const jobs = await jobsOf(b, r);
    assert.ok(overlap(jobs.a!, jobs.b!) > 1, 'the job records overlap too');
  });

  await t.test('max_parallel: 1 runs them one after the other', async () => {
    const r = await until(b, (await start(b, `max_parallel: 1\nsteps:\n  a: { command: ${STAMP}, cache: false }\n  b: { command: ${STAMP}, cache: false }\n`)).pipeline_run_id, done);
    assert.equal(r.status, 'finished');
    const [a0, a1] = stamps(r, 'a');
    const [b0, b1] = stamps(r, 'b');
    assert.ok(b0! >= a1! || a0! >= b1!, `a ${a0}-${a1} and b ${b0}-${b1} did not overlap`);
  });

  await t.test('a failure: running siblings finish, nothing new starts, dependants are skipped (fail_fast: false lets independent steps go on)', async () => {
    const yaml = (failFast: boolean) => `max_parallel: 2\nfail_fast: ${failFast}\nsteps:\n  bad: { command: "exit 4", cache: false }\n  slow: { command: "sleep 1.5", cache: false }\n  later: { command: "true", cache: false }\n  after_bad: { needs: [bad], command: "true" }\n`;
    const r = await until(b, (await start(b, yaml(true))).pipeline_run_id, done);
    assert.equal(r.status, 'failed');
    assert.equal(r.message, "step 'bad' failed");
    assert.deepEqual(statuses(r), { bad: 'failed', slow: 'finished', later: 'skipped', after_bad: 'skipped' });
    assert.match(r.steps.find((s) => s.step === 'later')!.message!, /not run: step 'bad' failed/);
    const g = await until(b, (await start(b, yaml(false))).pipeline_run_id, done);
    assert.equal(g.status, 'failed');
    assert.deepEqual(statuses(g), { bad: 'failed', slow: 'finished', later: 'finished', after_bad: 'skipped' });
    assert.match(g.steps.find((s) => s.step === 'after_bad')!.message!, /it needs 'bad', which failed/);
  });

  await t.test("cancelling one step's job fails the pipeline and skips what needs the step", async () => {
    const run = await start(b, `steps:\n  x: { command: "exec sleep 60", cache: false }\n  y: { needs: [x], command: "true" }\n`);
    const running = await until(b, run.pipeline_run_id, (r) => r.steps[0]!.status === 'running' && !!r.steps[0]!.job_id);
    const jobId = running.steps[0]!.job_id!;
    for (let i = 0; i < 100 && (await b.api<Job>('GET', `/api/v1/jobs/${jobId}`)).body.status !== 'running'; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal((await b.api('POST', `/api/v1/jobs/${jobId}/cancel`)).status, 200);
    const r = await until(b, run.pipeline_run_id, done, 30_000);
    assert.deepEqual([r.status, r.message, statuses(r)], ['failed', "step 'x' was cancelled", { x: 'cancelled', y: 'skipped' }]);
    assert.match(r.steps[0]!.message!, new RegExp(`^cancelled: job ${jobId} was cancelled`));
    assert.match(r.steps[1]!.message!, /not run: step 'x' was cancelled/);
  });

  await t.test('cancel: running steps are stopped, queued and pending ones never start, the run ends cancelled', async () => {
    // The job queue runs 2 jobs at once: of a, b and d two run and one waits in the queue; c waits for a.
    const dir = mkdtempSync(join(tmpdir(), 'mlops-cancel-'));
    const long = (n: string) => `{ command: "echo $$ > ${n}.pid; exec sleep 60", cache: false }`;
    const run = await start(b, `steps:\n  a: ${long('a')}\n  b: ${long('b')}\n  d: ${long('d')}\n  c: { needs: [a], command: "touch c-ran" }\n`, dir);
    const three = ['a', 'b', 'd'];
    let before: Record<string, Job> = {};
    for (let i = 0; i < 200; i++) {
      const r = await until(b, run.pipeline_run_id, () => true);
      before = await jobsOf(b, r);
      const running = three.filter((s) => before[s]?.status === 'running' && existsSync(join(dir, `${s}.pid`)));
      if (running.length === 2 && three.some((s) => before[s]?.status === 'queued')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const queued = three.find((s) => before[s]?.status === 'queued');
    assert.equal(queued, 'd', `steps are submitted in the file's order, so d's job waits: ${JSON.stringify(Object.values(before).map((j) => j.status))}`);
    const cancel = await b.api<PipelineRun>('POST', `/api/v1/pipelines/runs/${run.pipeline_run_id.slice(0, 8)}/cancel`, { reason: 'wrong data' });
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    const r = await until(b, run.pipeline_run_id, done, 30_000);
    assert.equal(r.status, 'cancelled');
    assert.equal(r.message, 'cancelled: wrong data');
    assert.deepEqual(statuses(r), { a: 'cancelled', b: 'cancelled', d: 'cancelled', c: 'cancelled' });
    assert.match(r.steps.find((s) => s.step === 'c')!.message!, /not started: pipeline cancelled \(wrong data\)/);
    assert.match(r.steps.find((s) => s.step === queued)!.message!, /not started: pipeline cancelled/);
    const jobs = await jobsOf(b, r);
    assert.ok(three.every((s) => jobs[s]!.status === 'cancelled'));
    assert.equal(jobs[queued]!.started_at, null, 'the queued job never started');
    assert.equal(existsSync(join(dir, `${queued}.pid`)), false);
    for (const s of three.filter((x) => x !== queued)) {
      assert.match(r.steps.find((x) => x.step === s)!.message!, /^cancelled: pipeline cancelled \(wrong data\)/);
      const pid = Number(readFileSync(join(dir, `${s}.pid`), 'utf8'));
      assert.throws(() => process.kill(pid, 0), `step ${s}'s process is gone`);
    }
    assert.equal(existsSync(join(dir, 'c-ran')), false);
    const parent = await b.api<{ run: { info: { status: string } } }>('GET', `/api/2.0/mlflow/runs/get?run_id=${r.run_id}`);
    assert.equal(parent.body.run.info.status, 'KILLED');
    const audit = (await b.api<{ events: { action: string; object_id: string; reason: string }[] }>('GET', '/api/v1/audit?object_type=pipeline_run')).body.events;
    assert.ok(audit.some((e) => e.action === 'pipeline.cancel' && e.object_id === r.pipeline_run_id && e.reason === 'wrong data'));
    const jobAudit = (await b.api<{ events: { action: string; object_id: string; reason: string }[] }>('GET', '/api/v1/audit?object_type=job')).body.events;
    for (const s of three) assert.ok(jobAudit.some((e) => e.action === 'job.cancel' && e.object_id === jobs[s]!.job_id && /pipeline run [0-9a-f]+ cancelled: wrong data/.test(e.reason)), `job.cancel for ${s}`);

    const again = await b.api<{ error_code: string; message: string }>('POST', `/api/v1/pipelines/runs/${r.pipeline_run_id}/cancel`, {});
    assert.equal(again.status, 400);
    assert.match(again.body.message, /already ended \(cancelled: wrong data\)/);
    const unknown = await b.api<{ message: string }>('POST', '/api/v1/pipelines/runs/abcdef0123456789/cancel', {});
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.message, /Pipeline run 'abcdef0123456789' not found/);
    const junk = await b.api<{ message: string }>('POST', '/api/v1/pipelines/runs/not-an-id/cancel', {});
    assert.equal(junk.status, 404);
  });

  await t.test('mlops pipeline cancel, through the CLI', async () => {
    const run = await start(b, `steps:\n  long: { command: "exec sleep 60", cache: false }\n`);
    await until(b, run.pipeline_run_id, (r) => r.steps[0]!.status === 'running');
    const cli = (args: string[]) =>
      new Promise<{ code: number; err: string }>((ok) => {
        const p = spawn(process.execPath, [cliPath, '--home', home, ...args]);
        let err = '';
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('close', (code) => ok({ code: code ?? -1, err }));
      });
    const c = await cli(['pipeline', 'cancel', run.pipeline_run_id, '--reason', 'from the CLI']);
    assert.equal(c.code, 0, c.err);
    assert.match(c.err, /pipeline run [0-9a-f]+ cancelled: from the CLI/);
    const dir = mkdtempSync(join(tmpdir(), 'mlops-ctrlc-'));
    writeFileSync(join(dir, 'mlops.yaml'), `steps:\n  long: { command: "exec sleep 60", cache: false }\n`);
    const p = spawn(process.execPath, [cliPath, '--home', home, 'pipeline', 'run', join(dir, 'mlops.yaml')]);
    let err = '';
    p.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number>((ok) => p.on('close', (code) => ok(code ?? -1)));
    for (let i = 0; i < 300 && !/… long: running/.test(err); i++) await new Promise((res) => setTimeout(res, 100));
    p.kill('SIGINT');
    assert.equal(await exited, 1, err);
    assert.match(err, /cancelling pipeline run [0-9a-f]+/);
    assert.match(err, /pipeline .* was cancelled: interrupted \(Ctrl-C\) in mlops pipeline run/);
    const again = await cli(['pipeline', 'cancel', run.pipeline_run_id]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already ended/);
    const unknown = await cli(['pipeline', 'cancel', 'ffffffff']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /Pipeline run 'ffffffff' not found/);
  });
});

void test('pipelines in Docker: two steps overlap; cancel leaves no container', { timeout: 180_000 }, async (t) => {
  testImages();
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const r = await until(b, (await start(b, `image: mlops-test/busybox:1\nsteps:\n  a: { command: "sleep 2", cache: false }\n  b: { command: "sleep 2", cache: false }\n`)).pipeline_run_id, done);
  assert.equal(r.status, 'finished', JSON.stringify(r.steps));
  const jobs = await jobsOf(b, r);
  assert.ok(overlap(jobs.a!, jobs.b!) > 1, `containers ran ${JSON.stringify([jobs.a, jobs.b].map((j) => [j!.started_at, j!.ended_at]))}: they overlap`);

  const long = await start(b, `image: mlops-test/busybox:1\nsteps:\n  a: { command: "sleep 60", cache: false }\n  b: { needs: [a], command: "true" }\n`);
  const running = await until(b, long.pipeline_run_id, (x) => x.steps[0]!.status === 'running');
  const jobId = running.steps[0]!.job_id!;
  for (let i = 0; i < 100 && containersOf(jobId).length === 0; i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(containersOf(jobId).length, 1, 'the step container is up');
  await b.api('POST', `/api/v1/pipelines/runs/${long.pipeline_run_id}/cancel`, {});
  const c = await until(b, long.pipeline_run_id, done, 30_000);
  assert.deepEqual([c.status, statuses(c)], ['cancelled', { a: 'cancelled', b: 'cancelled' }]);
  assert.deepEqual(containersOf(jobId), [], 'no container left behind');
});
