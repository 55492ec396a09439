import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { PolicyView, RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { RETRAIN_TICK_MS } from '../../backend/src/services/retrain/service';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';

const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');
const PIPELINE = `
name: retrain-cron
params: { data: "" }
steps:
  train:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]
    env: { TRAIN_CSV: "\${{ params.data }}", TRAIN_EPOCHS: "0" }
    outputs: [model.onnx, MLmodel]
    cache: false
`;

async function call<T>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

const scheduled = async (app: App) => (await call<{ retrains: RetrainView[] }>(app, 'GET', '/api/v1/retrains?endpoint=iris')).body.retrains.filter((r) => r.trigger === 'schedule');

void test('cron schedules: checked, in a time zone, fired at their time, one catch-up after downtime, bounded by the daily budget', { timeout: 120_000 }, async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-retrain-cron-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  // Thursday 2026-01-01T00:00Z.
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  let app = await buildApp({ home, token: TOKEN, clock, serving: { tickMs: 60_000 } });
  await app.server.ready();
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v1}` })).status, 200);
  const feedback: { request_id: string; label: number }[] = [];
  for (const row of sampleRows(100, 3)) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: [row] } } });
    feedback.push({ request_id: r.headers['x-request-id'] as string, label: row[1]! > 1.5 ? 1 : 0 });
  }
  assert.equal((await call(app, 'POST', '/endpoints/iris/feedback', { feedback })).status, 200);
  const pipeline = join(mkdtempSync(join(home, 'pipe-')), 'mlops.yaml');
  writeFileSync(pipeline, PIPELINE);
  const base = { model: 'iris', endpoint: 'iris', pipeline, daily_budget: 1, triggers: { on_drift: false, on_performance: false } };

  for (const [triggers, msg] of [
    [{ schedule_cron: '61 * * * *' }, /triggers\.schedule_cron '61 \* \* \* \*' \(UTC\)/],
    [{ schedule_cron: '0 3 * *' }, /must have five fields/],
    [{ schedule_cron: '0 3 * * *', schedule_every_s: 3600 }, /not both/],
    [{ schedule_cron: '0 3 * * *', schedule_tz: 'Mars/Olympus' }, /Mars\/Olympus/],
  ] as const) {
    const r = await call<{ message: string }>(app, 'PUT', '/api/v1/retrain/policies', { ...base, triggers: { ...base.triggers, ...triggers } });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.message, msg);
  }

  // 09:30 on weekdays in Paris (UTC+1 in January): today, Thursday, at 08:30Z.
  const paris = await call<PolicyView>(app, 'PUT', '/api/v1/retrain/policies', { ...base, triggers: { ...base.triggers, schedule_cron: '30 9 * * 1-5', schedule_tz: 'Europe/Paris' } });
  assert.equal(paris.status, 200, JSON.stringify(paris.body));
  assert.equal(paris.body.next_scheduled_at, Date.UTC(2026, 0, 1, 8, 30));

  // Every day at 02:30 UTC: the first is today's.
  const set = await call<PolicyView>(app, 'PUT', '/api/v1/retrain/policies', { ...base, triggers: { ...base.triggers, schedule_cron: '30 2 * * *' } });
  const at = Date.UTC(2026, 0, 1, 2, 30);
  assert.equal(set.body.next_scheduled_at, at);
  await clock.advance(at - clock.now() - RETRAIN_TICK_MS);
  assert.equal((await scheduled(app)).length, 0, 'not before its time');
  await clock.advance(2 * RETRAIN_TICK_MS);
  const first = await scheduled(app);
  assert.equal(first.length, 1);
  assert.deepEqual(first[0]!.evidence, { due_at: at, cron: '30 2 * * *', tz: 'UTC' });
  assert.match(first[0]!.transitions[0]!.reason, /scheduled cron '30 2 \* \* \*' \(UTC\) \(due 2026-01-01T02:30:00\.000Z\)/);
  const done = await app.runtime.retrain.waitFor(first[0]!.id);
  assert.equal(done.status, 'rejected', 'the untrained challenger is rejected offline');
  assert.equal((await call<PolicyView>(app, 'GET', `/api/v1/retrain/policies/${set.body.id}`)).body.next_scheduled_at, Date.UTC(2026, 0, 2, 2, 30));
  await app.server.close();

  // The backend is down for three days: one catch-up retrain at start, then the next regular time.
  const clock2 = new VirtualClock(Date.UTC(2026, 0, 4, 12));
  app = await buildApp({ home, token: TOKEN, clock: clock2, serving: { tickMs: 60_000 } });
  t.after(() => app.server.close());
  await app.server.ready();
  await clock2.advance(2 * RETRAIN_TICK_MS);
  const after = await scheduled(app);
  assert.equal(after.length, 2, 'one catch-up, not one per missed day');
  assert.equal(after[0]!.evidence.due_at, Date.UTC(2026, 0, 2, 2, 30));
  await app.runtime.retrain.waitFor(after[0]!.id);
  assert.equal((await call<PolicyView>(app, 'GET', `/api/v1/retrain/policies/${set.body.id}`)).body.next_scheduled_at, Date.UTC(2026, 0, 5, 2, 30));

  // The daily budget (1): a second schedule within 24 h of the catch-up is skipped and audited.
  await call(app, 'PUT', '/api/v1/retrain/policies', { ...base, triggers: { ...base.triggers, schedule_cron: '0 13 * * *' } });
  await clock2.advance(3_600_000);
  assert.equal((await scheduled(app)).length, 2);
  const skipped = app.ctx.audit.list({ action: 'retrain.skipped' });
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.reason ?? '', /the daily budget of 1 retrain\(s\) is spent/);
});
