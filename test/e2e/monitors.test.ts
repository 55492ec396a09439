import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openWorkbench, OUT, type Workbench, runningBackend } from './harness';
import { openCore } from '../../backend/src/core';
import type { IncidentView, MonitorView } from '../../backend/src/api/v1/contract-monitors';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { call, score as scoreRows, type Api } from './seed';
import { answerInput, choose, expand, notification, resetUi, runCommand, showPanes, waitFor, waitServing } from './ui';

const workspace = join(OUT, 'e2e-monitors-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);


const score = (api: Api, endpoint: string, rows: number[][]) => scoreRows(api, endpoint, FEATURES, rows, 5);

const T = { timeout: 240_000 };

void describe('Monitors view in code-server', { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    const core = openCore(home);
    registerOnnxModel(core, 'watch-onnx', linearClassifier(CHAMPION));
    core.db.close();
    wb = await openWorkbench('monitors', workspace);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await backend();
    await resetUi(wb.page);
  });

  void it('an incident notifies, shows on top, is acknowledged from the notification and resolved from the palette; the view follows background checks', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/watch-onnx/deploy', { model: 'watch-onnx/1', strategy: 'replace' });
    await waitServing(() => api, 'watch-onnx', 'watch-onnx/1');
    // Every request takes more than 0 ms: an SLO of 0 ms fails at the first check and opens a critical incident.
    await call(api, 'PATCH', '/api/v1/monitors/watch-onnx/performance', { max_p99_ms: 0, min_rows: 5, failure_limit: 1 });
    await score(api, 'watch-onnx', sampleRows(50, 4));
    const run = await call<{ incident: IncidentView | null }>(api, 'POST', '/api/v1/monitors/watch-onnx/performance/run');
    assert.ok(run.incident, 'the failing check opened an incident');
    const id = run.incident.id;

    await showPanes(page, 'Monitors');
    const item = page.getByRole('treeitem', { name: new RegExp(`^#${id} Performance · watch-onnx`) });
    await item.waitFor({ timeout: 60_000 });
    assert.match(await item.innerText(), /critical · open since/);
    await wb.screenshot('monitors-incident');

    // The incident raised a notification (kept in the notification centre) whose Acknowledge asks why.
    const note = await notification(page, new RegExp(`Performance SLO breach on watch-onnx \\(incident #${id}, critical\\)`), 60_000);
    await note.locator('.monaco-button', { hasText: 'Open Report' }).waitFor();
    await note.locator('.monaco-button', { hasText: 'Acknowledge' }).click();
    await answerInput(page, /Why acknowledge incident/, 'the new disk is slower; investigating');
    await waitFor('the incident acknowledged in the tree', async () => /critical · acknowledged since/.test(await item.innerText().catch(() => '')), 60_000);
    const after = await call<IncidentView>(api, 'GET', `/api/v1/incidents/${id}`);
    assert.equal(after.status, 'acknowledged');
    assert.equal(after.ack_reason, 'the new disk is slower; investigating');

    // A background check (every 3 s here) changes the monitor's row with no manual refresh: the tree follows events.
    await call<MonitorView>(api, 'PATCH', '/api/v1/monitors/watch-onnx/data_drift', { interval_minutes: 0.05 });
    await expand(page, /^watch-onnx/);
    const dd = page.getByRole('treeitem', { name: /^Data drift/ });
    await dd.waitFor({ timeout: 60_000 });
    await waitFor('the data-drift row shows its first result', async () => /insufficient data · next in/.test(await dd.innerText().catch(() => '')), 90_000);
    await wb.screenshot('monitors-tree');

    // The evidence opens as a read-only document.
    await item.click();
    const editor = page.locator('.editor-instance .view-lines');
    await waitFor('the incident document', async () => /Incident\s#\d+:\sperformance\son\swatch-onnx/.test(await editor.innerText().catch(() => '')), 60_000).catch(async (e: unknown) => {
      await wb.screenshot('monitors-evidence-failed');
      throw e;
    });
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0);

    // Resolved by hand from the palette, with a reason: it leaves the top of the view.
    await runCommand(page, 'MLOps: Resolve Incident');
    await choose(page, new RegExp(`^#${id} performance · watch-onnx`));
    await answerInput(page, /Why resolve incident/, 'disk replaced');
    await item.waitFor({ state: 'detached', timeout: 60_000 });
    assert.equal((await call<IncidentView>(api, 'GET', `/api/v1/incidents/${id}`)).resolve_reason, 'disk replaced');
  });
});
