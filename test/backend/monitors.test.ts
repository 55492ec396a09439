import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, type App } from '../../backend/src/app';
import type { IncidentList, IncidentView, MonitorList, MonitorResults, MonitorView } from '../../backend/src/api/v1/contract-monitors';
import type { IncidentAlert } from '../../backend/src/services/monitors/alerts';
import { MONITOR_TICK_MS } from '../../backend/src/services/monitors/service';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AmPayload } from '../../backend/src/services/monitors/alertmanager';

const MIN = 60_000;

async function call<T>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

async function serve(app: App, rows: number[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 20) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } } });
    assert.equal(r.statusCode, 200, r.body);
  }
}

const shifted = (rows: number[][]) => rows.map((r) => [r[0]! + 1, r[1]!, r[2]!, r[3]! + 1]);

async function open(home: string, clock: VirtualClock, alerts: IncidentAlert[]): Promise<App> {
  const app = await buildApp({ home, token: TOKEN, clock });
  app.runtime.alerts.add({ name: 'recorder', publish: (a) => alerts.push(a) });
  await app.server.ready();
  return app;
}

/** Moves the clock one check interval on and waits for the data-drift monitor's `n`th stored result (state, not time). */
async function nextCheck(app: App, clock: VirtualClock, n: number): Promise<MonitorResults['results'][number]> {
  // The tick that stored the last check may still be running the endpoint's other monitors: moved on under it, the
  // clock would have passed the next tick's time before that tick is armed (then no check comes).
  await app.runtime.scheduler.idle();
  // One tick at a time: a tick waits for its checks in real time (the worker thread), and a clock moved past the
  // other monitors' due times meanwhile would arm the next tick only after the move (then those checks never come).
  for (let left = 5 * MIN + 40_000; left > 0; left -= MONITOR_TICK_MS) {
    await clock.advance(Math.min(MONITOR_TICK_MS, left));
    await app.runtime.scheduler.idle();
  }
  // Up to 30 s of real time: the check's statistics run in a worker thread, whose first start (tsx compiling it) is slow under load.
  for (let i = 0; i < 3000; i++) {
    const r = await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results?limit=100');
    if (r.body.results.length >= n) return r.body.results[0]!;
    await sleep(10);
  }
  assert.fail(`the data-drift monitor did not store its check #${n}`);
}

const driftAlerts = (alerts: IncidentAlert[]) => alerts.filter((a) => a.kind === 'data_drift');

void test('data drift in served traffic opens one incident, survives a restart, and resolves after clean checks', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitors-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const alerts: IncidentAlert[] = [];
  const clock = new VirtualClock();
  let app = await open(home, clock, alerts);
  t.after(() => app.server.close());

  // A real webhook receiver on 127.0.0.1: incidents reach it as signed Alertmanager notifications.
  const hooks: { body: string; signature: string }[] = [];
  const rx = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ body, signature: String(req.headers['x-mlops-signature']) });
      res.end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  t.after(() => rx.close());
  const secret = 'monitor-test-secret-0123456789';
  const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  assert.equal((await call(app, 'POST', '/api/v1/alerts/webhooks', { name: 'oncall', url, secret })).status, 200);
  // Moves the given clock on in 5 s steps (real time passing between them: a delivery is a real HTTP request) until
  // the receiver has a notification of this status; fails after 400 s of virtual time.
  const hook = async (status: 'firing' | 'resolved', c: VirtualClock): Promise<AmPayload> => {
    for (let i = 0; i < 80; i++) {
      const h = hooks.find((x) => (JSON.parse(x.body) as AmPayload).status === status);
      if (h) {
        const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(h.signature) ?? [];
        assert.equal(mac, createHmac('sha256', secret).update(`${ts}.${h.body}`).digest('hex'), 'signed');
        return JSON.parse(h.body) as AmPayload;
      }
      await c.advance(5_000);
      await sleep(10);
    }
    assert.fail(`no ${status} webhook`);
  };

  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const dir = app.ctx.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
  writeFileSync(join(app.ctx.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(2000, 11).map((r) => r.join(',')).join('\n')}\n`);
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);

  // The first deploy created the defaults: four monitors, the first checks one interval (plus jitter) away.
  const list = await call<MonitorList>(app, 'GET', '/api/v1/monitors?endpoint=iris');
  assert.deepEqual(list.body.monitors.map((m) => m.kind).sort(), ['concept_drift', 'data_drift', 'performance', 'prediction_drift']);
  const dd = list.body.monitors.find((m) => m.kind === 'data_drift')!;
  assert.equal(dd.config.interval_minutes, 5);
  assert.equal(dd.config.min_rows, 200);
  assert.ok(dd.next_run_at >= clock.now() + 5 * MIN && dd.next_run_at <= clock.now() + 5 * MIN + 30_000, `next run ${dd.next_run_at - clock.now()} ms away`);
  assert.equal(dd.last_status, null);
  // A window other than the on-demand report's default, so /metrics cannot be served from that report's cache.
  assert.equal((await call(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { window_rows: 800 })).status, 200);

  // Too few rows: an explicit verdict, not "no drift".
  await serve(app, sampleRows(100, 5));
  const few = await nextCheck(app, clock, 1);
  assert.equal(few.status, 'insufficient_data');
  assert.match(few.summary, /insufficient data: 100 logged rows, a check needs at least 200/);

  await serve(app, sampleRows(900, 6));
  const clean = await nextCheck(app, clock, 2);
  assert.equal(clean.status, 'pass', clean.summary);
  assert.equal(driftAlerts(alerts).length, 0);

  // Drift injected: the next check fails and opens an incident with its evidence, audited and published.
  await serve(app, shifted(sampleRows(1000, 7)));
  const bad = await nextCheck(app, clock, 3);
  assert.equal(bad.status, 'fail', bad.summary);
  assert.match(bad.summary, /data drift on 2 of 4 features/);
  const inc = (await call<IncidentList>(app, 'GET', '/api/v1/incidents?status=unresolved&endpoint=iris')).body.incidents.filter((i) => i.kind === 'data_drift');
  assert.equal(inc.length, 1);
  assert.equal(inc[0]!.status, 'open');
  assert.deepEqual([...inc[0]!.evidence.features].sort(), ['petal_width', 'sepal_length']);
  assert.equal(inc[0]!.evidence.opened_result_id, bad.id);
  const evidence = await call<{ status: string; details: unknown }>(app, 'GET', `/api/v1/monitors/results/${bad.id}`);
  assert.equal(evidence.body.status, 'fail');
  assert.equal(driftAlerts(alerts).length, 1);
  assert.equal(driftAlerts(alerts)[0]!.status, 'firing');
  assert.equal(driftAlerts(alerts)[0]!.incidentId, String(inc[0]!.id));
  assert.equal(driftAlerts(alerts)[0]!.evidencePath, `/api/v1/monitors/results/${bad.id}`);
  // After group_wait (30 s) the webhook fires.
  const firing = await hook('firing', clock);
  assert.equal(firing.groupKey, '{}:{alertname="MLOpsDataDrift", endpoint="iris"}');
  assert.equal(firing.alerts[0]!.labels.incident, String(inc[0]!.id));
  assert.match(firing.alerts[0]!.annotations.evidence!, new RegExp(`/api/v1/monitors/results/${bad.id}$`));

  // Acknowledged with a reason (audited); a second acknowledge is a conflict.
  const ack = await call<IncidentView>(app, 'POST', `/api/v1/incidents/${inc[0]!.id}/acknowledge`, { reason: 'looking into the upstream feed' });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  assert.equal(ack.body.status, 'acknowledged');
  assert.equal(ack.body.ack_reason, 'looking into the upstream feed');
  assert.equal((await call(app, 'POST', `/api/v1/incidents/${inc[0]!.id}/acknowledge`, { reason: 'again' })).status, 409);
  assert.equal((await call(app, 'POST', `/api/v1/incidents/${inc[0]!.id}/acknowledge`, {})).status, 400);

  // Still drifting: the same incident, no duplicate, no second alert.
  const again = await nextCheck(app, clock, 4);
  assert.equal(again.status, 'fail');
  assert.equal((await call<IncidentList>(app, 'GET', '/api/v1/incidents?endpoint=iris')).body.incidents.filter((i) => i.kind === 'data_drift').length, 1);
  assert.equal(driftAlerts(alerts).length, 1);

  // A restart an hour later: nothing lost, and the checks missed meanwhile run once (not twelve times).
  await app.server.close();
  const clock2 = new VirtualClock(clock.now() + 60 * MIN);
  app = await open(home, clock2, alerts);
  const after = (await call<MonitorView>(app, 'GET', '/api/v1/monitors/iris/data_drift')).body;
  assert.equal(after.incident?.id, inc[0]!.id);
  assert.equal(after.incident?.status, 'acknowledged');
  assert.equal(after.failures, 2);
  await app.runtime.start();
  await clock2.advance(6_000);
  for (let i = 0; i < 500 && (await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results')).body.results.length < 5; i++) await sleep(10);
  await clock2.advance(60_000);
  assert.equal((await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results')).body.results.length, 5, 'one catch-up check');
  const caught = (await call<MonitorView>(app, 'GET', '/api/v1/monitors/iris/data_drift')).body;
  assert.ok(caught.next_run_at >= clock2.now() - 60_000 + 5 * MIN - 10_000, 'the next check is an interval after the catch-up one');

  // Clean traffic: resolved after three consecutive clean checks, audited and published as resolved.
  await serve(app, sampleRows(1000, 8));
  // ml_drift_score is the latest stored check (drift), not a recompute over the clean rows served since.
  const ensemble = async () => {
    const m = await app.server.inject({ method: 'GET', url: '/metrics', headers: AUTH });
    return Number(/ml_drift_score\{model_name="iris",feature_name="sepal_length",drift_method="ensemble"\} ([\d.]+)/.exec(m.body)?.[1]);
  };
  assert.ok((await ensemble()) >= 0.5, 'the stored drifting check');
  assert.equal((await nextCheck(app, clock2, 6)).status, 'pass');
  assert.ok((await ensemble()) < 0.5, 'the stored clean check');
  assert.equal((await nextCheck(app, clock2, 7)).status, 'pass');
  assert.equal((await call<MonitorView>(app, 'GET', '/api/v1/monitors/iris/data_drift')).body.incident?.status, 'acknowledged');
  assert.equal((await nextCheck(app, clock2, 8)).status, 'pass');
  const resolved = (await call<IncidentView>(app, 'GET', `/api/v1/incidents/${inc[0]!.id}`)).body;
  assert.equal(resolved.status, 'resolved');
  assert.equal(resolved.resolved_by, 'monitor');
  assert.equal(driftAlerts(alerts).length, 2);
  assert.equal(driftAlerts(alerts)[1]!.status, 'resolved');
  assert.equal(driftAlerts(alerts)[1]!.endsAt, resolved.resolved_at);
  const done = await hook('resolved', clock2);
  assert.equal(done.alerts[0]!.labels.incident, String(inc[0]!.id));
  assert.equal(done.alerts[0]!.endsAt, new Date(resolved.resolved_at!).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const audit = await call<{ events: { action: string; object_id: string; reason: string | null }[] }>(app, 'GET', '/api/v1/audit?object_type=incident');
  assert.deepEqual(audit.body.events.filter((e) => e.object_id === String(inc[0]!.id)).map((e) => e.action).sort(), ['incident.acknowledge', 'incident.open', 'incident.resolve']);
});

void test('monitor settings: validated, audited, paused monitors do not run, run-now checks at once', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitors-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const app = await open(home, clock, []);
  t.after(() => app.server.close());
  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);

  assert.equal((await call(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { min_rows: 5000, window_rows: 1000 })).status, 400);
  assert.equal((await call(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { nonsense: 1 })).status, 400);
  assert.equal((await call(app, 'PATCH', '/api/v1/monitors/iris/data_drift', {})).status, 400);
  assert.equal((await call(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { interval_minutes: -1 })).status, 400);
  assert.equal((await call(app, 'GET', '/api/v1/monitors/iris/nosuchkind')).status, 400);
  assert.equal((await call(app, 'GET', '/api/v1/monitors/nosuchendpoint/data_drift')).status, 404);
  assert.equal((await call(app, 'GET', '/api/v1/incidents/999')).status, 404);

  const set = await call<MonitorView>(app, 'PATCH', '/api/v1/monitors/iris/data_drift', { interval_minutes: 1, min_rows: 50, window_rows: 500 });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.config.interval_minutes, 1);
  assert.ok(set.body.next_run_at <= clock.now() + MIN + 6_000, 'a shorter interval reschedules the next run');

  assert.equal((await call<MonitorView>(app, 'POST', '/api/v1/monitors/iris/data_drift/pause')).body.paused, true);
  await app.runtime.start();
  await clock.advance(10 * MIN);
  assert.equal((await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results')).body.results.length, 0, 'a paused monitor does not run');

  const run = await call<{ result: { status: string; summary: string } }>(app, 'POST', '/api/v1/monitors/iris/data_drift/run');
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal(run.body.result.status, 'insufficient_data');
  assert.match(run.body.result.summary, /no reference profile|insufficient data/);
  const audit = await call<{ events: { action: string; after: Record<string, unknown> }[] }>(app, 'GET', '/api/v1/audit?object_type=monitor');
  assert.deepEqual(audit.body.events.map((e) => e.action).sort(), ['monitor.pause', 'monitor.update']);

  // A deleted endpoint's monitors keep their history and store nothing more while it is gone.
  const count = async (kind: string) => (await call<MonitorResults>(app, 'GET', `/api/v1/monitors/iris/${kind}/results`)).body.results.length;
  const before = await count('performance');
  // Counted once the tick the move started has stored its checks (they run in the worker, in real time).
  await clock.advance(6 * MIN);
  await app.runtime.scheduler.idle();
  const deployed = await count('performance');
  assert.ok(deployed > before, 'the performance monitor ran while deployed');
  assert.equal((await app.server.inject({ method: 'DELETE', url: '/endpoints/iris', headers: AUTH })).statusCode, 200);
  await clock.advance(30 * MIN);
  await app.runtime.scheduler.idle();
  assert.equal(await count('performance'), deployed, 'nothing stored for a deleted endpoint');
});
