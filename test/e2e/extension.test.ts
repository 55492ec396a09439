import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openWorkbench, OUT, startBackend, webview, type Workbench } from './harness';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { python } from '../helpers/backend';
import { call, seedExperiment, seedModel, type Api } from './seed';
import { answerDialog, answerInput, choose, expand, notification, quickPlaceholder, resetUi, runCommand, showPanes, waitFor, waitServing, type EndpointState } from './ui';

const workspace = join(OUT, 'e2e-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;
let seeded: Awaited<ReturnType<typeof seedExperiment>>;

const readHandshake = (): Api & { pid: number } => JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as Api & { pid: number };

/** The running backend's handshake, once it answers (a test after a crash or restart waits here, not on a toast). */
async function backend(): Promise<Api & { pid: number }> {
  return waitFor('the backend to answer', async () => {
    const h = readHandshake();
    return (await fetch(`${h.url}/health`)).ok ? h : undefined;
  }, 90_000);
}

async function score(api: Api, endpoint: string, rows: number[][]): Promise<string | null> {
  const r = await fetch(`${api.url}/endpoints/${endpoint}/invocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ dataframe_split: { columns: [...FEATURES], data: rows } }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.headers.get('x-mlops-variant');
}

/** Deploys through the backend (a test that is not about Deploy seeds its endpoint this way). */
async function deployOverHttp(api: Api, endpoint: string, model: string): Promise<void> {
  await call(api, 'POST', `/endpoints/${endpoint}/deploy`, { model, strategy: 'replace' });
  await waitServing(() => api, endpoint, model);
}

const T = { timeout: 180_000 };

void describe('VS Code extension in code-server', { timeout: 1_800_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'train.py'), 'import mlflow\n\nwith mlflow.start_run():\n    mlflow.log_param("lr", 0.01)\n    mlflow.log_metric("accuracy", 0.9)\n');
    const b = await startBackend(home);
    seeded = await seedExperiment(b.api, 'iris', 6, 200, join(workspace, 'train.py'));
    await seedModel(b.api, 'iris-clf', seeded.runs.slice(0, 2).map((r) => r.runId), { alias: 'champion', version: '1' });
    await b.stop();
    // Two servable ONNX versions (the serving feature's own fixtures) for Deploy and Roll Back.
    const core = openCore(home);
    const v1 = registerOnnxModel(core, 'iris-onnx', linearClassifier(CHAMPION));
    registerOnnxModel(core, 'iris-onnx', linearClassifier(CHALLENGER));
    // v1's training data beside it: the backend profiles it at start, and the Drift view compares served inputs with it.
    const dir = core.artifacts.resolve(core.registry.getVersion('iris-onnx', v1).storage_location!.replace('mlflow-artifacts:/', ''));
    writeFileSync(join(dir, 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(2000, 7).map((r) => r.join(',')).join('\n')}\n`);
    core.db.close();
    wb = await openWorkbench('main', workspace);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await backend();
    await resetUi(wb.page);
  });

  void it('shows seeded experiments, runs and models in the MLOps views', T, async () => {
    const { page } = wb;
    await showPanes(page, 'Experiments', 'Models');
    await expand(page, /^iris \d+ runs/);
    const run = page.getByRole('treeitem', { name: /^iris-run-6/ });
    await run.waitFor({ timeout: 30_000 });
    const runText = await run.innerText();
    assert.match(runText, /accuracy \d/, 'run shows its primary metric');
    assert.match(runText, /42s/, 'run shows its duration');
    await expand(page, /^iris-clf/);
    const v1 = page.getByRole('treeitem', { name: /^Version 1 .*@champion/ });
    await v1.waitFor({ timeout: 30_000 });
    await wb.screenshot('views');
  });

  void it('refreshes the tree on backend events when a run is logged elsewhere', T, async () => {
    const { page } = wb;
    const api = await backend();
    await showPanes(page, 'Experiments');
    await expand(page, /^iris \d+ runs/);
    const { run } = await call<{ run: { info: { run_id: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: seeded.experimentId, run_name: 'live-run' });
    await page.getByRole('treeitem', { name: /^live-run/ }).waitFor({ timeout: 30_000 });
    await call(api, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: run.info.run_id });
    await page.getByRole('treeitem', { name: /^live-run/ }).waitFor({ state: 'detached', timeout: 30_000 });
  });

  void it('Compare Runs opens the chart webview with one series per selected run', T, async () => {
    const { page } = wb;
    await showPanes(page, 'Experiments');
    await expand(page, /^iris \d+ runs/);
    await page.getByRole('treeitem', { name: /^iris-run-6/ }).click();
    await page.getByRole('treeitem', { name: /^iris-run-5/ }).click({ modifiers: ['Control'] });
    await page.getByRole('treeitem', { name: /^iris-run-4/ }).click({ modifiers: ['Control'] });
    await waitFor('3 runs selected', async () => (await page.locator('.monaco-list-row.selected[role="treeitem"]').count()) === 3);
    const header = page.locator('.pane-header', { hasText: /^Experiments/ });
    await header.hover();
    await header.locator('a[aria-label="Compare Runs"]').click();
    const view = webview(page);
    await view.locator('#title', { hasText: 'Comparing 3 runs' }).waitFor({ timeout: 60_000 });
    for (const key of ['accuracy', 'loss']) {
      const card = view.locator(`section.chart-card[data-metric="${key}"]`);
      await waitFor(`${key} with 3 series`, async () => (await card.getAttribute('data-series')) === '3');
    }
    const names = await view.locator('.row[data-run] .run-link').allInnerTexts();
    assert.deepEqual([...names].sort(), ['iris-run-4', 'iris-run-5', 'iris-run-6']);
    // Only the param that differs between these runs is a column by default.
    const columns = await view.locator('.row.header').innerText();
    assert.match(columns, /lr/);
    assert.doesNotMatch(columns, /optimizer/);
    const log = await waitFor('first paint log line', () => /\[compare\] first paint (\d+) ms: (\d+) charts, (\d+) series/.exec(wb.outputLog()));
    assert.equal(Number(log[3]), 6, '2 metrics × 3 runs');
    await wb.screenshot('compare');
  });

  void it('Compare Runs with one run selected says it needs two (and offers to open that run)', T, async () => {
    const { page } = wb;
    await showPanes(page, 'Experiments');
    await expand(page, /^iris \d+ runs/);
    await page.getByRole('treeitem', { name: /^iris-run-3/ }).click();
    await waitFor('1 run selected', async () => (await page.locator('.monaco-list-row.selected[role="treeitem"]').count()) === 1);
    const header = page.locator('.pane-header', { hasText: /^Experiments/ });
    await header.hover();
    await header.locator('a[aria-label="Compare Runs"]').click();
    const note = await notification(page, 'Compare Runs needs at least two runs; only one is selected');
    await note.locator('.monaco-button', { hasText: 'Open This Run' }).waitFor();
    assert.equal(await page.locator('iframe.webview').count(), 0, 'no comparison of one run opened');
  });

  void it('a new terminal has MLFLOW_TRACKING_URI/TOKEN: `python script.py` logs into the store with no setup', T, async () => {
    const { page } = wb;
    const api = await backend();
    const search = () => call<{ runs?: { data: { params?: { key: string; value: string }[] } }[] }>(api, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: ['0'] });
    const before = (await search()).runs?.length ?? 0;
    // Its own script: a run of train.py would change what the train.py CodeLens test counts.
    writeFileSync(join(workspace, 'terminal_run.py'), 'import mlflow\n\nwith mlflow.start_run(run_name="from-terminal"):\n    mlflow.log_param("via", "terminal")\n');
    await runCommand(page, 'Terminal: Create New Terminal');
    const term = page.locator('.terminal-wrapper .xterm').last();
    await term.waitFor({ timeout: 60_000 });
    await term.click();
    await page.keyboard.type(`'${python()}' terminal_run.py\n`);
    // The run exists as soon as start_run returns; its param arrives with the next call: wait for the param itself.
    const after = await waitFor('the run terminal_run.py logged, with its param', async () => {
      const runs = (await search()).runs ?? [];
      return runs.length > before && runs.some((r) => r.data.params?.some((p) => p.key === 'via' && p.value === 'terminal')) ? runs : undefined;
    }, 150_000);
    assert.ok(after.length > before);
    await wb.screenshot('terminal-train');
    await runCommand(page, 'Terminal: Kill All Terminals');
  });

  void it('the status bar follows a killed backend and its automatic restart', T, async () => {
    const { page } = wb;
    const item = page.locator('.part.statusbar [aria-label^="MLOps backend"]').first();
    await waitFor('status running', async () => /^MLOps backend running/.test((await item.getAttribute('aria-label')) ?? ''), 60_000);
    // Every label the item shows is recorded in the page, so a short-lived state cannot slip between two polls.
    // A string, not a function: tsx would wrap a named function in a helper the page does not have.
    await page.evaluate(`(() => {
      window.mlopsStatus = [];
      const read = () => {
        const label = document.querySelector('.part.statusbar [aria-label^="MLOps backend"]')?.getAttribute('aria-label');
        if (label && window.mlopsStatus[window.mlopsStatus.length - 1] !== label) window.mlopsStatus.push(label);
      };
      new MutationObserver(read).observe(document.querySelector('.part.statusbar'), { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-label'] });
      read();
    })()`);
    const before = await backend();
    process.kill(before.pid, 'SIGKILL');
    const next = await waitFor('a new backend', async () => {
      const h = await backend();
      return h.pid !== before.pid ? h : undefined;
    }, 90_000);
    assert.notEqual(next.pid, before.pid);
    await waitFor('status running again', async () => /^MLOps backend running/.test((await item.getAttribute('aria-label')) ?? '') && (await item.getAttribute('aria-label'))!.includes(`pid ${next.pid}`), 60_000);
    const seen = (await page.evaluate('window.mlopsStatus')) as string[];
    const killed = seen.findIndex((l) => /^MLOps backend error: The backend was killed \(SIGKILL\); restarting in/.test(l));
    assert.ok(killed > 0, `the status bar showed the crash and the restart: ${JSON.stringify(seen)}`);
    assert.ok(seen.slice(killed).some((l) => /^MLOps backend starting/.test(l)), `then starting: ${JSON.stringify(seen)}`);
    assert.match(seen[seen.length - 1]!, /^MLOps backend running/);
    assert.match(wb.outputLog(), /was killed \(SIGKILL\); restarting in/);
    await showPanes(page, 'Experiments');
    await page.getByRole('treeitem', { name: /^iris \d+ runs/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('backend-restarted');
  });

  void it('Deploy and Roll Back from the palette change what the endpoint serves (checked over HTTP)', T, async () => {
    const { page } = wb;
    const api = await backend();
    // This test's own endpoint, from scratch: whatever an earlier run left is removed first.
    await call(api, 'DELETE', '/endpoints/iris-onnx').catch(() => undefined);
    const deploy = async (version: string) => {
      await runCommand(page, 'MLOps: Deploy');
      await choose(page, /^iris-onnx$/);
      await choose(page, `Version ${version}`);
      // The endpoint picker shows only when some endpoint exists already.
      if ((await quickPlaceholder(page, /^(Endpoint|How should)/)) === 'Endpoint') await choose(page, /^iris-onnx$/);
      await choose(page, /^Replace$/);
      // Moving live traffic asks first, naming the split before and after.
      if (version === '2') assert.match(await answerDialog(page, 'Deploy iris-onnx/2'), /Now: iris-onnx\/1 100%\s+After: iris-onnx\/2 100%/);
      await waitServing(() => api, 'iris-onnx', `iris-onnx/${version}`);
    };
    await deploy('1');
    assert.equal(await score(api, 'iris-onnx', sampleRows(4)), 'iris-onnx/1');
    await deploy('2');
    assert.equal(await score(api, 'iris-onnx', sampleRows(4)), 'iris-onnx/2');
    await showPanes(page, 'Models', 'Endpoints');
    await page.getByRole('treeitem', { name: /^iris-onnx serving/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('treeitem', { name: /^iris-onnx\/2 stable · 100%/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('deployed-v2');
    await runCommand(page, 'MLOps: Roll Back');
    await choose(page, /^iris-onnx$/);
    // The dialog names the version it returns to; then a reason is asked for, and kept.
    assert.match(await answerDialog(page, 'Roll Back to iris-onnx/1'), /Roll back iris-onnx to iris-onnx\/1\?[\s\S]*Now: iris-onnx\/2 100%/);
    await answerInput(page, /Why roll iris-onnx back to iris-onnx\/1/, 'e2e: error rate up after v2');
    const rolled = await waitFor('the rollback', async () => {
      const ep = await call<EndpointState>(api, 'GET', '/endpoints/iris-onnx');
      return ep.last_rollback ? ep : undefined;
    }, 60_000);
    assert.match(rolled.last_rollback?.reason ?? '', /e2e: error rate up after v2/);
    assert.equal(await score(api, 'iris-onnx', sampleRows(4)), 'iris-onnx/1');
    await page.getByRole('treeitem', { name: /^iris-onnx\/1 stable · 100%/ }).waitFor({ timeout: 30_000 });
    // The notification names what is served now (read from the notification centre, where it stays).
    await notification(page, 'rolled back: now serving iris-onnx/1');
    await wb.screenshot('rolled-back');
    await expand(page, /^iris-onnx 2 versions/);
    await page.getByRole('treeitem', { name: /^Version 1 ● deployed/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('deployed-marker');
  });

  void it('Set Traffic Weight shows the split before and after, then moves it through the weights route', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'DELETE', '/endpoints/e2e-ab').catch(() => undefined);
    await deployOverHttp(api, 'e2e-ab', 'iris-onnx/1');
    await call(api, 'POST', '/endpoints/e2e-ab/deploy', { model: 'iris-onnx/2', strategy: 'ab', weight: 10 });
    await runCommand(page, 'MLOps: Set Traffic Weight');
    await choose(page, /^e2e-ab$/);
    await choose(page, /^25%$/);
    assert.match(await answerDialog(page, 'Set Traffic Weight'), /Now: iris-onnx\/1 90% \+ iris-onnx\/2 10%\s+After: iris-onnx\/1 75% \+ iris-onnx\/2 25%/);
    await waitFor('the 75/25 split', async () => {
      const ep = await call<EndpointState>(api, 'GET', '/endpoints/e2e-ab');
      const w = Object.fromEntries(ep.variants.map((v) => [`${v.model_name}/${v.model_version}`, v.weight]));
      return w['iris-onnx/1'] === 75 && w['iris-onnx/2'] === 25;
    });
    const { events } = await call<{ events: { action: string }[] }>(api, 'GET', '/api/v1/audit?object_id=e2e-ab&action=endpoint.weights');
    assert.equal(events.length, 1, 'one weights change, audited');
  });

  void it('activates quickly and starts the backend in the background', () => {
    const m = /\[activate\] ([\d.]+) ms/.exec(wb.outputLog());
    assert.ok(m, 'activation time logged');
    assert.ok(Number(m[1]) < 1000, `activation took ${m[1]} ms`);
  });

  void it('Show Audit Log lists the deploys and the rollback', T, async () => {
    const api = await backend();
    await call(api, 'DELETE', '/endpoints/e2e-audit').catch(() => undefined);
    await deployOverHttp(api, 'e2e-audit', 'iris-onnx/1');
    await deployOverHttp(api, 'e2e-audit', 'iris-onnx/2');
    await call(api, 'POST', '/endpoints/e2e-audit/rollback', { reason: 'e2e audit check' });
    await runCommand(wb.page, 'MLOps: Show Audit Log');
    await choose(wb.page, /^endpoint$/);
    const editor = wb.page.locator('.monaco-editor .view-lines', { hasText: 'MLOps audit log' }).first();
    await editor.waitFor({ timeout: 30_000 });
    const text = (await editor.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /endpoint\.rollback \| endpoint e2e-audit \| manual: e2e audit check/);
    assert.match(text, /endpoint\.deploy \| endpoint e2e-audit \| replace iris-onnx\/2/);
    assert.match(text, /endpoint\.deploy \| endpoint e2e-audit \| replace iris-onnx\/1/);
    assert.match(text, /endpoint only; local time/);
    assert.doesNotMatch(text, /model_version\.create/, 'filtered to endpoint events');
    // Read-only: typing changes nothing and leaves no unsaved document.
    await editor.click();
    await wb.page.keyboard.type('typed');
    assert.doesNotMatch(await editor.innerText(), /typed/);
    assert.equal(await wb.page.locator('.tabs-container .tab.dirty').count(), 0);
    await wb.screenshot('audit');
  });

  void it("the backend's error log (<home>/logs/backend.log) shows in the output channel and read-only in Show Backend Log File", T, async () => {
    const { page } = wb;
    mkdirSync(join(home, 'logs'), { recursive: true });
    const log = join(home, 'logs', 'backend.log');
    const stamp = Date.now();
    // A line as the backend's logger writes it (pino JSON) and a plain one.
    appendFileSync(log, `${JSON.stringify({ level: 50, time: stamp, req: { method: 'POST', url: '/endpoints/e2e-log/invocations' }, msg: `e2e failure ${stamp}`, err: { type: 'Error', message: 'session closed' } })}\nplain line ${stamp}\n`);
    await waitFor('the error in the output channel', () => wb.outputLog().includes(`[backend.log] `) && new RegExp(`ERROR POST /endpoints/e2e-log/invocations e2e failure ${stamp} \\(Error: session closed\\)`).test(wb.outputLog()), 30_000);
    assert.match(wb.outputLog(), new RegExp(`\\[backend.log\\] plain line ${stamp}`));
    await runCommand(page, 'MLOps: Show Backend Log File');
    const editor = page.locator('.monaco-editor .view-lines', { hasText: `e2e failure ${stamp}` }).first();
    await editor.waitFor({ timeout: 30_000 });
    // It follows the file while open.
    appendFileSync(log, `later line ${stamp}\n`);
    await page.locator('.monaco-editor .view-lines', { hasText: `later line ${stamp}` }).first().waitFor({ timeout: 30_000 });
    // Read-only: typing changes nothing and leaves no unsaved document behind.
    await editor.click();
    await page.keyboard.type('typed');
    assert.doesNotMatch(await editor.innerText(), /typed/);
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0);
    await wb.screenshot('backend-log');
  });

  void it('the CodeLens over mlflow.start_run shows the best and latest run of the script; a click compares them', T, async () => {
    const { page } = wb;
    await runCommand(page, 'Go to File...');
    await page.locator('.quick-input-widget input.input').fill('train.py');
    await choose(page, /^train\.py$/);
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: /accuracy: best/ }).first();
    await lens.waitFor({ timeout: 60_000 });
    assert.match(await lens.innerText(), /accuracy: best 0\.\d+ \(iris-run-1\) · latest 0\.\d+ \(iris-run-6\) · 6 runs/);
    const paramLens = page.locator('.monaco-editor .codelens-decoration', { hasText: /lr=0\.1 gave the best accuracy/ }).first();
    await paramLens.waitFor({ timeout: 30_000 });
    await wb.screenshot('codelens');
    await lens.click();
    await webview(page).locator('#title', { hasText: 'Comparing 6 runs' }).waitFor({ timeout: 60_000 });
    await wb.screenshot('codelens-compare');
  });

  void it('the Drift view flags the features of shifted traffic; Run Drift Check opens the Drift Report', T, async () => {
    const { page } = wb;
    const api = await backend();
    // Its own endpoint serving v1, whose training data is the reference.
    await call(api, 'DELETE', '/endpoints/e2e-drift').catch(() => undefined);
    await deployOverHttp(api, 'e2e-drift', 'iris-onnx/1');
    // Served inputs with sepal_length and petal_width moved by +1 against v1's training data (the others unchanged).
    const rows = sampleRows(600, 9).map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]! + 1]);
    for (let i = 0; i < rows.length; i += 20) await score(api, 'e2e-drift', rows.slice(i, i + 20));
    // The backend's own verdict first (its reference profile is built in the background at start).
    await waitFor('a drift verdict on e2e-drift', async () => {
      const r = await call<{ variants: { status: string; drifted_features: number }[] }>(api, 'GET', '/api/v1/endpoints/e2e-drift/drift');
      return r.variants.some((v) => v.status === 'ok' && v.drifted_features === 2);
    }, 60_000);
    await showPanes(page, 'Drift');
    await runCommand(page, 'MLOps: Refresh Views');
    await expand(page, /^e2e-drift 2 of 4 features drifted/);
    const feature = page.getByRole('treeitem', { name: /^sepal_length high/ });
    await feature.waitFor({ timeout: 30_000 });
    assert.match(await feature.innerText(), /psi \d\.\d{3} \(ks p=/);
    await page.getByRole('treeitem', { name: /^petal_width (high|medium)/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('treeitem', { name: /^sepal_width (none|low)/ }).waitFor({ timeout: 30_000 });
    await wb.screenshot('drift-view');

    await runCommand(page, 'MLOps: Run Drift Check');
    await choose(page, /^e2e-drift$/);
    const message = await notification(page, /2 feature\(s\) drifted on e2e-drift: (sepal_length, petal_width|petal_width, sepal_length)/);
    await message.locator('.monaco-button', { hasText: 'Show Drift Report' }).click();
    const view = webview(page);
    const row = view.locator('section[data-variant="iris-onnx/1"] tr[data-feature="sepal_length"]');
    await row.waitFor({ timeout: 60_000 });
    assert.equal(await row.getAttribute('class'), 'sev-high');
    assert.match(await view.locator('section[data-variant="iris-onnx/1"] .reference').innerText(), /training profile \(artifact .*reference_data\.csv, 2000 rows\)/);
    await wb.screenshot('drift-report');

    await runCommand(page, 'MLOps: Open Monitoring Dashboard');
    await choose(page, /^e2e-drift$/);
    const heat = webview(page).locator('#heatmap');
    await heat.waitFor({ timeout: 60_000 });
    // The last minute that has a score (a cell without one is titled "no data").
    const sepal = heat.locator('tr', { hasText: 'sepal_length' }).locator('td[title^="sepal_length"]').last();
    assert.ok(Number(await sepal.innerText()) > 0.2, 'the shifted feature has a high PSI in the latest minute');
    await wb.screenshot('monitoring-heatmap');
  });
});
