import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CHAMPION, linearClassifier, mlmodelYaml } from '../fixtures/onnx/models';
import { OUT, openWorkbench, startBackend, webview, type Workbench } from './harness';
import { call, type Api } from './seed';
import { choose, resetUi, runCommand, waitFor } from './ui';

/** The read-only pages (run page, later model card): each test seeds what it needs before VS Code opens. */
const workspace = join(OUT, 'e2e-pages-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const handshake = (): Api => JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as Api;
async function backend(): Promise<Api> {
  return waitFor('the backend to answer', async () => {
    const h = handshake();
    return (await fetch(`${h.url}/health`)).ok ? h : undefined;
  }, 90_000);
}

async function upload(api: Api, artifactUri: string, path: string, body: string | Uint8Array): Promise<void> {
  const rel = artifactUri.replace('mlflow-artifacts:/', '');
  const r = await fetch(`${api.url}/api/2.0/mlflow-artifacts/artifacts/${rel}/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${api.token}` }, body: Buffer.from(body) });
  assert.equal(r.status, 200, await r.text());
}

/** A run with a 300-step loss, a one-value test metric, params, a tag, lineage, a dataset and two logged models. */
async function seedRun(api: Api, experimentId: string): Promise<string> {
  const { run } = await call<{ run: { info: { run_id: string; artifact_uri: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: experimentId,
    run_name: 'page-run',
    start_time: Date.now() - 60_000,
    tags: [{ key: 'team', value: 'vision' }, { key: 'mlflow.source.name', value: 'train.py' }],
  });
  const id = run.info.run_id;
  const loss = Array.from({ length: 300 }, (_, s) => ({ key: 'loss', value: 1 / (1 + s / 10), timestamp: Date.now(), step: s }));
  await call(api, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [...loss, { key: 'test_accuracy', value: 0.93, timestamp: Date.now(), step: 0 }], params: [{ key: 'lr', value: '0.01' }, { key: 'depth', value: '4' }, { key: 'optimizer', value: 'adam' }] });
  await call(api, 'POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'iris.csv', digest: 'd41d8cd9', source_type: 'local', source: 'data/iris.csv' } }] });
  await call(api, 'PUT', `/api/v1/runs/${id}/lineage`, { code_commit: '3f2a9c1e7b', code_dirty: false, image_digest: 'sha256:9b1e4c', command: 'python train.py', environment: { PYTHONHASHSEED: '0' } });
  await upload(api, run.info.artifact_uri, 'model/MLmodel', mlmodelYaml());
  await upload(api, run.info.artifact_uri, 'model/model.onnx', linearClassifier(CHAMPION));
  await upload(api, run.info.artifact_uri, 'sk/MLmodel', 'artifact_path: sk\nflavors:\n  sklearn:\n    pickled_model: model.pkl\n');
  await upload(api, run.info.artifact_uri, 'sk/model.pkl', 'pickle');
  await call(api, 'POST', '/api/2.0/mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
  return id;
}

const T = { timeout: 240_000 };

void describe('read-only pages in code-server', { timeout: 1_200_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'train.py'), 'print("train")\n');
    const b = await startBackend(home);
    const { experiment_id: exp } = await call<{ experiment_id: string }>(b.api, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'pages' });
    await seedRun(b.api, exp);
    // A job's run: its page shows the job's log.
    const job = await call<{ job_id: string }>(b.api, 'POST', '/api/v1/jobs', {
      launcher: 'local',
      command: [process.execPath, '-e', 'console.log("hello from the job"); console.log("epoch 1 done")'],
      cwd: workspace,
      experiment: 'pages',
      run_name: 'job-run',
    });
    await waitFor('the job to finish', async () => (await call<{ status: string }>(b.api, 'GET', `/api/v1/jobs/${job.job_id}`)).status === 'finished', 60_000);
    await b.stop();
    wb = await openWorkbench('pages', workspace);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await backend();
    await resetUi(wb.page);
  });

  void it('Open Run shows a read-only run page: params, metric sparklines (one value as a bar), tags, lineage, models, artifacts', T, async () => {
    const { page } = wb;
    await runCommand(page, 'MLOps: Open Run');
    await choose(page, /^page-run$/);
    const view = webview(page);
    await view.locator('#title', { hasText: 'Run page-run' }).waitFor({ timeout: 60_000 });
    const rows = async (id: string) => (await view.locator(`#${id} tbody tr`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.deepEqual(await rows('params'), ['depth 4', 'lr 0.01', 'optimizer adam']);
    await waitFor('two metric charts drawn', async () => (await view.locator('#metrics canvas[data-kind]').count()) === 2);
    const kinds = await view.locator('#metrics canvas').evaluateAll((cs) => cs.map((c) => [c.closest('tr')!.cells[0]!.textContent, (c as HTMLElement).dataset.kind]));
    assert.deepEqual(kinds, [['loss', 'line'], ['test_accuracy', 'bar']], 'a metric logged once is a bar, not a dot at step 0');
    assert.match((await rows('metrics')).join('\n'), /loss\s+0\.0323.*300/);
    assert.deepEqual(await rows('tags'), ['team vision']);
    const lineage = (await rows('lineage')).join('\n');
    for (const s of ['Commit 3f2a9c1e7b', 'Image sha256:9b1e4c', 'Data: iris.csv d41d8cd9', 'env PYTHONHASHSEED 0', 'Source train.py']) assert.ok(lineage.includes(s), `lineage has ${s}:\n${lineage}`);
    const models = await rows('models');
    assert.match(models.join('\n'), /^model onnx, python_function yes runs:\/\w+\/model/m);
    assert.match(models.join('\n'), /^sk sklearn no \(cannot be served\)/m);
    assert.deepEqual((await rows('artifacts')).map((r) => r.split(' ')[0]), ['model/MLmodel', 'model/model.onnx', 'sk/MLmodel', 'sk/model.pkl']);
    // A webview tab, not an untitled document: nothing is dirty, nothing asks to be saved.
    await page.locator('.tabs-container .tab', { hasText: 'Run page-run' }).waitFor();
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0);
    assert.equal(await page.locator('.tabs-container .tab', { hasText: /Untitled/ }).count(), 0);
    await wb.screenshot('run-page');
  });

  void it('the run page is keyboard-reachable and its charts follow a theme change while open', T, async () => {
    const { page } = wb;
    await runCommand(page, 'MLOps: Open Run');
    await choose(page, /^page-run$/);
    const view = webview(page);
    await view.locator('#title', { hasText: 'Run page-run' }).waitFor({ timeout: 60_000 });
    // Tab from the title reaches the params table's first row; ↓ moves to the next row.
    await view.locator('#title').focus();
    const focusedIn = () => view.locator('body').evaluate(() => {
      const a = document.activeElement;
      return a?.closest('table')?.id ? `${a.closest('table')!.id}:${(a as HTMLTableRowElement).rowIndex}` : (a?.tagName ?? '');
    });
    await waitFor('Tab to reach the params table', async () => {
      if ((await focusedIn()).startsWith('params:')) return true;
      await page.keyboard.press('Tab');
      return false;
    }, 20_000);
    assert.equal(await focusedIn(), 'params:1');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedIn(), 'params:2');
    await page.keyboard.press('Tab');
    assert.equal(await focusedIn(), 'metrics:1', 'one Tab stop per table');
    const colour = () => view.locator('#metrics canvas').first().getAttribute('data-color');
    await waitFor('the chart drawn', async () => (await colour()) !== null);
    // code-server starts in Light Modern: switch to Dark Modern while the page is open, then back.
    const before = await colour();
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Dark Modern$/);
    await waitFor('the webview in the dark theme', async () => (await view.locator('body').getAttribute('class'))?.includes('vscode-dark'));
    const dark = await waitFor('the chart redrawn in the dark theme colour', async () => {
      const c = await colour();
      return c !== before ? c : undefined;
    });
    await waitFor('the host told of the redraw', () => /\[run\] \w+ rendered 2 charts \(vscode-dark\)/.test(wb.outputLog()));
    await wb.screenshot('run-page-dark');
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Light Modern$/);
    await waitFor('the light theme back', async () => (await colour()) === before);
    assert.notEqual(dark, before);
  });

  void it("a job's run page shows the job's log", T, async () => {
    const { page } = wb;
    await runCommand(page, 'MLOps: Open Run');
    await choose(page, /^job-run$/);
    const view = webview(page);
    await view.locator('#title', { hasText: 'Run job-run' }).waitFor({ timeout: 60_000 });
    const log = await view.locator('#job-log').innerText();
    assert.match(log, /hello from the job[\s\S]*epoch 1 done/);
    await wb.screenshot('run-page-job');
  });
});
