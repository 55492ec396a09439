/**
 * Detection by the data-drift monitor over simulated days (issue 12, "Measured"): traffic replayed through the real
 * serving path (app.inject into a real ONNX endpoint) and the real scheduled monitor on a virtual clock (default
 * settings: every 5 min, the newest 1,000 rows, at least 200). Inputs are the fixtures' uniform [0, 2.9] features
 * (σ = 0.837); a scenario shifts some features by kσ, abruptly or linearly over hours. The monitor's verdict is
 * the engine's dataset rule (drift when at least half the features drift), so a one-feature scenario shows that rule. Reports, per scenario, the
 * incidents before the onset (false), whether and when after the onset an incident opened, and the check interval
 * count; on stationary traffic, false incidents per monitor-day. Prints a Markdown table for RESULTS.md.
 *
 * usage: npm run bench -- monitors-detection   (env DETECTION_STATIONARY_DAYS, default 2; DETECTION_ROWS: rows
 *                                                served per 5 min, default 200)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp, type App } from '../../backend/src/app';
import type { IncidentList, MonitorResults } from '../../backend/src/api/v1/contract-monitors';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SIGMA = 2.9 / Math.sqrt(12);
const STATIONARY_DAYS = Number(process.env.DETECTION_STATIONARY_DAYS ?? 2);
const ROWS = Number(process.env.DETECTION_ROWS ?? 200);

interface Scenario {
  name: string;
  /** Hours of stationary traffic before the onset. */
  warm: number;
  /** Hours watched after the onset. */
  watch: number;
  /** The shift of the shifted features, in σ, `h` hours after the onset (0 before). */
  shift: (h: number) => number;
  /** How many of the 4 features shift (the first ones). */
  features: number;
}

const abrupt = (k: number, features = 2): Scenario => ({ name: `abrupt +${k}σ on ${features} of 4 features`, warm: 1, watch: 2, shift: () => k, features });
const gradual = (k: number, hours: number): Scenario => ({ name: `gradual to +${k}σ over ${hours} h on 2 of 4 features`, warm: 1, watch: hours + 1, shift: (h) => k * Math.min(1, h / hours), features: 2 });

const ALL: Scenario[] = [
  { name: `stationary, ${STATIONARY_DAYS} days`, warm: STATIONARY_DAYS * 24, watch: 0, shift: () => 0, features: 0 },
  abrupt(0.1),
  abrupt(0.25),
  abrupt(0.5),
  abrupt(1),
  gradual(1, 2),
  abrupt(1, 1),
];
const SCENARIOS = process.env.DETECTION_ONLY ? ALL.filter((s) => s.name.includes(process.env.DETECTION_ONLY!)) : ALL;

async function call<T>(app: App, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object): Promise<T> {
  const r = await app.server.inject({ method, url, headers: AUTH, ...(payload ? { payload } : {}) });
  if (r.statusCode !== 200) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
  return JSON.parse(r.body) as T;
}

async function run(s: Scenario): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'mlops-bench-detect-'));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: TOKEN, clock, serving: { tickMs: HOUR } });
  const t0 = performance.now();
  try {
    await app.server.ready();
    const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
    const dir = app.ctx.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
    writeFileSync(join(app.ctx.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(5000, 11).map((r) => r.join(',')).join('\n')}\n`);
    await call(app, 'POST', '/endpoints/iris/deploy', { model: `iris/${v}` });
    for (const k of ['prediction_drift', 'concept_drift', 'performance']) await call(app, 'POST', `/api/v1/monitors/iris/${k}/pause`);
    const start = clock.now();
    const onset = start + s.warm * HOUR;
    const end = onset + s.watch * HOUR;
    let checks = 0;
    let seed = 1000;
    while (clock.now() < end) {
      const h = (clock.now() - onset) / HOUR;
      const k = clock.now() < onset ? 0 : s.shift(h);
      const rows = sampleRows(ROWS, seed++).map((r) => r.map((x, j) => (j < s.features ? x + k * SIGMA : x)));
      for (let i = 0; i < rows.length; i += 20) {
        await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(i, i + 20) } } });
      }
      const due = (await call<{ next_run_at: number }>(app, 'GET', '/api/v1/monitors/iris/data_drift')).next_run_at;
      // The monitors tick every 5 s: one tick past the due time runs the check.
      await clock.advance(Math.max(0, due - clock.now()) + 6000);
      // The scheduled check runs on its own: wait for it to be stored (state, not time).
      for (let i = 0; ; i++) {
        const n = (await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results?limit=1')).results[0];
        if (n && n.checked_at >= due) break;
        if (i > 2000) throw new Error(`the check due at ${new Date(due).toISOString()} was not stored`);
        await new Promise((r) => setTimeout(r, 5));
      }
      checks++;
      if (s.watch > 0 && clock.now() >= onset) {
        const open = (await call<IncidentList>(app, 'GET', '/api/v1/incidents?status=all')).incidents.filter((x) => x.opened_at >= onset);
        if (open.length) break;
      }
    }
    const results = (await call<MonitorResults>(app, 'GET', '/api/v1/monitors/iris/data_drift/results?limit=10000')).results;
    const statuses = Object.entries(results.reduce<Record<string, number>>((a, r) => ({ ...a, [r.status]: (a[r.status] ?? 0) + 1 }), {}))
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    if (process.env.DETECTION_DEBUG) console.error(results.slice(0, 3).map((r) => r.summary));
    const incidents = (await call<IncidentList>(app, 'GET', '/api/v1/incidents?status=all')).incidents;
    const falses = incidents.filter((x) => x.opened_at < onset || s.watch === 0);
    const hit = s.watch > 0 ? incidents.find((x) => x.opened_at >= onset) : undefined;
    const days = (Math.min(onset, clock.now()) - start) / (24 * HOUR);
    const detect = s.watch === 0 ? 'n/a' : hit ? `${((hit.opened_at - onset) / MIN).toFixed(1)} min` : `not within ${s.watch} h`;
    const features = hit ? hit.evidence.features.join(', ') : '';
    return `| ${s.name} | ${checks} (${statuses}) | ${falses.length} (${(falses.length / days).toFixed(2)} per monitor-day) | ${detect} | ${features} | ${((performance.now() - t0) / 1000).toFixed(0)} s |`;
  } finally {
    await app.server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const out: string[] = [];
  for (const s of SCENARIOS) {
    out.push(await run(s));
    console.error(out.at(-1));
  }
  console.log(`\nData-drift monitor, defaults (every 5 min, newest 1,000 rows, min 200), ${ROWS} rows served per 5 min:\n`);
  console.log('| scenario | checks | false incidents before onset | onset → incident | features named | wall |');
  console.log('|---|---|---|---|---|---|');
  for (const r of out) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
