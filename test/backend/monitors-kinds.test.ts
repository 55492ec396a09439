import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { IncidentView, MonitorResultView } from '../../backend/src/api/v1/contract-monitors';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { labelledSinceSql, newestSql } from '../../backend/src/services/monitors/reads';

type Check = { result: MonitorResultView; incident: IncidentView | null };

async function call<T>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** One request per row; each gets a feedback label: the prediction itself (right) or the other class (wrong). */
async function serve(app: App, rows: number[][], label: 'right' | 'wrong' | null): Promise<number[]> {
  const predictions: number[] = [];
  const feedback: { request_id: string; label: number }[] = [];
  for (const row of rows) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: [row] } } });
    assert.equal(r.statusCode, 200, r.body);
    const p = Number((JSON.parse(r.body) as { predictions: unknown[] }).predictions.flat()[0]);
    predictions.push(p);
    if (label) feedback.push({ request_id: r.headers['x-request-id'] as string, label: label === 'right' ? p : 1 - p });
  }
  if (feedback.length) assert.equal((await call(app, 'POST', '/endpoints/iris/feedback', { feedback })).status, 200);
  return predictions;
}

const run = async (app: App, kind: string) => (await call<Check>(app, 'POST', `/api/v1/monitors/iris/${kind}/run`)).body;

/** ml_model_accuracy of iris version 1 on endpoint iris, as /metrics shows it. */
async function scrapedAccuracy(app: App): Promise<number> {
  const m = await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH });
  const hit = /ml_model_accuracy\{model_name="iris",model_version="1",data_segment="endpoint:iris"\} ([\d.e-]+)/.exec(m.body);
  assert.ok(hit, m.body.split('\n').filter((l) => l.includes('ml_model_accuracy')).join('\n'));
  return Number(hit[1]);
}

void test('concept drift (ADWIN over label flips), accuracy against the run metric, and prediction drift', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-kinds-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const app = await buildApp({ home, token: TOKEN, clock: new VirtualClock() });
  t.after(() => app.server.close());
  await app.server.ready();

  // The version's run says it validated at 0.95 accuracy: the performance monitor holds it to 0.95 × (1 - 5 %).
  const r = app.ctx.tracking.runs.create({ experimentId: '0', runName: 'train' });
  app.ctx.tracking.runs.logBatch(r.info.run_id, [{ key: 'val_accuracy', value: 0.95, timestamp: Date.now(), step: 0 }], [], []);
  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION), { runId: r.info.run_id });
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  for (const [kind, cfg] of [
    ['concept_drift', { window_rows: 1000, min_rows: 100 }],
    ['performance', { window_rows: 1000, min_rows: 100, max_p99_ms: 60_000, max_error_rate: 0.5 }],
    ['prediction_drift', { window_rows: 200, min_rows: 100 }],
  ] as const) {
    assert.equal((await call(app, 'PATCH', `/api/v1/monitors/iris/${kind}`, cfg)).status, 200);
  }

  // The labelled rows are read through their partial index, not by scanning the endpoint's whole log.
  const plan = app.ctx.db.prepare(`EXPLAIN QUERY PLAN ${newestSql(true)}`).all('iris', 'iris', 1, 0, 10) as { detail: string }[];
  assert.match(plan.map((p) => p.detail).join('; '), /USING INDEX prediction_log_labelled/);
  assert.equal((await run(app, 'concept_drift')).result.status, 'insufficient_data', 'no labels yet');
  const preds = await serve(app, sampleRows(300, 21), 'right');
  assert.ok(preds.includes(0) && preds.includes(1), 'both classes served');

  const calm = await run(app, 'concept_drift');
  assert.equal(calm.result.status, 'pass', calm.result.summary);
  const ok = await run(app, 'performance');
  assert.equal(ok.result.status, 'pass', ok.result.summary);
  assert.match(ok.result.summary, /accuracy 100\.0% over 300 labelled rows vs val_accuracy 95\.0% \(floor 90\.3%\)/);
  const same = await run(app, 'prediction_drift');
  assert.equal(same.result.status, 'pass', same.result.summary);
  assert.match(same.result.summary, /over 100 requests against the first 200/);

  assert.equal(await scrapedAccuracy(app), 1);

  // The concept changes: the same inputs now carry the other label. ADWIN finds the change; accuracy falls to 50 %.
  await serve(app, sampleRows(300, 22), 'wrong');
  // ml_model_accuracy is the latest stored performance check (100 %), not a recompute over the log (now 50 %).
  assert.equal(await scrapedAccuracy(app), 1, 'the stored check, not the log recomputed at scrape time');
  const flipped = await run(app, 'concept_drift');
  assert.equal(flipped.result.status, 'fail', flipped.result.summary);
  assert.match(flipped.result.summary, /concept drift \(adwin\): the error rate rose from [0-4]\.\d% to (9\d|100)\.\d% from labelled row (2[6-9]\d|3[0-3]\d) of 600/);
  assert.equal(flipped.incident?.kind, 'concept_drift');
  // The detector goes on from its stored state: the next check reads no row twice, and the change persists (the
  // error rate stays above the reference from before it), so the check still fails and the incident stays open.
  const again = await run(app, 'concept_drift');
  assert.equal(again.result.status, 'fail', again.result.summary);
  assert.match(again.result.summary, /concept drift persists \(adwin\): error rate (9\d|100)\.\d% over the \d+ labelled rows since the change, [0-4]\.\d% before it/);
  assert.equal(again.result.rows, 0, 'no labelled row is read twice');
  assert.equal(again.incident?.id, flipped.incident?.id, 'one open incident');
  const since = app.ctx.db.prepare(`EXPLAIN QUERY PLAN ${labelledSinceSql}`).all('iris', 'iris', 1, 0, 0, 0, 10) as { detail: string }[];
  assert.match(since.map((p) => p.detail).join('; '), /USING INDEX prediction_log_label_order/);
  const slo = await run(app, 'performance');
  assert.equal(slo.result.status, 'fail', slo.result.summary);
  assert.match(slo.result.summary, /SLO breached \(accuracy\): .*accuracy 50\.0% over 600 labelled rows vs val_accuracy 95\.0%/);
  assert.equal(slo.incident, null, 'performance opens an incident after 2 consecutive failures');
  assert.equal(await scrapedAccuracy(app), 0.5, 'the new check is what the scrape shows');
  const slo2 = await run(app, 'performance');
  assert.equal(slo2.incident?.kind, 'performance');
  assert.equal(slo2.incident?.severity, 'critical');

  // The outputs shift: inputs that all score class 1. Prediction drift sees it without any label.
  await serve(app, sampleRows(150, 23).map((x) => [x[0]! + 3, x[1]! + 3, x[2]!, x[3]!]), null);
  const shifted = await run(app, 'prediction_drift');
  assert.equal(shifted.result.status, 'fail', shifted.result.summary);
  assert.match(shifted.result.summary, /^iris\/1: prediction drift: [2-4]\/[34] methods vote drift/);
  assert.deepEqual(shifted.incident?.evidence.features, ['prediction']);
});
