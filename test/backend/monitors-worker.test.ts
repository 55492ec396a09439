import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import type { IncidentView, MonitorKind, MonitorResultView } from '../../backend/src/api/v1/contract-monitors';
import { runCheck, type CheckInput } from '../../backend/src/services/monitors/checks';
import { CheckWorker } from '../../backend/src/services/monitors/checkworker';
import { computeOn } from '../../backend/src/services/monitors/compute';
import { AUTH, buildServingApp, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';
import { profiledStore } from '../helpers/monitors';
import { ensureBuilt, startBackend } from '../integration/serving/proc';
import { BACKGROUND_NICE } from '../../backend/src/util/priority';

const initialNice = process.platform === 'linux' ? Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]) : 0;

type Check = { result: MonitorResultView; incident: IncidentView | null };
const KINDS: MonitorKind[] = ['data_drift', 'prediction_drift', 'concept_drift', 'performance'];

async function call<T>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** Requests of 20 rows; every row labelled: the prediction, or the other class for `wrong` rows in 10. */
async function serve(app: App, rows: number[][], wrong: number): Promise<void> {
  const feedback: { request_id: string; label: number[] }[] = [];
  for (let i = 0; i < rows.length; i += 20) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } } });
    assert.equal(r.statusCode, 200, r.body);
    const p = (JSON.parse(r.body) as { predictions: unknown[] }).predictions.flat().map(Number);
    feedback.push({ request_id: r.headers['x-request-id'] as string, label: p.map((x, j) => ((i + j) % 10 < wrong ? 1 - x : x)) });
  }
  assert.equal((await call(app, 'POST', '/endpoints/iris/feedback', { feedback })).status, 200);
}

async function deployed(t: { after: (f: () => unknown) => void }): Promise<{ app: App; home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-worker-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const v = profiledStore(home, true);
  const app = await buildApp({ home, token: TOKEN, clock: new VirtualClock() });
  t.after(() => app.server.close());
  await app.server.ready();
  await configure(app, v);
  return { app, home };
}

async function configure(app: App, v: number): Promise<void> {
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).status, 200);
  // Prediction drift counts requests (of 20 rows here), the others rows.
  for (const kind of KINDS) {
    const cfg = kind === 'prediction_drift' ? { window_rows: 30, min_rows: 10 } : { window_rows: 600, min_rows: 10, max_p99_ms: 60_000 };
    assert.equal((await call(app, 'PATCH', `/api/v1/monitors/iris/${kind}`, cfg)).status, 200);
  }
}

void test('checks read their window and compute in the worker thread, on its own connection, and store what the main thread would have computed', async (t) => {
  const { app, home } = await deployed(t);
  // The first 600 rows are the prediction-drift reference; then shifted inputs with 30 % of labels flipped.
  await serve(app, sampleRows(600, 3), 0);
  await serve(app, sampleRows(600, 4).map((r) => [r[0]! + 1, r[1]! + 1, r[2]!, r[3]!]), 3);
  const worker = app.runtime.monitors.compute;
  assert.ok(worker instanceof CheckWorker, 'the backend runs checks through the worker');
  assert.equal(worker.file, join(home, 'mlops.db'), 'the worker reads the store file');
  const rt = app.runtime;
  const deps = { db: rt.core.db, registry: rt.core.registry, drift: rt.drift, flushLog: () => rt.servingRepo.flush(), endpoint: (n: string) => rt.engine.list().find((e) => e.name === n) ?? null };
  for (const kind of KINDS) {
    const m = rt.monitors.repo.get('iris', kind)!;
    const input: CheckInput = { endpoint: 'iris', kind, config: m.config, state: m.state };
    const before = { answered: worker.answered, read: worker.rowsRead };
    const there = await runCheck({ ...deps, compute: worker }, input);
    assert.ok(worker.answered > before.answered, `${kind}: the worker answered`);
    assert.ok(worker.rowsRead > before.read, `${kind}: the worker read the window on its own connection`);
    const here = await runCheck({ ...deps, compute: computeOn(rt.core.db) }, input);
    assert.deepEqual(there, here, `${kind}: the same outcome on either thread`);
    assert.equal(there.status, 'fail', `${kind}: ${there.summary}`);
    // Through the service (run-now over HTTP): the same verdict, stored.
    const stored = (await call<Check>(app, 'POST', `/api/v1/monitors/iris/${kind}/run`)).body;
    assert.equal(stored.result.status, 'fail', stored.result.summary);
    assert.equal(stored.result.summary, here.summary);
  }
  assert.ok(worker.running);
  if (process.platform === 'linux') {
    // The checks thread runs at a lower priority than the serving thread (nice is per thread on Linux).
    const nice = (tid: number) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    assert.ok(worker.lowPriorityThread !== null && worker.lowPriorityThread !== process.pid, 'the thread reports its own id');
    assert.equal(nice(worker.lowPriorityThread), Math.max(BACKGROUND_NICE, initialNice));
    assert.equal(nice(process.pid), initialNice, 'the main thread keeps its priority');
  }
  const config = rt.monitors.repo.get('iris', 'concept_drift')!.config;
  await app.server.close();
  assert.equal(worker.running, false, 'the runtime closes the worker');
  // The last connection to close removes the WAL: none was left open (the worker's closes before the store's).
  assert.equal(existsSync(join(home, 'mlops.db-wal')), false, 'every connection to the store is closed');
  await assert.rejects(worker.run('conceptDrift', { variant: 'x/1', config, rows: [], stream: null, more: false }), /shut down/);
});

void test('an in-memory store (no second connection can see it): the windows are read on the main connection and sent to the worker', async (t) => {
  const app = await buildServingApp(t, 'memory');
  await app.server.ready();
  await configure(app, registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION)));
  await serve(app, sampleRows(600, 3), 0);
  await serve(app, sampleRows(600, 4).map((r) => [r[0]! + 1, r[1]! + 1, r[2]!, r[3]!]), 3);
  const worker = app.runtime.monitors.compute as CheckWorker;
  assert.equal(worker.file, null);
  for (const kind of ['prediction_drift', 'concept_drift'] as const) {
    const before = worker.answered;
    const r = (await call<Check>(app, 'POST', `/api/v1/monitors/iris/${kind}/run`)).body.result;
    assert.equal(r.status, 'fail', `${kind}: ${r.summary}`);
    assert.ok(worker.answered > before, `${kind}: the worker computed it`);
  }
  assert.equal(worker.rowsRead, 0, 'the thread read nothing itself');
});

void test('a crashed checks worker fails the check with a logged error, and the next check runs on a fresh one', async (t) => {
  const { app, home } = await deployed(t);
  await serve(app, sampleRows(600, 3), 0);
  const worker = app.runtime.monitors.compute as CheckWorker;
  assert.ok(worker.running, 'the deploy started the thread ahead of the first check');
  await worker.kill();
  assert.equal(worker.running, false);
  // The check hands its window and statistics to a new thread that is still starting, and the thread dies.
  const pending = call<Check>(app, 'POST', '/api/v1/monitors/iris/data_drift/run');
  await new Promise((r) => setImmediate(r));
  assert.ok(worker.running, 'the check started the thread');
  await worker.kill();
  const crashed = await pending;
  assert.equal(crashed.status, 200);
  assert.equal(crashed.body.result.status, 'error');
  assert.match(crashed.body.result.summary, /^the check failed: the checks worker exited \(code \d+\) before answering/);
  assert.match(readFileSync(join(home, 'logs', 'backend.log'), 'utf8'), /checks worker exited \(code \d+\)/);
  // The backend goes on: serving, and the next check runs on a new thread.
  await serve(app, sampleRows(40, 5), 0);
  const next = await call<Check>(app, 'POST', '/api/v1/monitors/iris/data_drift/run');
  assert.equal(next.body.result.status, 'pass', next.body.result.summary);
  assert.ok(worker.running);
});

void test('the built backend (dist/backend/cli.mjs serve) runs its checks in the bundled worker, monitor-worker.mjs', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-monitor-worker-dist-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const v = profiledStore(home, false);
  const be = await startBackend(home);
  t.after(() => be.stop());
  const api = async <T>(method: string, path: string, body?: object): Promise<T> => {
    const r = await fetch(`${be.url}${path}`, { method, headers: { authorization: `Bearer ${be.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    assert.equal(r.status, 200, `${method} ${path}`);
    return (await r.json()) as T;
  };
  await api('POST', '/endpoints/iris/deploy', { model: `iris/${v}` });
  const rows = sampleRows(300, 3);
  for (let i = 0; i < rows.length; i += 20) await api('POST', '/endpoints/iris/invocations', { dataframe_split: { columns: FEATURES, data: rows.slice(i, i + 20) } });
  const check = await api<Check>('POST', '/api/v1/monitors/iris/data_drift/run');
  assert.equal(check.result.status, 'pass', check.result.summary);
  assert.match(check.result.summary, /no data drift over 300 rows/);
});
