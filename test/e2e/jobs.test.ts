import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { OUT, openWorkbench, webview, type Workbench, runningBackend } from './harness';
import { call, type Api } from './seed';
import { answerDialog, answerInput, choose, contextMenu, expand, launchLocally, notification, quickPlaceholder, quickRowTexts, resetUi, runCommand, showPanes, waitFor } from './ui';

/** The Jobs view: live logs, end notifications, names, elapsed time, pipeline steps, the cancel dialog. */
const workspace = join(OUT, 'e2e-jobs-workspace');
const home = join(workspace, '.mlops');
const venv = process.env.MLOPS_TEST_VENV;
const python = venv ? join(venv, 'bin/python') : 'python3';
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);

/** Prints three epochs, then waits until the test creates `--release`, then prints its last line and exits `--exit`. */
const TRAIN = `import argparse, os, sys, time
p = argparse.ArgumentParser()
p.add_argument("--release", default="")
p.add_argument("--exit", type=int, default=0)
p.add_argument("--note", default="")
a = p.parse_args()
if a.note:
    print(f"note={a.note}", flush=True)
for i in range(1, 4):
    print(f"epoch {i} loss {1 / i:.3f}", flush=True)
    time.sleep(0.2)
while a.release and not os.path.exists(a.release):
    time.sleep(0.1)
if a.exit:
    print("ValueError: the label column is empty", file=sys.stderr, flush=True)
else:
    print("training done", flush=True)
sys.exit(a.exit)
`;

interface JobView {
  job_id: string;
  status: string;
  run_id: string | null;
  spec: { command: string[]; cwd?: string; experiment: string };
}

async function launch(api: Api, script: string, args: string[], experiment = 'churn'): Promise<JobView> {
  return call<JobView>(api, 'POST', '/api/v1/jobs', { launcher: 'local', command: [python, script, ...args], cwd: workspace, experiment });
}
const status = async (api: Api, id: string) => (await call<JobView>(api, 'GET', `/api/v1/jobs/${id}`)).status;

/** The text of the output panel (the channel it shows); Monaco renders spaces as no-break spaces. */
const outputText = async () => (await wb.page.locator('.part.panel .view-lines').innerText().catch(() => '')).replace(/\u00a0/g, ' ');

/** The name of the channel the output panel shows (its channel picker's selected option). */
const shownChannel = () =>
  wb.page
    .locator('.part.panel select.monaco-select-box')
    .first()
    .evaluate((s: HTMLSelectElement) => s.options[s.selectedIndex]?.text ?? '')
    .catch(() => '');

const T = { timeout: 240_000 };

void describe('Jobs view in code-server', { timeout: 1_200_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'train.py'), TRAIN);
    writeFileSync(join(workspace, 'fail.py'), TRAIN);
    writeFileSync(join(workspace, 'mlops.yaml'), `name: nightly\nexperiment: churn\nsteps:\n  prep:\n    command: [${python}, train.py]\n  fit:\n    needs: [prep]\n    command: [${python}, train.py, --release, ${join(workspace, 'release-pipeline')}]\n`);
    wb = await openWorkbench('jobs', workspace, { 'mlopsStudio.pythonPath': python });
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await backend();
    await resetUi(wb.page);
  });
  afterEach(async () => {
    await wb.screenshot('end');
  });

  void it('a running job is named by script and experiment, its time ticks, and clicking it streams its log live until it ends', T, async () => {
    const { page } = wb;
    const api = await backend();
    const release = join(workspace, 'release-live');
    const job = await launch(api, 'train.py', ['--release', release]);
    await showPanes(page, 'Jobs');
    const row = page.getByRole('treeitem', { name: /^train\.py · churn running/ }).first();
    await row.waitFor({ timeout: 60_000 });
    // The elapsed time ticks with no backend event (nothing else changes while the job waits for its release).
    const seconds = async () => Number(/running · (\d+)s/.exec((await row.getAttribute('aria-label')) ?? '')?.[1] ?? NaN);
    const first = await waitFor('an elapsed time on the row', async () => ((n) => (Number.isFinite(n) ? n : undefined))(await seconds()));
    await waitFor('the elapsed time to tick', async () => (await seconds()) >= first + 2, 30_000);
    await row.click();
    await waitFor('the log in the output channel', async () => /epoch 1[\s\S]*epoch 3 loss 0\.333/.test(await outputText()), 60_000);
    assert.match(await shownChannel(), /^MLOps Job: train\.py · churn \([0-9a-f]{8}\)$/);
    // Live: the job cannot end before the release file exists.
    assert.equal(await status(api, job.job_id), 'running');
    assert.ok(!(await outputText()).includes('training done'));
    await wb.screenshot('live-log');
    writeFileSync(release, '');
    await waitFor('the last line and the end in the channel', async () => /training done[\s\S]*── job finished \(exit 0\) ──/.test(await outputText()), 60_000);
    assert.equal(await status(api, job.job_id), 'finished');
    const note = await notification(page, /job train\.py · churn finished/, 60_000);
    assert.ok(await note.locator('.monaco-button', { hasText: 'Show Log' }).count(), 'the notification offers Show Log');
    await page.getByRole('treeitem', { name: /^train\.py · churn finished · \d+s/ }).first().waitFor({ timeout: 60_000 });
    await wb.screenshot('finished');
    // Open Run opens the job's run page, with the job's log on it.
    const runId = (await call<JobView>(api, 'GET', `/api/v1/jobs/${job.job_id}`)).run_id;
    assert.ok(runId);
    await note.locator('.monaco-button', { hasText: 'Open Run' }).click();
    await waitFor("the run page's job log", async () => /training done/.test(await webview(page).locator('#job-log').innerText({ timeout: 1000 }).catch(() => '')), 60_000);
    await wb.screenshot('open-run');
  });

  void it('a failing job raises a notification with Show Log, which opens its log', T, async () => {
    const { page } = wb;
    const api = await backend();
    const job = await launch(api, 'fail.py', ['--exit', '3']);
    await waitFor('the job to fail', async () => (await status(api, job.job_id)) === 'failed', 60_000);
    const note = await notification(page, /job fail\.py · churn failed \(exit 3\)/, 60_000);
    await wb.screenshot('failed-notification');
    assert.ok(await note.locator('.monaco-button', { hasText: 'Open Run' }).count());
    await note.locator('.monaco-button', { hasText: 'Show Log' }).click();
    await waitFor('the failed job log', async () => /ValueError: the label column is empty[\s\S]*── job failed \(exit 3\) ──/.test(await outputText()), 60_000);
    await showPanes(page, 'Jobs');
    await page.getByRole('treeitem', { name: /^fail\.py · churn failed \(exit 3\)/ }).first().waitFor({ timeout: 60_000 });
    await wb.screenshot('failed-log');
  });

  void it('the context menu shows a log and cancels; the cancel dialog says Cancel Job / Keep Running', T, async () => {
    const { page } = wb;
    const api = await backend();
    const done = await launch(api, 'train.py', [], 'menu');
    await waitFor('the job to finish', async () => (await status(api, done.job_id)) === 'finished', 60_000);
    const job = await launch(api, 'train.py', ['--release', join(workspace, 'never')], 'cancel-me');
    await showPanes(page, 'Jobs');
    const finished = page.getByRole('treeitem', { name: /^train\.py · menu finished/ }).first();
    await finished.waitFor({ timeout: 60_000 });
    await contextMenu(page, finished, 'Show Job Log', async () => /MLOps Job: train\.py · menu/.test(await shownChannel()));
    await waitFor('the log from the context menu', async () => /training done/.test(await outputText()), 60_000);
    const row = page.getByRole('treeitem', { name: /^train\.py · cancel-me running/ }).first();
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    const box = page.locator('.monaco-dialog-box');
    // A running row re-renders every second while its time ticks: the menu is retried until the dialog shows.
    await contextMenu(page, row, 'Cancel Job', () => box.isVisible());
    assert.deepEqual((await box.locator('.monaco-button').allInnerTexts()).map((t) => t.trim()).sort(), ['Cancel Job', 'Keep Running']);
    await wb.screenshot('cancel-dialog');
    const text = await answerDialog(page, 'Keep Running');
    assert.match(text, /Cancel job train\.py · cancel-me\?/);
    await box.waitFor({ state: 'hidden' });
    assert.equal(await status(api, job.job_id), 'running', 'Keep Running keeps it running');
    await contextMenu(page, row, 'Cancel Job', () => box.isVisible());
    await answerDialog(page, 'Cancel Job');
    await waitFor('the job cancelled', async () => (await status(api, job.job_id)) === 'cancelled', 60_000);
    await page.getByRole('treeitem', { name: /^train\.py · cancel-me cancelled/ }).first().waitFor({ timeout: 60_000 });
  });

  void it("a pipeline run shows its steps as children, each opening its job's log", T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/api/v1/pipelines/runs', { file: join(workspace, 'mlops.yaml') });
    await showPanes(page, 'Jobs');
    await page.getByRole('treeitem', { name: /^nightly \(pipeline\) running/ }).first().waitFor({ timeout: 60_000 });
    await expand(page, /^nightly \(pipeline\)/);
    const fit = page.getByRole('treeitem', { name: /^fit running · \d+s/ }).first();
    await fit.waitFor({ timeout: 90_000 });
    await page.getByRole('treeitem', { name: /^prep finished/ }).first().waitFor({ timeout: 30_000 });
    await wb.screenshot('pipeline');
    await fit.click();
    await waitFor("the step's log", async () => /epoch 3 loss 0\.333/.test(await outputText()), 60_000);
    writeFileSync(join(workspace, 'release-pipeline'), '');
    await page.getByRole('treeitem', { name: /^nightly \(pipeline\) finished · \d+s · 2\/2 steps/ }).first().waitFor({ timeout: 90_000 });
  });

  void it('Launch Training asks for interpreter, experiment, folder and arguments, sends an argv, and offers the last choices next time', T, async () => {
    const { page } = wb;
    const api = await backend();
    const release = join(workspace, 'release-launch');
    const rowTexts = () => quickRowTexts(page);
    const jobsOf = async () => (await call<{ jobs: JobView[] }>(api, 'GET', '/api/v1/jobs')).jobs.filter((j) => j.spec.experiment === 'launched');

    // The setting is offered; pick another interpreter, one found on the machine, so the next default can only come from memory.
    const offered = await launchLocally(page, /^train\.py$/);
    assert.ok(offered[0]!.startsWith(`${python} mlopsStudio.pythonPath`), offered.join('\n'));
    const other = offered.map((t) => t.split(' ')[0]!).find((p, i) => i > 0 && p.startsWith('/') && p !== python && offered[i]!.includes('found on this machine') && /python3$/.test(p));
    assert.ok(other, `another interpreter is offered:\n${offered.join('\n')}`);
    await wb.screenshot('launch-interpreter');
    await choose(page, new RegExp(`^${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    await quickPlaceholder(page, /Experiment to log/);
    await choose(page, /New experiment/);
    await answerInput(page, /New experiment name/, 'launched');
    await quickPlaceholder(page, /Working folder/);
    await choose(page, /\(workspace folder\)$/);
    await answerInput(page, /Arguments for train\.py/, `--release ${release} --note "two words; $HOME"`);
    const [first] = await waitFor('the launched job', async () => ((j) => (j.length === 1 ? j : undefined))(await jobsOf()), 60_000);
    assert.deepEqual(first!.spec.command, [other, 'train.py', '--release', release, '--note', 'two words; $HOME'], 'an argv, nothing expanded');
    assert.equal(first!.spec.cwd, workspace);
    await showPanes(page, 'Jobs');
    await page.getByRole('treeitem', { name: /^train\.py · launched running/ }).first().waitFor({ timeout: 60_000 });

    // Again: every question defaults to the last answer (the first row, or the input's value); Enter takes it.
    await resetUi(page);
    await runCommand(page, 'MLOps: Launch Training');
    await quickPlaceholder(page, /Training script/);
    await choose(page, /^train\.py$/);
    const takeDefault = async (asks: RegExp, expected: RegExp) => {
      await quickPlaceholder(page, asks);
      await waitFor(`the default for ${asks}`, async () => expected.test((await rowTexts())[0] ?? ''));
      await page.keyboard.press('Enter');
    };
    await takeDefault(/Where to run it/, /^local .*last used/);
    await quickPlaceholder(page, /Python interpreter/);
    await wb.screenshot('launch-remembered');
    await takeDefault(/Python interpreter/, new RegExp(`^${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} last used`));
    await takeDefault(/Experiment to log/, /^launched .*last used/);
    await takeDefault(/Working folder/, /\(workspace folder\).*last used/);
    const input = page.locator('.quick-input-widget input.input');
    await waitFor('the remembered arguments', async () => (await input.inputValue()) === `--release ${release} --note 'two words; $HOME'`);
    await page.keyboard.press('Enter');
    const both = await waitFor('the second job', async () => ((j) => (j.length === 2 ? j : undefined))(await jobsOf()), 60_000);
    assert.deepEqual(both[0]!.spec.command, both[1]!.spec.command);
    writeFileSync(release, '');
    await waitFor('both jobs to finish', async () => (await jobsOf()).every((j) => j.status === 'finished'), 60_000);
  });
});
