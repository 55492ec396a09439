import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Figure, FigureId, ReportView } from '../../backend/src/api/v1/contract-report';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { REPORT_EXPECTED as E, seedReport } from '../fixtures/report';
import { cli, ensureBuilt } from '../integration/serving/proc';

const BENCH = { benchmark: 'monitors-detect', recorded_at: '2026-12-04T10:00:00Z', seeds: 5, stationary_days: 10, shift_runs: 35, detected: 34, median_minutes: 24, false_incidents: 0, monitor_days: 30, scenarios: [] };

async function serve(t: { after: (f: () => unknown) => void }, seed: boolean, bench: object | null) {
  const home = mkdtempSync(join(tmpdir(), 'mlops-report-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  if (seed) seedReport(ctx.db, Date.now());
  ctx.db.close();
  const file = join(home, 'bench.json');
  if (bench) writeFileSync(file, JSON.stringify(bench));
  // The route reads the benchmark's file named by MLOPS_DETECTION_BENCH (absent here when bench is null).
  process.env.MLOPS_DETECTION_BENCH = file;
  const { app, handshake } = await startServer({ home });
  t.after(() => app.server.close());
  const get = async (q = '') => {
    const r = await fetch(`${handshake.url}/api/v1/report${q}`, { headers: { authorization: `Bearer ${handshake.token}` } });
    return { status: r.status, body: (await r.json()) as ReportView & { error_code?: string; message?: string } };
  };
  return { home, get };
}

const fig = (r: ReportView, id: FigureId): Figure => {
  const f = r.figures.find((x) => x.id === id);
  assert.ok(f, `figure ${id}`);
  assert.ok(f.how.length > 20, `${id} says how it is computed`);
  return f;
};
const near = (a: number | null, b: number, what: string) => assert.ok(a !== null && Math.abs(a - b) < 1e-9, `${what}: ${a} ≠ ${b}`);

void test('GET /api/v1/report over a seeded store: each figure and its arithmetic; mlops report prints them', { timeout: 60_000 }, async (t) => {
  ensureBuilt();
  const { home, get } = await serve(t, true, BENCH);
  const { status, body: r } = await get('?since=30d');
  assert.equal(status, 200);
  assert.ok(Math.abs(r.to - r.from - 30 * 86_400_000) < 1, 'a 30-day window');
  assert.equal(r.days, 30);

  near(fig(r, 'deployments_per_month').value, E.deploymentsPerMonth, 'deployments a month');
  assert.equal(r.deployments_by_month.reduce((a, m) => a + m.deployments, 0), 4);
  assert.match(fig(r, 'deployments_per_month').text, /4\.0 a month \(4 in 30 days\)/);

  near(fig(r, 'runs_tracked').value, E.runsTracked, 'runs tracked');
  assert.match(fig(r, 'runs_tracked').text, /50\.0 % \(2 of 4 runs\)/);
  near(fig(r, 'jobs_with_run').value, E.jobsWithRun, 'jobs with a run');
  assert.match(fig(r, 'jobs_with_run').text, /66\.7 % \(2 of 3 finished jobs\)/);

  near(fig(r, 'retrains_automated').value, E.automated, 'automated share');
  assert.deepEqual(r.retrains_by_trigger, { manual: 1, schedule: 1, drift: 2, performance: 1 });

  const fix = fig(r, 'drift_to_fix');
  near(fix.value, E.onsetToIncidentMin + E.incidentToFixMin, 'onset → fix (min)');
  assert.match(fix.text, /median 40 min from onset to incident, 60 min from incident to fix \(2 fix\(es\)\)/);
  assert.deepEqual(
    r.fixes.map((f) => [f.incident_id, (f.opened_at - f.onset_at!) / 60_000, (f.fixed_at - f.opened_at) / 60_000]),
    [
      ['1', 20, 40],
      ['2', 60, 80],
    ],
  );

  near(fig(r, 'rollbacks').value, E.rollbacks, 'rollbacks');
  assert.deepEqual(
    r.rollbacks.map((b) => [b.endpoint, b.actor, b.live_ms! / 60_000]),
    [
      ['churn', 'bob', 90],
      ['iris', 'guardrail', 30],
    ],
  );
  assert.match(fig(r, 'rollbacks').text, /2 rollback\(s\) \(1 by a guardrail\); the version rolled back served a median 60 min/);

  const ab = fig(r, 'ab_concluded');
  near(ab.value, E.abConcluded, 'A/B concluded');
  assert.deepEqual(r.experiments, { promoted: 2, rejected: 1, inconclusive: 1, stopped: 1, running: 0 });
  assert.match(ab.text, /75\.0 % \(3 concluded: 2 promoted, 1 rejected; 1 inconclusive; 1 stopped, 0 running\)/);

  const det = fig(r, 'drift_detection');
  near(det.value, 34 / 35, 'detection rate from the benchmark file');
  assert.match(det.text, /97\.1 % \(34 of 35 shifted runs, median 24 min after the onset; 0 false incident\(s\) in 30 monitor-days; 5 seed\(s\), recorded 2026-12-04T10:00:00Z\)/);
  assert.match(det.how, /benchmark/);

  // A longer window takes in the older deploy and spreads it over two months.
  near(fig((await get('?since=60d')).body, 'deployments_per_month').value, E.deploymentsIn60d / 2, '60-day deployments a month');
  assert.equal(fig((await get('?since=60d')).body, 'retrains_automated').value, 4 / 6);
  assert.equal(fig((await get('?since=60d')).body, 'ab_concluded').value, 3 / 5);
  // Hostile or malformed windows are a 400 in MLflow's shape.
  for (const q of ['?since=abc', '?since=0d', '?since=30y', '?since=9999999d']) {
    const bad = await get(q);
    assert.equal(bad.status, 400, q);
    assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE', q);
  }

  const text = await cli(home, 'report', '--since', '30d');
  assert.equal(text.code, 0, text.stderr);
  for (const line of [/Deployments per month\s+4\.0 a month/, /Runs tracked\s+50\.0 %/, /Retrains started by automated triggers\s+80\.0 % \(4 of 5/, /Rollbacks\s+2 rollback/, /how: endpoint\.deploy events in the audit log/]) assert.match(text.stdout, line);
  const json = await cli(home, 'report', '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    (JSON.parse(json.stdout) as ReportView).figures.map((f) => [f.id, f.value]),
    r.figures.map((f) => [f.id, f.value]),
  );
  const bad = await cli(home, 'report', '--since', 'forever');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since takes a duration/);
});

void test('GET /api/v1/report on an empty store: every figure says no data, none says 0 %', { timeout: 60_000 }, async (t) => {
  ensureBuilt();
  const { home, get } = await serve(t, false, null);
  const { status, body: r } = await get();
  assert.equal(status, 200);
  assert.equal(r.figures.length, 8);
  for (const f of r.figures) {
    assert.equal(f.value, null, f.id);
    assert.match(f.text, /^no data \(/, f.id);
    assert.doesNotMatch(f.text, /0(\.0)? %/, f.id);
  }
  assert.match(r.figures.find((f) => f.id === 'drift_detection')!.text, /has not written test\/bench\/results\/monitors-detect\.json/);
  const text = await cli(home, 'report');
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.match(/ no data \(/g)?.length, 8);
});
