import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, type App } from '../../backend/src/app';
import type { DeliveryList } from '../../backend/src/api/v1/contract-alerts';
import type { IncidentAlert } from '../../backend/src/services/monitors/alerts';
import type { AmPayload } from '../../backend/src/services/monitors/alertmanager';
import { AUTH, TOKEN } from '../fixtures/onnx/harness';
import { VirtualClock } from '../helpers/clock';

const SECRET = 'whsec-0123456789abcdef-test';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers each request with the next status of `script` (then 200). */
async function receiver(script: number[] = []): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, got, server };
}

/** What a receiver does with X-MLOps-Signature (README "Alerts"). */
function verified(r: Received): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(r.headers['x-mlops-signature']));
  if (!m) return false;
  const want = createHmac('sha256', SECRET).update(`${m[1]}.${r.body}`).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await f();
    if (v) return v;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Moves the virtual clock on in steps (250 ms unless said), letting real time pass between them (a delivery is a real HTTP request),
 * until `done` holds; fails after `maxMs` of virtual time. Returns the virtual time it took.
 */
async function advanceUntil(clock: VirtualClock, what: string, done: () => boolean | Promise<boolean>, maxMs: number, stepMs = 250): Promise<number> {
  const start = clock.now();
  while (!(await done())) {
    if (clock.now() - start >= maxMs) assert.fail(`${what} did not happen within ${maxMs} ms of virtual time`);
    await clock.advance(stepMs);
    await sleep(5);
  }
  return clock.now() - start;
}

const alert = (clock: VirtualClock, o: Partial<IncidentAlert> = {}): IncidentAlert => ({
  incidentId: '7',
  monitorId: '3',
  endpoint: 'iris',
  kind: 'data_drift',
  severity: 'warning',
  status: 'firing',
  summary: 'Data drift on endpoint iris',
  description: 'iris/1: data drift on 2 of 4 features',
  startsAt: clock.now(),
  endsAt: null,
  labels: { feature_1: 'sepal_length' },
  evidencePath: '/api/v1/monitors/results/12',
  ...o,
});

async function deliveries(app: App): Promise<DeliveryList['deliveries']> {
  const r = await app.server.inject({ method: 'GET', url: '/api/v1/alerts/deliveries', headers: AUTH });
  return (JSON.parse(r.body) as DeliveryList).deliveries;
}

void test('webhooks speak Alertmanager v4, wait group_wait, are signed, retried with backoff and resumed after a restart', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-webhooks-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const rx = await receiver([500, 503]);
  t.after(() => rx.server.close());
  const clock = new VirtualClock();
  let app = await buildApp({ home, token: TOKEN, clock });
  await app.server.ready();
  const add = (payload: object) => app.server.inject({ method: 'POST', url: '/api/v1/alerts/webhooks', headers: AUTH, payload });
  assert.equal((await add({ name: 'bad', url: 'ftp://127.0.0.1/x' })).statusCode, 400);
  assert.equal((await add({ name: 'bad', url: 'not a url' })).statusCode, 400);
  assert.equal((await add({ name: 'bad', url: rx.url, secret: 'short' })).statusCode, 400);
  const ok = await add({ name: 'oncall', url: rx.url, secret: SECRET });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.doesNotMatch(ok.body, /whsec/, 'the secret never comes back');
  assert.equal(JSON.parse(ok.body).signed, true);
  assert.ok(app.runtime.secrets.values().includes(SECRET), 'the signing secret is masked by value like the backend token');
  assert.equal((await add({ name: 'oncall', url: rx.url })).statusCode, 400, 'names are unique');

  // Firing: nothing before group_wait (30 s), then one notification.
  app.runtime.alerts.publish(alert(clock));
  await clock.advance(29_000);
  assert.equal(rx.got.length, 0);
  await advanceUntil(clock, 'the first attempt', () => rx.got.length >= 1, 5_000);
  // The receiver answers 500, then 503, then 200: three attempts, 1 s and 2 s apart (±20 %, on 1 s ticks).
  await advanceUntil(clock, 'the second attempt', () => rx.got.length >= 2, 5_000);
  await advanceUntil(clock, 'the third attempt', () => rx.got.length >= 3, 10_000);
  const first = await until('the delivery recorded', async () => (await deliveries(app)).find((x) => x.status === 'delivered'));
  assert.equal(first.status, 'delivered');
  assert.equal(first.attempts, 3);
  assert.deepEqual(first.tries.map((x) => x.http_status), [500, 503, 200]);
  assert.ok(first.tries[1]!.at - first.tries[0]!.at >= 800 && first.tries[2]!.at - first.tries[1]!.at >= 1600, 'backoff doubles');

  const body = JSON.parse(rx.got[2]!.body) as AmPayload;
  assert.equal(rx.got[0]!.body, rx.got[2]!.body, 'a retry sends the same notification');
  assert.ok(verified(rx.got[2]!), 'the HMAC verifies');
  assert.ok(!verified({ ...rx.got[2]!, body: rx.got[2]!.body.replace('iris', 'iriz') }), 'a changed body does not verify');
  assert.equal(body.version, '4');
  assert.equal(body.status, 'firing');
  assert.equal(body.receiver, 'oncall');
  assert.equal(body.groupKey, '{}:{alertname="MLOpsDataDrift", endpoint="iris"}');
  assert.deepEqual(body.groupLabels, { alertname: 'MLOpsDataDrift', endpoint: 'iris' });
  assert.equal(body.truncatedAlerts, 0);
  assert.equal(body.alerts.length, 1);
  const a = body.alerts[0]!;
  assert.deepEqual(a.labels, { alertname: 'MLOpsDataDrift', endpoint: 'iris', kind: 'data_drift', severity: 'warning', incident: '7', feature_1: 'sepal_length' });
  assert.deepEqual(body.commonLabels, a.labels);
  assert.equal(a.annotations.summary, 'Data drift on endpoint iris');
  assert.equal(a.startsAt, '2026-01-01T00:00:00Z');
  assert.equal(a.endsAt, '0001-01-01T00:00:00Z');
  assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
  assert.match(a.generatorURL, /\/api\/v1\/incidents\/7$/);

  // A second firing incident of the same group before group_interval: sent with the first at the next group tick.
  app.runtime.alerts.publish(alert(clock, { incidentId: '8', labels: {} }));
  await clock.advance(60_000);
  assert.equal(rx.got.length, 3, 'not before group_interval');

  // The receiver goes away; the notification stays pending across a restart and is delivered by the next backend.
  await new Promise<void>((r) => rx.server.close(() => r()));
  rx.server.closeAllConnections();
  let before: Awaited<ReturnType<typeof deliveries>>[number] | undefined;
  await advanceUntil(clock, 'a failed attempt', async () => !!(before = (await deliveries(app)).find((x) => x.attempts > 0 && x.status === 'pending')), 300_000, 2_000);
  assert.ok(before);
  assert.equal(before.status, 'pending');
  assert.match(before.last_error ?? '', /ECONNREFUSED/);
  await app.server.close();
  await new Promise<void>((r) => rx.server.listen(Number(new URL(rx.url).port), '127.0.0.1', r));
  const clock2 = new VirtualClock(clock.now() + 600_000);
  app = await buildApp({ home, token: TOKEN, clock: clock2 });
  await app.server.ready();
  await advanceUntil(clock2, 'the resumed delivery', () => rx.got.length >= 4, 10_000);
  const resumed = JSON.parse(rx.got[3]!.body) as AmPayload;
  assert.deepEqual(resumed.alerts.map((x) => x.labels.incident).sort(), ['7', '8']);
  assert.ok(verified(rx.got[3]!));

  // Resolved: sent once with endsAt, at the next group tick; then the group is done.
  app.runtime.alerts.publish(alert(clock2, { status: 'resolved', endsAt: clock2.now(), startsAt: Date.UTC(2026, 0, 1) }));
  app.runtime.alerts.publish(alert(clock2, { incidentId: '8', labels: {}, status: 'resolved', endsAt: clock2.now(), startsAt: Date.UTC(2026, 0, 1) }));
  await advanceUntil(clock2, 'the resolved notification', () => rx.got.length >= 5, 310_000, 2_000);
  const resolved = JSON.parse(rx.got[4]!.body) as AmPayload;
  assert.equal(resolved.status, 'resolved');
  assert.ok(resolved.alerts.every((x) => x.status === 'resolved' && x.endsAt !== '0001-01-01T00:00:00Z'));
  await clock2.advance(5 * 3_600_000);
  await sleep(200);
  assert.equal(rx.got.length, 5, 'nothing repeats once resolved');
  await app.server.close();

  // The secret is masked in the backend's own log like every other secret it knows.
  const log = (() => {
    try {
      return readFileSync(join(home, 'logs', 'backend.log'), 'utf8');
    } catch {
      return '';
    }
  })();
  assert.doesNotMatch(log, /whsec-0123456789abcdef/);
});
