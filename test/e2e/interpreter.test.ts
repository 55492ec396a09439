import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { buildSync } from 'esbuild';
import { OUT, ROOT, openWorkbench, runningBackend, type Workbench } from './harness';
import { call, type Api } from './seed';
import { answerInput, choose, launchLocally, quickPlaceholder, resetUi, waitFor } from './ui';

/**
 * Launch Training's interpreter from the Python extension, and from the `mlopsStudio.pythonPath` setting.
 *
 * The Python extension here is a TEST FIXTURE (test/fixtures/python-extension), NOT the real ms-python.python: the
 * real one cannot be installed offline. The fixture declares itself ms-python.python and implements the published
 * API (`@vscode/python-extension`'s types) over one environment; its active environment is a virtual environment's
 * folder, so only an executable from resolveEnvironment can run the script.
 */
const workspace = join(OUT, 'e2e-interpreter-workspace');
const home = join(workspace, '.mlops');
const envs = join(OUT, 'e2e-interpreter-envs');
/** The fixture's active environment (a folder) and the interpreter it resolves to. */
const pyextEnv = join(envs, 'pyext-env');
const pyextPython = join(pyextEnv, 'bin/python');
/** The interpreter named by the mlopsStudio.pythonPath setting, in another environment. */
const settingEnv = join(envs, 'setting-env');
const settingPython = join(settingEnv, 'bin/python');
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);

interface JobView {
  job_id: string;
  status: string;
  spec: { command: string[]; experiment: string };
}

/** Prints which Python runs it: a venv's interpreter reports the venv as sys.prefix. */
const TRAIN = 'import sys\nprint(f"prefix={sys.prefix}", flush=True)\nprint(f"executable={sys.executable}", flush=True)\n';

const T = { timeout: 300_000 };

void describe("Launch Training's interpreter in code-server", { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(envs, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'train.py'), TRAIN);
    for (const env of [pyextEnv, settingEnv]) execFileSync('python3', ['-m', 'venv', '--without-pip', env]);
    // The fixture extension: its manifest and its source bundled (vscode is the host's).
    const ext = join(OUT, 'e2e-interpreter-python-extension');
    rmSync(ext, { recursive: true, force: true });
    mkdirSync(ext, { recursive: true });
    const fixture = join(ROOT, 'test/fixtures/python-extension');
    copyFileSync(join(fixture, 'package.json'), join(ext, 'package.json'));
    buildSync({ entryPoints: [join(fixture, 'extension.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], outfile: join(ext, 'extension.js'), logLevel: 'error' });
    wb = await openWorkbench('interpreter', workspace, { 'mlopsStudio.pythonPath': settingPython, 'pythonApiFixture.activeEnvironment': pyextEnv }, undefined, [ext]);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    // The workspace has no store yet: showing the MLOps views activates the extension, which starts the backend.
    await resetUi(wb.page);
    await backend();
  });
  afterEach(async () => {
    await wb.screenshot('end');
  });

  /** Launch Training of train.py, locally, into experiment `pyext`, in the workspace folder, with no arguments. */
  async function launch(interpreter: (rows: string[]) => Promise<void>, newExperiment: boolean): Promise<void> {
    const { page } = wb;
    await interpreter(await launchLocally(page, /^train\.py$/));
    await quickPlaceholder(page, /Experiment to log/);
    await choose(page, newExperiment ? /New experiment/ : /^pyext$/);
    if (newExperiment) await answerInput(page, /New experiment name/, 'pyext');
    await quickPlaceholder(page, /Working folder/);
    await choose(page, /\(workspace folder\)$/);
    await answerInput(page, /Arguments for train\.py/, '');
  }

  /** The `n`th job of experiment pyext once it finished, with its log. */
  async function finishedJob(n: number): Promise<{ job: JobView; log: string }> {
    const api = await backend();
    const job = await waitFor(`job ${n} to finish`, async () => {
      const jobs = (await call<{ jobs: JobView[] }>(api, 'GET', '/api/v1/jobs')).jobs.filter((j) => j.spec.experiment === 'pyext');
      return jobs.length === n && ['finished', 'failed'].includes(jobs[0]!.status) ? jobs[0] : undefined;
    }, 90_000);
    const r = await fetch(`${api.url}/api/v1/jobs/${job.job_id}/logs`, { headers: { authorization: `Bearer ${api.token}` } });
    return { job, log: await r.text() };
  }

  void it("offers the Python extension's active environment first, then the setting; each runs the job with that interpreter", T, async () => {
    const { page } = wb;
    // No last choice yet: the Python extension's environment (resolved from its folder to its python) comes first.
    await launch(async (rows) => {
      assert.equal(rows[0], `${pyextPython} Python extension's active environment`, rows.join('\n'));
      assert.equal(rows[1], `${settingPython} mlopsStudio.pythonPath`, rows.join('\n'));
      assert.ok(!rows.some((r) => r.startsWith(`${pyextEnv} `)), 'the environment folder itself is not offered');
      await wb.screenshot('python-extension-first');
      await choose(page, new RegExp(`^${pyextPython}$`));
    }, true);
    const first = await finishedJob(1);
    assert.equal(first.job.status, 'finished', first.log);
    assert.equal(first.job.spec.command[0], pyextPython, 'the argv starts with the resolved interpreter');
    assert.match(first.log, new RegExp(`^prefix=${pyextEnv}$`, 'm'), `the job ran in the Python extension's environment:\n${first.log}`);

    // Next time the last used comes first (the same path, so its sources merge), then the setting: pick the setting.
    await resetUi(page);
    await launch(async (rows) => {
      assert.equal(rows[0], `${pyextPython} last used · Python extension's active environment`, rows.join('\n'));
      assert.equal(rows[1], `${settingPython} mlopsStudio.pythonPath`, rows.join('\n'));
      await choose(page, new RegExp(`^${settingPython}$`));
    }, false);
    const second = await finishedJob(2);
    assert.equal(second.job.status, 'finished', second.log);
    assert.equal(second.job.spec.command[0], settingPython);
    assert.match(second.log, new RegExp(`^prefix=${settingEnv}$`, 'm'), `the job ran in the setting's environment:\n${second.log}`);

    // And then the setting's interpreter is the last used, first, with the Python extension's right after it.
    await resetUi(page);
    const rows = await launchLocally(page, /^train\.py$/);
    assert.deepEqual(rows.slice(0, 2), [`${settingPython} last used · mlopsStudio.pythonPath`, `${pyextPython} Python extension's active environment`]);
    await wb.screenshot('last-used-then-python-extension');
    await page.keyboard.press('Escape');
  });
});
