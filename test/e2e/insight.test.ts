import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier, mlmodelYaml } from '../fixtures/onnx/models';
import { openWorkbench, OUT, runningBackend, webview, type Workbench } from './harness';
import { call, score as scoreRows, seedModel, upload, type Api } from './seed';
import { choose, contextMenu, expand, quickPlaceholder, quickRowTexts, resetUi, runCommand, showPanes, waitFor, waitServing } from './ui';

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

    // code-server starts in Light Modern: switch to Dark Modern while the report is open; every chart is drawn again.
    const colour = () => section.locator('canvas[data-chart="distribution"]').first().getAttribute('data-color');
    const before = await colour();
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Dark Modern$/);
    await waitFor('the charts redrawn in the dark theme colour', async () => (await colour()) !== before);
    await waitFor('the host told of the redraw', () => /\[drift\] insight rendered 8 charts \(vscode-dark\)/.test(wb.outputLog()));
    await wb.screenshot('drift-history-dark');
    await runCommand(page, 'Preferences: Color Theme');
    await choose(page, /^Light Modern$/);
    await waitFor('the light theme back', async () => (await colour()) === before);
  });

  void it('clicking a version in the Models view opens its model card: metrics, signature, profile, lineage, gate, alias and deployment history', T, async () => {
    const { page } = wb;
    const api = await backend();
    // insight-clf/2 from a run with metrics, a dataset, lineage and an MLmodel with a signature; a gate on accuracy.
    const { run } = await call<{ run: { info: { run_id: string; artifact_uri: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'card-run' });
    const id = run.info.run_id;
    await call(api, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'accuracy', value: 0.96, timestamp: Date.now(), step: 0 }, { key: 'f1', value: 0.95, timestamp: Date.now(), step: 0 }] });
    await call(api, 'POST', '/api/2.0/mlflow/runs/log-inputs', { run_id: id, datasets: [{ dataset: { name: 'iris.csv', digest: 'd41d8cd9', source_type: 'local', source: 'data/iris.csv' } }] });
    await call(api, 'PUT', `/api/v1/runs/${id}/lineage`, { code_commit: '3f2a9c1e7b', code_dirty: false, image_digest: 'sha256:9b1e4c', command: 'python train.py' });
    await upload(api, run.info.artifact_uri, 'model/MLmodel', mlmodelYaml());
    await upload(api, run.info.artifact_uri, 'model/model.onnx', linearClassifier(CHAMPION));
    await upload(api, run.info.artifact_uri, 'model/reference_data.csv', `${FEATURES.join(',')}\n${sampleRows(800, 2).map((r) => r.join(',')).join('\n')}\n`);
    await call(api, 'POST', '/api/2.0/mlflow/runs/update', { run_id: id, status: 'FINISHED', end_time: Date.now() });
    const mv = await call<{ model_version: { version: string } }>(api, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'insight-clf', source: `runs:/${id}/model`, run_id: id });
    assert.equal(mv.model_version.version, '2');
    await call(api, 'PUT', '/api/v1/models/insight-clf/gates', { metrics: [{ metric: 'accuracy', op: '>=', value: 0.9 }] });
    await call(api, 'POST', '/api/v1/models/insight-clf/aliases', { alias: 'champion', version: '2', reason: 'best offline accuracy' });
    await call(api, 'POST', '/endpoints/insight-card/deploy', { model: 'insight-clf/2', strategy: 'replace' });
    await waitServing(() => api, 'insight-card', 'insight-clf/2');

    await showPanes(page, 'Models');
    await expand(page, /^insight-clf/);
    await page.getByRole('treeitem', { name: /^Version 2 @champion/ }).click();
    const view = webview(page);
    await view.locator('#title', { hasText: 'Model card: insight-clf version 2' }).waitFor({ timeout: 60_000 });
    const rows = async (tid: string) => (await view.locator(`#${tid} tbody tr`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert.deepEqual(await rows('metrics'), ['accuracy 0.96', 'f1 0.95']);
    assert.deepEqual(await rows('inputs'), FEATURES.map((f) => `${f} double required`));
    assert.deepEqual(await rows('outputs'), ['label long required']);
    await waitFor('the training profile', async () => /Training data: .*reference_data\.csv · 800 rows/.test(await view.locator('#profile-source').innerText()));
    assert.deepEqual((await rows('profile')).map((r) => r.split(' ').slice(0, 3).join(' ')), FEATURES.map((f) => `${f} numeric 800`));
    const lineage = (await rows('lineage')).join('\n');
    for (const s of [`card-run (${id})`, 'Commit 3f2a9c1e7b', 'Image sha256:9b1e4c', 'Data: iris.csv d41d8cd9']) assert.ok(lineage.includes(s), `lineage has ${s}:\n${lineage}`);
    assert.match(await view.locator('#gate').innerText(), /Gate passed/);
    assert.match((await rows('aliases')).join('\n'), /@champion set to version 2 set \S+ best offline accuracy/);
    assert.match((await rows('deployments')).join('\n'), /insight-card nothing → insight-clf\/2 100% deploy/);
    await page.locator('.tabs-container .tab', { hasText: 'Model insight-clf v2' }).waitFor();
    assert.equal(await page.locator('.tabs-container .tab.dirty').count(), 0);
    await wb.screenshot('model-card');
    await view.locator('#deployments').scrollIntoViewIfNeeded();
    await wb.screenshot('model-card-history');
  });

  void it("Open Model Card from the palette (model, then version) and from a version's context menu opens that version's card", T, async () => {
    const { page } = wb;
    const api = await backend();
    // card-menu/1 and /2 from two runs with different accuracy, each with its own alias (set with a reason: audited).
    const runIds: string[] = [];
    for (const [i, accuracy] of [0.91, 0.93].entries()) {
      const { run } = await call<{ run: { info: { run_id: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: `card-menu-run-${i + 1}` });
      await call(api, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run.info.run_id, metrics: [{ key: 'accuracy', value: accuracy, timestamp: Date.now(), step: 0 }] });
      runIds.push(run.info.run_id);
    }
    await seedModel(api, 'card-menu', runIds);
    await call(api, 'POST', '/api/v1/models/card-menu/aliases', { alias: 'baseline', version: '1', reason: 'first fit' });
    await call(api, 'POST', '/api/v1/models/card-menu/aliases', { alias: 'challenger', version: '2', reason: 'higher accuracy' });
    const view = webview(page);
    const rows = async (tid: string) => (await view.locator(`#${tid} tbody tr`).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    const badges = async () => (await view.locator('.toolbar vscode-badge').allInnerTexts()).map((t) => t.trim());

    // Palette: the model, then the version (newest first, each with its aliases).
    await runCommand(page, 'MLOps: Open Model Card');
    await quickPlaceholder(page, /Model whose card to open/);
    await choose(page, /^card-menu$/);
    await quickPlaceholder(page, /card-menu: which version\?/);
    const versions = await waitFor('the versions offered', async () => ((r) => (r.length === 2 ? r : undefined))(await quickRowTexts(page)));
    assert.deepEqual(versions.map((v) => v.replace(/ · no ONNX model$/, '')), ['Version 2 @challenger', 'Version 1 @baseline']);
    await choose(page, /^Version 2$/);
    await view.locator('#title', { hasText: 'Model card: card-menu version 2' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(await rows('metrics'), ['accuracy 0.93']);
    assert.deepEqual(await badges(), ['@challenger']);
    assert.match((await rows('aliases')).join('\n'), /@challenger set to version 2 set \S+ higher accuracy/);
    await page.locator('.tabs-container .tab', { hasText: 'Model card-menu v2' }).waitFor();
    await wb.screenshot('model-card-palette');

    // The Models view: Open Model Card in version 1's context menu.
    await showPanes(page, 'Models');
    await expand(page, /^card-menu/);
    const v1 = page.getByRole('treeitem', { name: /^Version 1 @baseline/ }).first();
    await v1.waitFor({ timeout: 60_000 });
    const title1 = view.locator('#title', { hasText: 'Model card: card-menu version 1' });
    await contextMenu(page, v1, 'Open Model Card', () => title1.isVisible());
    assert.deepEqual(await rows('metrics'), ['accuracy 0.91']);
    assert.deepEqual(await badges(), ['@baseline']);
    assert.match((await rows('aliases')).join('\n'), /@baseline set to version 1 set \S+ first fit/);
    // One tab per version: both cards are open.
    for (const tab of ['Model card-menu v1', 'Model card-menu v2']) await page.locator('.tabs-container .tab', { hasText: tab }).waitFor();
    await wb.screenshot('model-card-context-menu');
  });

  void it('the A/B page draws the difference over time with its fixed-n interval and the always-valid sequence', T, async () => {
    const { page } = wb;
    const api = await backend();
    await call(api, 'POST', '/endpoints/insight-ab/deploy', { model: 'insight-clf/1', strategy: 'replace' });
    await waitServing(() => api, 'insight-ab', 'insight-clf/1');
    await call(api, 'POST', '/endpoints/insight-ab/deploy', { model: 'insight-clf/2', strategy: 'ab', weight: 50 });
    // One-row labelled requests, half to each arm: both arms are the same classifier, so no difference is real.
    const feedback: { request_id: string; label: number }[] = [];
    for (const [i, row] of sampleRows(240, 9).entries()) {
      const r = await fetch(`${api.url}/endpoints/insight-ab/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json', 'x-request-id': `ab${i}` },
        body: JSON.stringify({ dataframe_split: { columns: [...FEATURES], data: [row] } }),
      });
      assert.equal(r.status, 200);
      feedback.push({ request_id: `ab${i}`, label: i % 5 === 0 ? 0 : 1 });
    }
    await call(api, 'POST', '/endpoints/insight-ab/feedback', { feedback });
    await runCommand(page, 'MLOps: Show A/B Results');
    await choose(page, /^insight-ab$/);
    const view = webview(page);
    await view.locator('h2', { hasText: 'A/B results: insight-ab' }).waitFor({ timeout: 60_000 });
    await waitFor('the sequence charts', async () => (await view.locator('#sequences canvas[data-kind="sequence"]').count()) === 2, 60_000);
    const charts = await view.locator('#sequences canvas').evaluateAll((cs) => cs.map((c) => [(c as HTMLElement).dataset.metric, Number((c as HTMLElement).dataset.points) > 10]));
    assert.deepEqual(charts, [['accuracy', true], ['latency_ms', true]]);
    assert.match(await view.locator('[data-role="sequence-summary"]').first().innerText(), /^insight-clf\/2 − insight-clf\/1: .* \(95 % CI .* always-valid .* p = .*\) after \d+ \+ \d+ observations\. The always-valid sequence still contains 0/);
    // The page may have been drawn again meanwhile (a reload answers every ready): scroll whatever is there now.
    await view.locator('body').evaluate(() => document.getElementById('sequences')?.scrollIntoView());
    await wb.screenshot('ab-sequence');
  });
});
