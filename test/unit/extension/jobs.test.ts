import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineRunView } from '../../../backend/src/api/v1/contract';
import { jobLabel, type JobItem } from '../../../extension/src/jobs/label';
import { JobsModel, type JobNode, type Ticker } from '../../../extension/src/jobs/model';
import { JobEndWatcher } from '../../../extension/src/jobs/watcher';
import { joinArgs, splitArgs } from '../../../extension/src/util/argv';

const job = (id: string, status: JobItem['status'], extra: Partial<JobItem> = {}): JobItem => ({ job_id: id, status, run_id: null, launcher: 'local', created_at: 0, ...extra });

/** A ticker driven by hand: `fire()` is one second passing. */
function manualTicker(): Ticker & { fire: () => void; live: () => boolean } {
  let fn: (() => void) | undefined;
  return {
    set: (f) => ((fn = f), 1),
    clear: () => (fn = undefined),
    fire: () => fn?.(),
    live: () => fn !== undefined,
  };
}

void test('a job is named by its script and experiment', () => {
  const spec = (command: string[], experiment = 'churn') => job('j', 'queued', { spec: { command, experiment } });
  assert.equal(jobLabel(spec(['/venv/bin/python', 'src/train.py', '--epochs', '3'])), 'train.py · churn');
  assert.equal(jobLabel(spec(['python', '-m', 'pkg.train'])), 'pkg.train · churn');
  assert.equal(jobLabel(spec(['/usr/bin/node', '-e', 'x'])), 'node · churn');
  assert.equal(jobLabel(job('abc', 'queued', { launcher: 'docker', spec: { command: [], image: 'trainer:1' } })), 'trainer:1');
});

void test('the elapsed time of a running job ticks once a second, only its row refreshes, and nothing ticks once it ends', async () => {
  let now = 10_000;
  const ticker = manualTicker();
  let jobs = [job('run', 'running', { started_at: 5_000, spec: { command: ['python', 'train.py'], experiment: 'churn' } }), job('old', 'finished', { started_at: 1_000, ended_at: 4_000 })];
  const m = new JobsModel(async () => ({ jobs: async () => jobs, pipelines: async () => [] }), () => now, ticker);
  const fired: (JobNode | undefined)[] = [];
  m.onDidChange((n) => fired.push(n));
  const nodes = await m.children(undefined);
  assert.deepEqual(nodes.map((n) => [m.view(n).label, m.view(n).description]), [['train.py · churn', 'running · 5s'], ['old', 'finished · 3s']]);
  assert.ok(ticker.live());
  now += 1000;
  ticker.fire();
  assert.deepEqual(fired, [nodes[0]], 'only the running row, the same object the tree holds');
  assert.equal(m.view(nodes[0]!).description, 'running · 6s');
  jobs = [job('run', 'failed', { started_at: 5_000, ended_at: 12_000, exit_code: 3, spec: { command: ['python', 'train.py'], experiment: 'churn' } })];
  m.invalidate(['jobs']);
  const after = await m.children(undefined);
  assert.equal(m.view(after[0]!).description, 'failed (exit 3) · 7s');
  assert.equal(ticker.live(), false, 'nothing runs, nothing ticks');
});

void test("a pipeline run lists its steps as children; a step that ran a job opens that job's log; its jobs are not listed twice", async () => {
  const step = (name: string, status: PipelineRunView['steps'][number]['status'], jobId: string | null) => ({ step: name, status, job_id: jobId, run_id: null, cache_key: null, outputs: null, output_dir: null, message: null, started_at: jobId ? 1_000 : null, ended_at: status === 'finished' ? 3_000 : null });
  const run: PipelineRunView = {
    pipeline_run_id: 'p1', name: 'iris', file: '/w/mlops.yaml', run_id: null, status: 'running', message: null, params: {}, created_at: 500, ended_at: null,
    steps: [step('validate', 'finished', null), step('train', 'running', 'jt'), step('register', 'pending', null)],
  };
  const m = new JobsModel(async () => ({ jobs: async () => [job('jt', 'running', { pipeline_run_id: 'p1' })], pipelines: async () => [run] }), () => 4_000, manualTicker());
  const [top, ...rest] = await m.children(undefined);
  assert.equal(rest.length, 0);
  assert.deepEqual([m.view(top!).label, m.view(top!).description, m.view(top!).collapsible], ['iris (pipeline)', 'running · 3s · 1/3 steps', 'expanded']);
  const steps = await m.children(top);
  assert.deepEqual(steps.map((s) => [m.view(s).label, m.view(s).description, m.view(s).command?.command]), [
    ['validate', 'finished', undefined],
    ['train', 'running · 3s', 'mlops.showJobLog'],
    ['register', 'pending', undefined],
  ]);
  assert.deepEqual(m.jobOf(steps[1]), { jobId: 'jt', label: 'iris › train', runId: null });
});

void test('job ends: only transitions seen in this session, and jobs that ran between two looks', () => {
  const w = new JobEndWatcher(100);
  assert.deepEqual(w.update([job('old', 'failed', { created_at: 50 }), job('a', 'running', { created_at: 120 })]), [], 'the first look learns');
  assert.deepEqual(w.update([job('old', 'failed'), job('a', 'running'), job('b', 'queued', { created_at: 130 })]), []);
  const ended = w.update([job('old', 'failed'), job('a', 'finished'), job('b', 'failed'), job('c', 'failed', { created_at: 140 })]);
  assert.deepEqual(ended.map((j) => j.job_id), ['a', 'b', 'c']);
  assert.deepEqual(w.update([job('a', 'finished'), job('b', 'failed'), job('c', 'failed')]), [], 'told once');
});

void test('arguments are split into an argv as a shell splits words, with nothing expanded, and read back the same', () => {
  assert.deepEqual(splitArgs(`--lr 0.1  --name "two words" --glob '*.csv' $HOME \`id\` a\\ b "q\\"x" ; rm -rf /`), ['--lr', '0.1', '--name', 'two words', '--glob', '*.csv', '$HOME', '`id`', 'a b', 'q"x', ';', 'rm', '-rf', '/']);
  assert.deepEqual(splitArgs(''), []);
  assert.deepEqual(splitArgs(`'' ""`), ['', '']);
  assert.throws(() => splitArgs('"open'), /Unterminated double quote/);
  assert.throws(() => splitArgs("'open"), /Unterminated single quote/);
  for (const argv of [['--name', 'two words', "it's", '$HOME', ''], ['plain', '-x=1', 'a,b/c.txt']]) assert.deepEqual(splitArgs(joinArgs(argv)), argv);
});
