import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { IncidentView } from '../../backend/src/api/v1/contract-monitors';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { seedReport } from '../fixtures/report';
import { openWorkbench, OUT, runningBackend, webview, type Workbench } from './harness';
import { call, type Api } from './seed';
import { answerInput, contextMenu, inputAsks, notification, resetUi, runCommand, showPanes, waitFor, waitServing } from './ui';

const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');

const workspace = join(OUT, 'e2e-retrain-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const T = { timeout: 240_000 };

void describe('Report and retrains in code-server', { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    const core = openCore(home);
    // The report's known history (test/fixtures/report.ts): 4 deployments in 30 days, 80 % automated retrains, …
    seedReport(core.db, Date.now());
    registerOnnxModel(core, 'watch', linearClassifier(CHAMPION));
    core.db.close();
    wb = await openWorkbench('retrain', workspace);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await runningBackend(home);
    await resetUi(wb.page);
  });

  void it('MLOps: Show Report renders every figure from the store with how it is computed, and a window change asks again', T, async () => {
    const { page } = wb;
    await runCommand(page, 'MLOps: Show Report');
    const view = webview(page);
    const row = (id: string) => view.locator(`tr[data-figure="${id}"]`);
    await row('deployments_per_month').waitFor({ timeout: 60_000 });
    assert.match(await row('deployments_per_month').innerText(), /4\.0 a month \(4 in 30 days\)[\s\S]*endpoint\.deploy events in the audit log/);
    assert.match(await row('retrains_automated').innerText(), /80\.0 % \(4 of 5/);
    assert.match(await row('drift_to_fix').innerText(), /median 40 min from onset to incident, 60 min from incident to fix/);
    assert.match(await row('rollbacks').innerText(), /2 rollback\(s\)/);
    assert.equal(await view.locator('tr[data-figure]').count(), 8);
    assert.equal(await view.locator('#deployments canvas').count(), 1);
    await wb.screenshot('report');
    // The seeded records are valid ones: the other views read them without an error.
    assert.equal(await page.getByText(/Could not load/).count(), 0);
    // 7 days take in two deployments (1 and 2 days ago) and the guardrail's rollback.
    await view.locator('#since').selectOption('7d');
    await waitFor('the 7-day report', async () => /8\.6 a month \(2 in 7 days\)/.test(await row('deployments_per_month').innerText().catch(() => '')), 60_000).catch(async (e: unknown) => {
      await wb.screenshot('report-7d-failed');
      throw new Error(`${(e as Error).message}: ${await row('deployments_per_month').innerText().catch((x: unknown) => String(x))}`);
    });
    assert.match(await row('rollbacks').innerText(), /^Rollbacks\s+1 rollback\(s\) \(1 by a guardrail\); the version rolled back served a median 30 min/);
  });

  void it("Retrain Now on an incident (Monitors view menu) starts a manual retrain with the incident as evidence; the Retrains view follows it; Cancel Retrain; Retrain Now on a model and on the incident's notification", T, async () => {
    const { page } = wb;
    const api: Api = await runningBackend(home);
    await call(api, 'POST', '/endpoints/watch/deploy', { model: 'watch/1', strategy: 'replace' });
    await waitServing(() => api, 'watch', 'watch/1');
    // Labelled traffic for the retrain's data step: one row a request, each with its feedback label.
    const feedback: { request_id: string; label: number }[] = [];
    for (const row of sampleRows(200, 11)) {
      const r = await fetch(`${api.url}/endpoints/watch/invocations`, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: [row] } }) });
      assert.equal(r.status, 200);
      feedback.push({ request_id: r.headers.get('x-request-id')!, label: row[1]! > 1.5 ? 1 : 0 });
    }
    await call(api, 'POST', '/endpoints/watch/feedback', { feedback });
    const file = join(workspace, 'mlops.yaml');
    writeFileSync(file, `name: watch\nparams: { data: "" }\nsteps:\n  train:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]\n    env: { TRAIN_CSV: "\${{ params.data }}" }\n    outputs: [model.onnx]\n    cache: false\n`);
    // Its own incident triggers are off: only Retrain Now starts this retrain.
    await call(api, 'PUT', '/api/v1/retrain/policies', { model: 'watch', endpoint: 'watch', pipeline: file, triggers: { on_drift: false, on_performance: false }, rollout: { strategy: 'shadow' } });
    // Every request takes more than 0 ms: an SLO of 0 ms opens an incident at the first check.
    await call(api, 'PATCH', '/api/v1/monitors/watch/performance', { max_p99_ms: 0, min_rows: 5, failure_limit: 1 });
    const run = await call<{ incident: IncidentView | null }>(api, 'POST', '/api/v1/monitors/watch/performance/run');
    assert.ok(run.incident, 'the failing check opened an incident');
    const id = run.incident.id;

    await showPanes(page, 'Monitors', 'Retrains');
    const item = page.getByRole('treeitem', { name: new RegExp(`^#${id} Performance · watch`) });
    await item.waitFor({ timeout: 60_000 });
    const retrains = async () => (await call<{ retrains: RetrainView[] }>(api, 'GET', '/api/v1/retrains?model=watch')).retrains;
    await contextMenu(page, item, 'Retrain Now', async () => (await retrains()).length > 0);

    // The ledger has it at once; the view shows it, then follows it through training to the challenger's rollout.
    const [retrain] = await retrains();
    assert.ok(retrain);
    assert.equal((await retrains()).length, 1, 'one click, one retrain');
    assert.equal(retrain.trigger, 'manual');
    assert.equal(retrain.incident_id, String(id));
    assert.equal(retrain.evidence.kind, 'performance');
    const row = page.getByRole('treeitem', { name: new RegExp(`^#${retrain.id} watch`) });
    await row.waitFor({ timeout: 60_000 });
    await waitFor('the Retrains view to show the challenger rolling out', async () => new RegExp(`^#${retrain.id} watch/2 · watch\\s*rolling out · manual · incident #${id} · better`).test(await row.innerText().catch(() => '')), 120_000).catch(async (e: unknown) => {
      await wb.screenshot('retrain-view-failed');
      throw new Error(`${(e as Error).message}: ${await row.innerText().catch((x: unknown) => String(x))}`);
    });
    await wb.screenshot('retrains-view');

    // Cancel Retrain (the row's menu) asks why and takes the challenger off: the row says cancelled.
    const why = new RegExp(`Why cancel retrain #${retrain.id}`);
    await contextMenu(page, row, 'Cancel Retrain', () => inputAsks(page, why));
    await answerInput(page, why, 'checked by hand instead');
    await waitFor('the row to say cancelled', async () => /watch\s*cancelled · manual/.test(await row.innerText().catch(() => '')), 60_000);
    const cancelled = await call<RetrainView>(api, 'GET', `/api/v1/retrains/${retrain.id}`);
    assert.equal(cancelled.status, 'cancelled');
    assert.match(cancelled.reason, /checked by hand instead/);

    // Retrain Now on the model (Models view): its policy, no incident; the new retrain shows up in the view.
    await showPanes(page, 'Models', 'Retrains');
    await contextMenu(page, page.getByRole('treeitem', { name: /^watch/ }).first(), 'Retrain Now', async () => (await retrains()).length > 1);
    const next = (await retrains()).find((x) => x.id !== retrain.id)!;
    assert.equal(next.trigger, 'manual');
    assert.equal(next.incident_id, null);
    await page.getByRole('treeitem', { name: new RegExp(`^#${next.id} watch`) }).waitFor({ timeout: 60_000 });

    // The incident's notification offers Retrain Now too. One retrain runs at a time and an incident starts one retrain:
    // the model's retrain ends and the first incident is resolved, so the next failing check opens a new one.
    await call(api, 'POST', `/api/v1/retrains/${next.id}/cancel`, { reason: 'making room for the next test step' });
    await call(api, 'POST', `/api/v1/incidents/${id}/resolve`, { reason: 'the retrain was cancelled' });
    const again = await call<{ incident: IncidentView | null }>(api, 'POST', '/api/v1/monitors/watch/performance/run');
    assert.ok(again.incident && again.incident.id !== id, 'the failing check opened a new incident');
    const note = await notification(page, new RegExp(`Performance SLO breach on watch \\(incident #${again.incident.id},`), 60_000);
    await note.locator('.monaco-button', { hasText: 'Retrain Now' }).click();
    const third = await waitFor('the retrain started from the notification', async () => (await retrains()).find((x) => x.incident_id === String(again.incident!.id)), 60_000);
    assert.equal(third.trigger, 'manual');
    assert.equal(third.evidence.kind, 'performance');
    assert.equal((await retrains()).length, 3, 'one click, one retrain');
    await page.getByRole('treeitem', { name: new RegExp(`^#${third.id} watch`) }).waitFor({ timeout: 60_000 });
  });
});
