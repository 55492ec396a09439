import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { openWorkbench, OUT, runningBackend, webview, type Workbench } from './harness';
import { call, score as scoreRows, type Api } from './seed';
import { choose, resetUi, runCommand, waitFor, waitServing } from './ui';

/** The drift report's charts and the model card, in code-server, over data seeded through the real backend. */
const workspace = join(OUT, 'e2e-insight-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);


const score = (api: Api, endpoint: string, rows: number[][]) => scoreRows(api, endpoint, FEATURES, rows);

const T = { timeout: 300_000 };

void describe('drift report charts and model card in code-server', { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    // insight-clf/1 with its training data beside the model: the backend profiles it at registration.
    const core = openCore(home);
    const v = registerOnnxModel(core, 'insight-clf', linearClassifier(CHAMPION));
    const dir = core.artifacts.resolve(core.registry.getVersion('insight-clf', v).storage_location!.replace('mlflow-artifacts:/', ''));
    writeFileSync(join(dir, 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(2000, 11).map((r) => r.join(',')).join('\n')}\n`);
    core.db.close();
    wb = await openWorkbench('insight', workspace);
  });
  after(async () => {
    await wb?.close();
  });
  beforeEach(async () => {
    await backend();
    await resetUi(wb.page);
  });

  void it('the drift report draws reference vs current per feature and each feature’s stored checks against its threshold', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/insight/deploy', { model: 'insight-clf/1', strategy: 'replace' });
    await waitServing(() => api, 'insight', 'insight-clf/1');
    await call(api, 'PATCH', '/api/v1/monitors/insight/data_drift', { min_rows: 100, window_rows: 300 });
    // Two stored checks: one on traffic like the training data, one after sepal_length and petal_width moved by +1.
    await score(api, 'insight', sampleRows(300, 5));
    assert.equal((await call<{ result: { status: string } }>(api, 'POST', '/api/v1/monitors/insight/data_drift/run')).result.status, 'pass');
    await score(api, 'insight', sampleRows(300, 6).map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]! + 1]));
    assert.equal((await call<{ result: { status: string } }>(api, 'POST', '/api/v1/monitors/insight/data_drift/run')).result.status, 'fail');

    await runCommand(page, 'MLOps: Show Drift Report');
    await choose(page, /^insight$/);
    const view = webview(page);
    await view.locator('h2', { hasText: 'Drift report: insight' }).waitFor({ timeout: 60_000 });
    const section = view.locator('section[data-variant="insight-clf/1"]');
    await waitFor('a distribution chart per feature', async () => (await section.locator('canvas[data-chart="distribution"][data-kind="histogram"]').count()) === 4, 60_000);
    const features = await section.locator('canvas[data-chart="distribution"]').evaluateAll((cs) => cs.map((c) => (c as HTMLElement).dataset.feature));
    assert.deepEqual(features, [...FEATURES]);
    const card = section.locator('.chart-card', { has: view.locator('canvas[data-feature="sepal_length"][data-chart="distribution"]') });
    assert.match(await card.innerText(), /sepal_length · (high|medium)[\s\S]*reference 2000 rows \(every value kept\) · current 600 rows[\s\S]*thresholds: PSI > [\d.]+ · KS p < 0\.05/);
    const history = await section.locator('canvas[data-chart="history"]').evaluateAll((cs) => cs.map((c) => [(c as HTMLElement).dataset.feature, (c as HTMLElement).dataset.points]));
    assert.deepEqual(history, FEATURES.map((f) => [f, '2']));
    assert.match(await section.locator('[data-role="history-summary"]').innerText(), /^2 checks from .* dataset drift in 1\./);
    await waitFor('the host told of the drawing', () => /\[drift\] insight rendered 8 charts/.test(wb.outputLog()));
    await wb.screenshot('drift-report');
    await section.locator('[data-role="history"]').scrollIntoViewIfNeeded();
    await wb.screenshot('drift-history');
  });
});
