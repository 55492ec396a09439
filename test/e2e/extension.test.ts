import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openContainer, openWorkbench, OUT, runCommand, startBackend, webview, type Workbench } from './harness';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { call, seedExperiment, seedModel, type Api } from './seed';

const workspace = join(OUT, 'e2e-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;
let seeded: Awaited<ReturnType<typeof seedExperiment>>;

/** Expands a tree item (by keyboard, so a click that lands during a refresh cannot toggle it shut again). */
async function expand(page: Workbench['page'], name: RegExp): Promise<void> {
  const item = page.getByRole('treeitem', { name }).first();
  await item.waitFor({ timeout: 60_000 });
  for (let i = 0; i < 20 && (await item.getAttribute('aria-expanded')) !== 'true'; i++) {
    await item.click();
    await page.keyboard.press('ArrowRight');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const handshake = (): Api & { pid: number } => JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as Api & { pid: number };

async function waitFor<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

void describe('VS Code extension in code-server', { timeout: 300_000 }, () => {
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

  void it('shows seeded experiments, runs and models in the MLOps views', async () => {
    const { page } = wb;
    await openContainer(page);
    await expand(page, /^iris /);
    await page.getByRole('treeitem', { name: /iris-run-6/ }).waitFor();
    const runText = await page.getByRole('treeitem', { name: /iris-run-6/ }).innerText();
    assert.match(runText, /accuracy \d/, 'run shows its primary metric');
    assert.match(runText, /42s/, 'run shows its duration');
    const modelsHeader = page.locator('.pane-header', { hasText: 'Models' });
    if ((await modelsHeader.getAttribute('aria-expanded')) !== 'true') await modelsHeader.click();
    await expand(page, /^iris-clf/);
    await page.getByRole('treeitem', { name: /Version 1/ }).waitFor();
    assert.match(await page.getByRole('treeitem', { name: /Version 1/ }).innerText(), /@champion/);
    await wb.screenshot('views');
  });

  void it('refreshes the tree on backend events when a run is logged elsewhere', async () => {
    const api = handshake();
    const { run } = await call<{ run: { info: { run_id: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: seeded.experimentId, run_name: 'live-run' });
    await wb.page.getByRole('treeitem', { name: /live-run/ }).waitFor({ timeout: 15_000 });
    await call(api, 'POST', '/api/2.0/mlflow/runs/delete', { run_id: run.info.run_id });
    await wb.page.getByRole('treeitem', { name: /live-run/ }).waitFor({ state: 'detached', timeout: 15_000 });
  });

  void it('Compare Runs opens the chart webview with one series per selected run', async () => {
    const { page } = wb;
    await page.getByRole('treeitem', { name: /iris-run-6/ }).click();
    await page.getByRole('treeitem', { name: /iris-run-5/ }).click({ modifiers: ['Control'] });
    await page.getByRole('treeitem', { name: /iris-run-4/ }).click({ modifiers: ['Control'] });
    await page.locator('.pane-header', { hasText: 'Experiments' }).hover();
    await page.locator('.pane-header', { hasText: 'Experiments' }).locator('a[aria-label="Compare Runs"]').click();
    const view = webview(page);
    await view.locator('#title').waitFor({ timeout: 30_000 });
    assert.equal(await view.locator('#title').innerText(), 'Comparing 3 runs');
    for (const key of ['accuracy', 'loss']) {
      const card = view.locator(`section.chart-card[data-metric="${key}"]`);
      assert.equal(await card.getAttribute('data-series'), '3', `${key} has 3 series`);
    }
    const names = await view.locator('.row[data-run] .run-link').allInnerTexts();
    assert.deepEqual([...names].sort(), ['iris-run-4', 'iris-run-5', 'iris-run-6']);
    // Only the param that differs between these runs is a column by default.
    const header = await view.locator('.row.header').innerText();
    assert.match(header, /lr/);
    assert.doesNotMatch(header, /optimizer/);
    const log = await waitFor('first paint log line', () => /\[compare\] first paint (\d+) ms: (\d+) charts, (\d+) series/.exec(wb.outputLog()) ?? undefined);
    assert.equal(Number(log[3]), 6, '2 metrics × 3 runs');
    await wb.screenshot('compare');
  });

  void it('the status bar follows a killed backend and its automatic restart', async () => {
    const { page } = wb;
    const item = page.locator('.part.statusbar [aria-label^="MLOps backend"]').first();
    await waitFor('status running', async () => /^MLOps backend running/.test((await item.getAttribute('aria-label')) ?? '') || undefined);
    const before = handshake();
    process.kill(before.pid, 'SIGKILL');
    await waitFor('status restarting', async () => /^MLOps backend (error|starting)/.test((await item.getAttribute('aria-label')) ?? '') || undefined, 10_000);
    await wb.screenshot('backend-killed');
    await waitFor('status running again', async () => /^MLOps backend running/.test((await item.getAttribute('aria-label')) ?? '') || undefined, 30_000);
    const next = await waitFor('new handshake', () => {
      try {
        const h = handshake();
        return h.pid !== before.pid ? h : undefined;
      } catch {
        return undefined;
      }
    });
    assert.notEqual(next.pid, before.pid);
    assert.match(wb.outputLog(), /was killed \(SIGKILL\); restarting in/);
    await page.getByRole('treeitem', { name: /^iris/ }).first().waitFor();
    await wb.screenshot('backend-restarted');
  });

  void it('Deploy and Roll Back from the palette change what the endpoint serves (checked over HTTP)', async () => {
    const { page } = wb;
    const api = handshake();
    const score = async () => {
      const r = await fetch(`${api.url}/endpoints/iris-onnx/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: [...FEATURES], data: sampleRows(4) } }),
      });
      assert.equal(r.status, 200, await r.clone().text());
      return r.headers.get('x-mlops-variant');
    };
    const choose = async (text: string) => {
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
    };
    const deploy = async (version: string) => {
      await runCommand(page, 'MLOps: Deploy');
      await choose('iris-onnx');
      await choose(`Version ${version}`);
      if (version === '2') await choose('iris-onnx');
      await choose('Replace');
      // The toast of this deploy (an earlier one may still be on screen): it names the version now at 100 %.
      await page.locator('.notifications-toasts .notification-toast', { hasText: `iris-onnx/${version} 100%` }).first().waitFor({ timeout: 30_000 });
    };
    await deploy('1');
    assert.equal(await score(), 'iris-onnx/1');
    await deploy('2');
    assert.equal(await score(), 'iris-onnx/2');
    const epHeader = page.locator('.pane-header', { hasText: 'Endpoints' });
    if ((await epHeader.getAttribute('aria-expanded')) !== 'true') await epHeader.click();
    await page.getByRole('treeitem', { name: /^iris-onnx serving/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('treeitem', { name: /^iris-onnx\/2 stable · 100%/ }).waitFor({ timeout: 15_000 });
    await wb.screenshot('deployed-v2');
    await runCommand(page, 'MLOps: Roll Back');
    await choose('iris-onnx');
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Roll Back' }).click();
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'rolled back: now serving iris-onnx/1' }).first().waitFor({ timeout: 30_000 });
    assert.equal(await score(), 'iris-onnx/1');
    await page.getByRole('treeitem', { name: /^iris-onnx\/1 stable · 100%/ }).waitFor({ timeout: 15_000 });
    await wb.screenshot('rolled-back');
    await expand(page, /^iris-onnx 2 versions/);
    await page.getByRole('treeitem', { name: /^Version 1 ● deployed/ }).waitFor({ timeout: 15_000 });
    await wb.screenshot('deployed-marker');
  });

  void it('activates quickly and starts the backend in the background', () => {
    const m = /\[activate\] ([\d.]+) ms/.exec(wb.outputLog());
    assert.ok(m, 'activation time logged');
    assert.ok(Number(m[1]) < 1000, `activation took ${m[1]} ms`);
  });

  void it('Show Audit Log lists the deploys and the rollback', async () => {
    await runCommand(wb.page, 'MLOps: Show Audit Log');
    const editor = wb.page.locator('.monaco-editor .view-lines', { hasText: 'MLOps audit log' }).first();
    await editor.waitFor({ timeout: 15_000 });
    assert.match(await editor.innerText(), /rollback/i);
    await wb.screenshot('audit');
  });

  void it('the CodeLens over mlflow.start_run shows the best and latest run of the script; a click compares them', async () => {
    const { page } = wb;
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 450 } });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input.input').fill('train.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: /accuracy: best/ }).first();
    await lens.waitFor({ timeout: 30_000 });
    assert.match(await lens.innerText(), /accuracy: best 0\.\d+ \(iris-run-1\) · latest 0\.\d+ \(iris-run-6\) · 6 runs/);
    const paramLens = page.locator('.monaco-editor .codelens-decoration', { hasText: /lr=0\.1 gave the best accuracy/ }).first();
    await paramLens.waitFor({ timeout: 15_000 });
    await wb.screenshot('codelens');
    await lens.click();
    const view = webview(page);
    await view.locator('#title', { hasText: 'Comparing 6 runs' }).waitFor({ timeout: 30_000 });
    await wb.screenshot('codelens-compare');
  });

  void it('the Drift view flags the features of shifted traffic; Run Drift Check opens the Drift Report', async () => {
    const { page } = wb;
    const api = handshake();
    // Served inputs with sepal_length and petal_width moved by +1 against v1's training data (the others unchanged).
    const rows = sampleRows(600, 9).map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]! + 1]);
    for (let i = 0; i < rows.length; i += 20) {
      const r = await fetch(`${api.url}/endpoints/iris-onnx/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } }),
      });
      assert.equal(r.status, 200);
    }
    await new Promise((r) => setTimeout(r, 300));
    await runCommand(page, 'MLOps: Refresh Views');
    const driftHeader = page.locator('.pane-header', { hasText: /^Drift/ });
    if ((await driftHeader.getAttribute('aria-expanded')) !== 'true') await driftHeader.click();
    await expand(page, /^iris-onnx 2 of 4 features drifted/);
    const feature = page.getByRole('treeitem', { name: /^sepal_length high/ });
    await feature.waitFor({ timeout: 15_000 });
    assert.match(await feature.innerText(), /psi \d\.\d{3} \(ks p=/);
    await page.getByRole('treeitem', { name: /^petal_width (high|medium)/ }).waitFor();
    await page.getByRole('treeitem', { name: /^sepal_width (none|low)/ }).waitFor();
    await wb.screenshot('drift-view');

    await runCommand(page, 'MLOps: Run Drift Check');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'iris-onnx' }).first().click();
    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /2 feature\(s\) drifted on iris-onnx: (sepal_length, petal_width|petal_width, sepal_length)/ }).first();
    await toast.waitFor({ timeout: 15_000 });
    await toast.locator('.monaco-button', { hasText: 'Show Drift Report' }).click();
    const view = webview(page);
    const row = view.locator('section[data-variant="iris-onnx/1"] tr[data-feature="sepal_length"]');
    await row.waitFor({ timeout: 30_000 });
    assert.equal(await row.getAttribute('class'), 'sev-high');
    assert.match(await view.locator('section[data-variant="iris-onnx/1"] .reference').innerText(), /training profile \(artifact .*reference_data\.csv, 2000 rows\)/);
    await wb.screenshot('drift-report');

    await runCommand(page, 'MLOps: Open Monitoring Dashboard');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'iris-onnx' }).first().click();
    const heat = webview(page).locator('#heatmap');
    await heat.waitFor({ timeout: 30_000 });
    const sepal = heat.locator('tr', { hasText: 'sepal_length' }).locator('td[title^="sepal_length"]').last();
    assert.ok(Number(await sepal.innerText()) > 0.2, 'the shifted feature has a high PSI in the latest minute');
    await wb.screenshot('monitoring-heatmap');
  });
});
