import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CHAMPION, linearClassifier, mlmodelYaml } from '../fixtures/onnx/models';
import { OUT, openWorkbench, startBackend, webview, type Workbench } from './harness';
import { call, upload, type Api } from './seed';
import { answerInput, choose, expand, notification, quickPlaceholder, resetUi, runCommand, showPanes, waitFor, waitServing } from './ui';

/** The read-only pages (run page, later model card): each test seeds what it needs before VS Code opens. */
const workspace = join(OUT, 'e2e-pages-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;
let pageRun: string;

const handshake = (): Api => JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as Api;
async function backend(): Promise<Api> {
  return waitFor('the backend to answer', async () => {
    const h = handshake();
    return (await fetch(`${h.url}/health`)).ok ? h : undefined;
  }, 90_000);
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
    pageRun = await seedRun(b.api, exp);
    // Versions 1 and 3 hold an ONNX file, version 2 a pickled sklearn model only.
    await call(b.api, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'pages-clf' });
    for (const path of ['model', 'sk', 'model']) await call(b.api, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'pages-clf', source: `runs:/${pageRun}/${path}`, run_id: pageRun });
    await call(b.api, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'pages-clf', alias: 'champion', version: '1' });
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

  void it('Deploy marks a version without an ONNX model and refuses it with a clear message', T, async () => {
    const { page } = wb;
    const api = await backend();
    await showPanes(page, 'Models');
    await expand(page, /^pages-clf/);
    await page.getByRole('treeitem', { name: /^Version 2 no ONNX model/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('treeitem', { name: /^Version 1 @champion$/ }).waitFor({ timeout: 30_000 });
    await runCommand(page, 'MLOps: Deploy');
    await choose(page, /^pages-clf$/);
    await quickPlaceholder(page, /pages-clf: which version/);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Version 2' }).first();
    assert.match(await row.innerText(), /no ONNX model/);
    await wb.screenshot('deploy-marks-no-onnx');
    await row.click();
    const note = await notification(page, /Deploy failed: pages-clf version 2 cannot be deployed\. No ONNX model: the serving engine runs ONNX only/);
    assert.match(await note.innerText(), /skl2onnx/);
    assert.equal(await page.locator('.quick-input-widget').isVisible(), false, 'nothing more is asked');
    const eps = await call<{ endpoints: { name: string }[] }>(api, 'GET', '/endpoints');
    assert.deepEqual(eps.endpoints.map((e) => e.name).filter((n) => n.startsWith('pages-clf')), [], 'no endpoint was created');
  });

  void it("Register Model lists the run's logged models and refuses an artifact folder that does not exist", T, async () => {
    const { page } = wb;
    const api = await backend();
    await runCommand(page, 'MLOps: Register Model');
    await choose(page, /^page-run$/);
    await quickPlaceholder(page, /Model logged by run page-run to register/);
    const rows = (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    assert.ok(rows.some((r) => /^model\s*onnx, python_function · ONNX/.test(r)), rows.join('\n'));
    assert.ok(rows.some((r) => /^sk\s*sklearn · no ONNX model \(cannot be deployed\)/.test(r)), rows.join('\n'));
    await wb.screenshot('register-lists-models');
    await choose(page, /Another artifact folder/);
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor();
    await input.fill('nope');
    const message = page.locator('.quick-input-widget .quick-input-message');
    await waitFor('the missing folder refused', async () => /No artifact folder 'nope' in run page-run \(it has model, sk\)/.test(await message.innerText()));
    await page.keyboard.press('Enter');
    assert.equal(await input.isVisible(), true, 'Enter on a refused path does not go on');
    await input.fill('sk');
    await waitFor('the existing folder accepted', async () => !/No artifact folder/.test(await message.innerText()));
    await page.keyboard.press('Enter');
    await answerInput(page, /Registered model name for runs:\/\w+\/sk/, 'pages-registered');
    const v = await waitFor('the version registered', async () => {
      const r = await call<{ model_versions?: { source: string; run_id: string }[] }>(api, 'GET', `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent("name='pages-registered'")}`);
      return r.model_versions?.[0];
    });
    assert.equal(v.source, `runs:/${pageRun}/sk`);
    assert.equal(v.run_id, pageRun);
  });

  void it('moving @champion off a deployed version asks for a reason, which reaches the audit log', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/pages-ep/deploy', { model: 'pages-clf/1', strategy: 'replace' });
    await waitServing(() => api, 'pages-ep', 'pages-clf/1');
    await runCommand(page, 'MLOps: Promote (Set Alias)');
    await choose(page, /^pages-clf$/);
    await choose(page, /^Version 2$/);
    await choose(page, /^champion$/);
    const why = 'version 2 is the new offline baseline';
    await waitFor('the reason asked', async () => /Why move @champion off version 1, which an endpoint serves, to version 2\?/.test(await page.locator('.quick-input-widget').innerText()));
    await wb.screenshot('champion-reason');
    await answerInput(page, /Why move @champion off version 1/, why);
    await waitFor('@champion on version 2', async () => (await call<{ model_version: { version: string } }>(api, 'GET', '/api/2.0/mlflow/registered-models/alias?name=pages-clf&alias=champion')).model_version.version === '2');
    const { events } = await call<{ events: { action: string; object_id: string; reason: string | null }[] }>(api, 'GET', '/api/v1/audit?object_type=alias');
    const moved = events.find((e) => e.object_id === 'pages-clf@champion' && e.reason === why);
    assert.ok(moved, JSON.stringify(events));
    // Moving it again, off version 2 (which no endpoint serves), asks nothing.
    await runCommand(page, 'MLOps: Promote (Set Alias)');
    await choose(page, /^pages-clf$/);
    await choose(page, /^Version 1/);
    await choose(page, /^champion$/);
    await waitFor('@champion back on version 1', async () => (await call<{ model_version: { version: string } }>(api, 'GET', '/api/2.0/mlflow/registered-models/alias?name=pages-clf&alias=champion')).model_version.version === '1');
  });

  void it('a canary ramp shows its live split, step and countdown in the Endpoints tree, and steps there with no refresh', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/pages-canary/deploy', { model: 'pages-clf/1', strategy: 'replace' });
    await waitServing(() => api, 'pages-canary', 'pages-clf/1');
    await call(api, 'POST', '/endpoints/pages-canary/deploy', { model: 'pages-clf/3', strategy: 'canary', steps: [10, 50, 100], step_interval_s: 25 });
    await showPanes(page, 'Endpoints');
    const item = page.getByRole('treeitem', { name: /^pages-canary / });
    const first = await waitFor('step 1/3 with its split', async () => /canary step 1\/3 · next in (\d+) s · pages-clf\/1 90% · pages-clf\/3 10%/.exec((await item.getAttribute('aria-label')) ?? ''));
    await wb.screenshot('canary-step-1');
    // The countdown moves on its own (the tree re-renders while the canary ramps)...
    await waitFor('the countdown to go down', async () => {
      const m = /next in (\d+) s/.exec((await item.getAttribute('aria-label')) ?? '');
      return m && Number(m[1]) < Number(first[1]);
    });
    // ...and the step itself arrives as a backend event: nothing here refreshes or writes.
    await waitFor('step 2/3 at 50/50', async () => /canary step 2\/3 · next in \d+ s · pages-clf\/1 50% · pages-clf\/3 50%/.test((await item.getAttribute('aria-label')) ?? ''), 60_000);
    await wb.screenshot('canary-step-2');
    await call(api, 'POST', '/endpoints/pages-canary/rollback', { reason: 'test over' });
  });

  void it('Send Test Request builds a request from the signature and shows the answer; Copy curl gives a working command', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/pages-try/deploy', { model: 'pages-clf/1', strategy: 'replace' });
    await waitServing(() => api, 'pages-try', 'pages-clf/1');
    await runCommand(page, 'MLOps: Send Test Request');
    await choose(page, /^pages-try$/);
    const input = page.locator('.quick-input-widget input.input');
    await waitFor('the request body prefilled from the signature', async () => (await input.inputValue()) === '{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[[0,0,0,0]]}}');
    await input.fill('{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[[2.5,2.5,0.1,0.1]]}}');
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab', { hasText: 'pages-try-response.md' }).waitFor({ timeout: 30_000 });
    const text = await waitFor('the response shown', async () => {
      const t = await page.locator('.editor-instance .view-lines').first().innerText();
      return /predictions/.test(t) ? t.replace(/\u00a0/g, ' ') : undefined;
    });
    assert.match(text, /→ \*\*200 OK\*\*/);
    assert.match(text, /"predictions": \[\s*1\s*\]/);
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0, 'a read-only document, nothing to save');
    await wb.screenshot('send-test-request');
    await wb.context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await runCommand(page, 'MLOps: Copy curl');
    await choose(page, /^pages-try$/);
    const curl = await waitFor('the curl command on the clipboard', async () => {
      const t = await page.evaluate(() => navigator.clipboard.readText());
      return t.startsWith('curl ') ? t : undefined;
    });
    assert.ok(curl.includes(`'${api.url}/endpoints/pages-try/invocations'`), curl);
    assert.ok(curl.includes('"Authorization: Bearer $MLOPS_TOKEN"'), 'the token is a placeholder, not the secret');
    assert.ok(!curl.includes(api.token));
    const out = execFileSync('bash', ['-c', curl], { env: { ...process.env, MLOPS_TOKEN: api.token }, encoding: 'utf8' });
    assert.match(out, /"predictions":\[/);
  });
});
