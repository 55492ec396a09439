import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { UiTablePage } from '../../backend/src/api/v1/contract-table';
import { openWorkbench, OUT, runningBackend, startBackend, webview, type Workbench } from './harness';
import { call, seedExperiment, type Api } from './seed';
import { choose, contextMenu, resetUi, runCommand, showPanes, waitFor } from './ui';

const workspace = join(OUT, 'e2e-table-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;
let experimentId: string;

const T = { timeout: 300_000 };

/** Opens the sweep's table by the experiment item's inline action, once it shows the 30 seeded runs. */
async function openFromItem() {
  const { page } = wb;
  await resetUi(page);
  await showPanes(page, 'Experiments');
  const item = page.getByRole('treeitem', { name: /^sweep 30 runs/ });
  await item.waitFor({ timeout: 60_000 });
  await item.hover();
  await item.locator('a[aria-label="Open Experiments Table"]').click();
  const view = webview(page);
  const count = view.locator('#count');
  await count.filter({ hasText: /^30 of 30 runs$/ }).waitFor({ timeout: 60_000 });
  return { view, count };
}

void describe('experiments table in code-server', { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    const b = await startBackend(home);
    // 30 runs: lr cycles 0.1, 0.01, 0.001, so a filter on lr keeps 10.
    experimentId = (await seedExperiment(b.api, 'sweep', 30, 5)).experimentId;
    await b.stop();
    wb = await openWorkbench('table', workspace);
  });
  after(async () => {
    await wb?.close();
  });

  void it('opens from the experiment item, filters with MLflow syntax (errors inline), sorts, selects two runs and compares them', T, async () => {
    const { page } = wb;
    await runningBackend(home);
    const { view, count } = await openFromItem();
    assert.equal(await view.locator('#title').innerText(), 'Runs: sweep');
    const header = await view.locator('#grid .xt-head').innerText();
    for (const c of ['Run', 'Status', 'Started', 'accuracy', 'loss', 'depth', 'lr', 'optimizer']) assert.ok(header.includes(c), `column ${c} in ${header}`);

    // A malformed filter: the backend's 400 message under the input, the rows stay.
    const filter = view.locator('#filter input');
    await filter.fill('metrics.loss <');
    await filter.press('Enter');
    const err = await waitFor('the filter error inline', async () => (await view.locator('#filter-error').innerText()).trim() || undefined);
    const api = JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as Api;
    const direct = await fetch(`${api.url}/api/v1/ui/runs/table`, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ experiment_ids: [experimentId], filter: 'metrics.loss <' }) });
    assert.equal(direct.status, 400);
    assert.equal(err, ((await direct.json()) as { message: string }).message, 'the message is the backend’s');
    assert.match(await count.innerText(), /^30 runs/);

    await filter.fill("params.lr = '0.01'");
    await filter.press('Enter');
    await count.filter({ hasText: /^10 of 10 runs$/ }).waitFor({ timeout: 30_000 });
    assert.equal((await view.locator('#filter-error').innerText()).trim(), '');

    // Sort by accuracy, ascending (all rows are loaded: sorted in the webview); the server's order is the same.
    await view.locator('.xt-sort[data-sort="metrics.accuracy"]').click();
    await view.locator('[role=columnheader][aria-sort=ascending] .xt-sort[data-sort="metrics.accuracy"]').waitFor();
    const names = await view.locator('#grid .xt-body .xt-row .run-link').allInnerTexts();
    const server = await call<UiTablePage>(api, 'POST', '/api/v1/ui/runs/table', { experiment_ids: [experimentId], filter: "params.lr = '0.01'", order_by: ['metrics.accuracy ASC'] });
    assert.deepEqual(names, server.runs.map((r) => r.name));
    assert.equal(names.length, 10);

    // Both plots drew the 10 filtered runs.
    assert.equal(await view.locator('#parallel').getAttribute('data-lines'), '10');
    assert.equal(await view.locator('#scatter').getAttribute('data-points'), '10');

    // Select the two best-sorted-first runs (a checkbox and the keyboard), then Compare.
    await view.locator('#grid .xt-body .xt-row').nth(0).locator('input[type=checkbox]').check();
    await view.locator('#grid').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    await view.locator('#grid .xt-row[aria-selected=true]').nth(1).waitFor();
    await waitFor('Compare enabled', async () => (await view.locator('#compare').getAttribute('disabled')) === null);
    await wb.screenshot('table');
    const log = await waitFor('first paint logged', () => /\[table\] (?:first paint|all rows) (\d+) ms after the query.*?: (\d+) runs × (\d+) columns/.exec(wb.outputLog()));
    assert.equal(log[2], '30');
    await view.locator('#compare').click();
    const cmp = webview(page);
    await cmp.locator('#title', { hasText: 'Comparing 2 runs' }).waitFor({ timeout: 60_000 });
    const compared = await cmp.locator('.row[data-run] .run-link').allInnerTexts();
    assert.deepEqual([...compared].sort(), [...names.slice(0, 2)].sort());
    await wb.screenshot('table-compare');
  });

  void it("opens from the item's context menu; the column chooser drops a column; the plots follow a theme change", T, async () => {
    const { page } = wb;
    await resetUi(page);
    await showPanes(page, 'Experiments');
    const item = page.getByRole('treeitem', { name: /^sweep 30 runs/ });
    await item.waitFor({ timeout: 60_000 });
    const view = webview(page);
    await contextMenu(page, item, 'Open Experiments Table', () => view.locator('#count').isVisible(), 60_000);
    await view.locator('#count', { hasText: /^30 of 30 runs$/ }).waitFor({ timeout: 60_000 });
    // The filter typed in the first test was saved only in that panel's state: a new panel starts unfiltered.
    await view.locator('#columns summary').click();
    await view.locator('#columns input[data-column="params.depth"]').uncheck();
    await waitFor('the depth column gone', async () => (await view.locator('.xt-sort[data-sort="params.depth"]').count()) === 0);
    await view.locator('#count', { hasText: /^30 of 30 runs$/ }).waitFor({ timeout: 30_000 });
    assert.equal(await view.locator('.xt-sort[data-sort="params.lr"]').count(), 1);
    assert.match(await view.locator('#columns summary').innerText(), /Columns \(4 of 7\)/);
    await view.locator('#parallel[data-theme="vscode-light"]').waitFor({ timeout: 30_000 });
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Dark Modern$/);
    await view.locator('#parallel[data-theme="vscode-dark"]').waitFor({ timeout: 30_000 });
    await wb.screenshot('table-dark');
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Light Modern$/);
    await view.locator('#parallel[data-theme="vscode-light"]').waitFor({ timeout: 30_000 });
  });

  void it('follows runs logged while it is open: the count and rows change, the filter, sort, selection and a new metric column hold', T, async () => {
    const api = await runningBackend(home);
    const { view, count } = await openFromItem();
    const filter = view.locator('#filter input');
    await filter.fill("params.lr = '0.01'");
    await filter.press('Enter');
    await count.filter({ hasText: /^10 of 10 runs$/ }).waitFor({ timeout: 30_000 });
    await view.locator('.xt-sort[data-sort="metrics.accuracy"]').click();
    const ascending = view.locator('[role=columnheader][aria-sort=ascending] .xt-sort[data-sort="metrics.accuracy"]');
    await ascending.waitFor();
    const first = view.locator('#grid .xt-body .xt-row').nth(0);
    const selectedRun = await first.getAttribute('data-run');
    await first.locator('input[type=checkbox]').check();

    // A run logged through the API into the filter's slice, with accuracy lower than all (so first) and a new metric.
    const log = async (lr: string, accuracy: number) => {
      const { run } = await call<{ run: { info: { run_id: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: `live-${lr}` });
      await call(api, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run.info.run_id, params: [{ key: 'lr', value: lr }], metrics: [{ key: 'accuracy', value: accuracy, timestamp: Date.now(), step: 0 }, { key: 'f1', value: 0.5, timestamp: Date.now(), step: 0 }] });
      return run.info.run_id;
    };
    const refreshes = () => (wb.outputLog().match(/\[table\] refreshed/g) ?? []).length;
    const before = refreshes();
    const liveId = await log('0.01', -1);
    await count.filter({ hasText: /^11 of 11 runs$/ }).waitFor({ timeout: 60_000 });
    assert.equal(await view.locator('#grid .xt-body .xt-row').nth(0).getAttribute('data-run'), liveId, 'sorted by accuracy, the new run is first');
    assert.equal(await filter.inputValue(), "params.lr = '0.01'");
    assert.equal(await ascending.count(), 1, 'the sort holds');
    assert.equal(await view.locator(`#grid .xt-row[data-run="${selectedRun}"]`).getAttribute('aria-selected'), 'true', 'the selection holds');
    await view.locator('.xt-sort[data-sort="metrics.f1"]').waitFor({ timeout: 30_000 });
    await waitFor('the refresh logged', () => refreshes() > before);
    await wb.screenshot('table-live');

    // A run outside the filter: the table asks again, and still shows 11.
    const seen = refreshes();
    await log('0.1', 0.5);
    await waitFor('the second refresh logged', () => refreshes() > seen, 60_000);
    assert.equal(await count.innerText(), '11 of 11 runs');
  });
});
