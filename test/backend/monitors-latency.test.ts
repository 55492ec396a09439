import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { App } from '../../backend/src/app';
import type { IncidentView, MonitorResultView, MonitorView } from '../../backend/src/api/v1/contract-monitors';
import type { LatencyTest } from '../../backend/src/services/monitors/latency';
import { AUTH, registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, slowClassifier } from '../fixtures/onnx/models';
import { deployedProfiled } from '../helpers/monitors';

type Check = { result: MonitorResultView; incident: IncidentView | null };
type Figures = { variant: string; failed: string[]; p99_ms: number; latency: LatencyTest };

const call = async <T>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<{ status: number; body: T }> => {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
};

/** n requests of `size` rows each. */
async function requests(app: App, n: number, size = 20): Promise<void> {
  const rows = sampleRows(n * size, n);
  for (let i = 0; i < n; i++) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(i * size, i * size + size) } } });
    assert.equal(r.statusCode, 200, r.body);
  }
}

const latencyOf = (r: MonitorResultView) => (r.details as { variants: { details: { latency: LatencyTest | null } }[] }).variants[0]!.details.latency;

void test('performance p99 SLO as a binomial test: settings validated, a clean window passes, a slower rollout opens an incident with the figures', async (t) => {
  const { app } = await deployedProfiled(t, 'mlops-monitor-latency-');
  // The same answers, a zero-weighted 1,000,000-unit hidden layer: about 14 ms for 20 rows against 0.04 ms here; the
  // rollout below sends it 200 rows a request (1.2 billion multiply-adds), slower than 5 ms on any machine we run on.
  const slow = registerOnnxModel(app.ctx, 'iris', slowClassifier(CHAMPION, 1_000_000));

  const url = '/api/v1/monitors/iris/performance';
  assert.equal((await call<MonitorView>(app, 'GET', url)).body.config.latency_alpha, 0.001, 'the default level');
  for (const bad of [0, -0.1, 0.6, 'x', null]) {
    const r = await call<{ error_code: string }>(app, 'PATCH', url, { latency_alpha: bad });
    assert.equal(r.status, 400, `latency_alpha ${String(bad)}`);
    assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
  }
  const set = await call<MonitorView>(app, 'PATCH', url, { window_rows: 30, min_rows: 10, max_p99_ms: 5, failure_limit: 1, latency_alpha: 0.0001 });
  assert.equal(set.status, 200);
  assert.equal(set.body.config.latency_alpha, 0.0001);

  // 9 requests: fewer than min_rows is insufficient data, not a pass.
  await requests(app, 9);
  const few = (await call<Check>(app, 'POST', `${url}/run`)).body;
  assert.equal(few.result.status, 'insufficient_data', few.result.summary);
  assert.equal(latencyOf(few.result), null);

  // The newest 30 requests of the fast model (the first runs of a session, above, are its slowest): a stall or four
  // of this busy machine over 5 ms would not fail the window at α 0.0001 (5 of 30 would: p 0.00001).
  await requests(app, 30);
  const clean = (await call<Check>(app, 'POST', `${url}/run`)).body;
  assert.equal(clean.result.status, 'pass', clean.result.summary);
  const l = latencyOf(clean.result)!;
  assert.deepEqual([l.n, l.limit_ms, l.alpha, l.breached], [30, 5, 0.0001, false]);
  assert.ok(l.over <= 4 && l.p_value > 0.0001, JSON.stringify(l));
  assert.match(clean.result.summary, new RegExp(`^iris/1: within SLO: error rate 0\\.0% of 30 requests \\(max 1\\.0%\\); p99 [\\d.]+ ms over 30 requests, ${l.over} of 30 over 5 ms: consistent with at most 1 % \\(binomial p [\\d.e-]+ > α 0\\.0001\\)$`));

  // The slower version rolled out: its first 10 requests all take longer than 5 ms, and the first check opens the incident.
  assert.equal((await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${slow}` })).status, 200);
  await requests(app, 10, 200);
  const regressed = (await call<Check>(app, 'POST', `${url}/run`)).body;
  assert.equal(regressed.result.status, 'fail', regressed.result.summary);
  assert.match(regressed.result.summary, /^iris\/2: SLO breached \(p99_latency\): error rate 0\.0% of 10 requests \(max 1\.0%\); p99 [\d.]+ ms over 10 requests, 10 of 10 over 5 ms: more than 1 % slower \(binomial p 1\.0e-20 ≤ α 0\.0001\)$/);
  const inc = (await call<IncidentView>(app, 'GET', `/api/v1/incidents/${regressed.incident!.id}`)).body;
  assert.deepEqual([inc.kind, inc.severity, inc.status, inc.evidence.features], ['performance', 'critical', 'open', ['p99_latency']]);
  assert.equal(inc.summary, regressed.result.summary);
  const [fig] = inc.evidence.figures as Figures[];
  assert.deepEqual([fig!.variant, fig!.failed, fig!.latency.n, fig!.latency.over, fig!.latency.limit_ms, fig!.latency.alpha], ['iris/2', ['p99_latency'], 10, 10, 5, 0.0001]);
  assert.ok(fig!.p99_ms > 5 && fig!.latency.p99_ms === fig!.p99_ms, 'the observed p99 beside the test');
  assert.ok(fig!.latency.p_value < 1e-19);
});

void test('monitors stored before a setting existed (latency_alpha, drift_rule) read its default instead of failing the view', async (t) => {
  const { app } = await deployedProfiled(t, 'mlops-monitor-oldcfg-');
  assert.equal((await call(app, 'GET', '/api/v1/monitors?endpoint=iris')).status, 200);
  // The config as an older backend stored it: without the settings added since.
  for (const row of app.ctx.db.prepare('SELECT id, config FROM monitors').all() as { id: number; config: string }[]) {
    const { latency_alpha: _a, drift_rule: _d, ...old } = JSON.parse(row.config) as Record<string, unknown>;
    app.ctx.db.prepare('UPDATE monitors SET config = ? WHERE id = ?').run(JSON.stringify(old), row.id);
  }
  const perf = await call<MonitorView>(app, 'GET', '/api/v1/monitors/iris/performance');
  assert.equal(perf.status, 200, JSON.stringify(perf.body));
  assert.deepEqual([perf.body.config.latency_alpha, perf.body.config.drift_rule, perf.body.config.max_p99_ms], [0.001, 'dataset', 100]);
  assert.equal((await call<MonitorView>(app, 'GET', '/api/v1/monitors/iris/data_drift')).body.config.drift_rule, 'dataset');
  assert.equal((await call(app, 'GET', '/api/v1/monitors')).status, 200);
});
