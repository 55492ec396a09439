import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openCore } from '../../backend/src/core';
import { seedReport } from '../fixtures/report';
import { openWorkbench, OUT, runningBackend, webview, type Workbench } from './harness';
import { resetUi, runCommand, waitFor } from './ui';

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
});
