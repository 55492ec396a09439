/**
 * Detection by the monitors over simulated days (issue 12 "Measured"): traffic replayed minute by minute on a
 * virtual clock through the real serving path (app.server.inject into a real ONNX endpoint, the real prediction log
 * and feedback labels) and the real MonitorService (its durable schedule, checks and incidents); the monitors' tick
 * is called once per simulated minute instead of by the scheduler's 5 s loop, so days replay in seconds.
 *
 * Traffic: one request of 20 rows a minute (28,800 rows a day), inputs uniform on [0, 2.9] per feature like the
 * version's training profile (σ = 0.837), a feedback label for every row (the prediction, flipped for 5 % of rows).
 * Monitors: data drift every 5 min over the newest 1,000 rows (min 200), prediction drift every 5 min over 50 requests
 * (1,000 predictions) against the first 50 served, concept drift (ADWIN, δ 0.002) every 5 min over the newest 300
 * labelled requests (6,000 rows). Scenarios: stationary traffic (false incidents per monitor-day); after a 3 h warm-up, abrupt mean
 * shifts of 0.25σ, 0.5σ and 1σ on two of four features, a ×1.25 scale change, a gradual shift growing to 1σ over 6 h,
 * a concept change (the flipped share of labels 5 % → 10 %: accuracy 95 % → 90 %, 5 points), and category-mix changes:
 * features 2 and 3 served as category codes 0/1/2 drawn .5/.3/.2 (as the version's profile says, where they are
 * categorical), the mix moving to .4/.3/.3 or .3/.3/.4 at the onset (with a stationary run of this setup for its false
 * incidents), and a latency regression: the endpoint redeployed at the onset with a slower model giving the same
 * answers, watched by the performance monitor's p99 (limit 10 ms; with a stationary run of this setup). Each shift scenario
 * runs SEEDS times with different traffic; a run stops at its first incident of the monitor under test or 12 h after
 * the onset.
 *
 * usage: npm run bench -- monitors-detect   (env DETECT_SEEDS, default 5; DETECT_STATIONARY_DAYS, default 10;
 *                                           DETECT_ONLY: runs only the scenarios whose name contains it, the stationary
 *                                           runs being 'stationary', 'stationary, category-coded' and 'stationary, latency')
 * Besides the table it writes a summary to test/bench/results/monitors-detect.json (env DETECT_RESULTS: another file),
 * which `mlops report` shows as the drift detection rate; a DETECT_ONLY run writes it to the temp folder instead
 * (monitors-detect.partial.json), so a partial run never replaces the full one. The stationary latency run also
 * replays the p99 check's old rule (observed p99 over the limit) over its stored results: the baseline, same run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp, type App } from '../../backend/src/app';
import { buildReferenceProfile, serializeProfile, type RawColumn } from '../../backend/src/services/stats';
import type { MonitorKind } from '../../backend/src/api/v1/contract-monitors';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier, slowClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';

const SEEDS = Number(process.env.DETECT_SEEDS ?? 5);
const STATIONARY_DAYS = Number(process.env.DETECT_STATIONARY_DAYS ?? 10);
const MIN = 60_000;
const ROWS = 20;
const SIGMA = 2.9 / Math.sqrt(12);
const WARMUP_MIN = 180;
const CAP_MIN = 12 * 60;
const ONLY = process.env.DETECT_ONLY;
/** Features served as category codes in the category-mix setup, and their training mix. */
const CODED = [2, 3];
const MIX = [0.5, 0.3, 0.2];

interface Traffic {
  /** The features that move (default 0 and 3). */
  moving?: readonly number[];
  /** Per-feature mean shift and scale at minute m after the onset (m < 0: before it). */
  inputs: (m: number) => { shift: number; scale: number };
  /** Share of labels flipped at minute m after the onset. */
  flipped: (m: number) => number;
  /** Category-mix setup: the mix of codes 0/1/2 for features 2 and 3 at minute m after the onset. */
  mix?: (m: number) => readonly number[];
  /** Latency setup: at the onset the endpoint is redeployed with iris/2, the same answers, slower: a 1,000,000-unit hidden layer. */
  slowRollout?: boolean;
}

const calm: Traffic = { inputs: () => ({ shift: 0, scale: 1 }), flipped: () => 0.05 };
const SCENARIOS: { name: string; kind: MonitorKind; traffic: Traffic }[] = [
  { name: 'mean shift 0.25σ (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, inputs: (m) => ({ shift: m >= 0 ? 0.25 * SIGMA : 0, scale: 1 }) } },
  { name: 'mean shift 0.5σ (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, inputs: (m) => ({ shift: m >= 0 ? 0.5 * SIGMA : 0, scale: 1 }) } },
  { name: 'mean shift 1σ (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, inputs: (m) => ({ shift: m >= 0 ? SIGMA : 0, scale: 1 }) } },
  { name: 'scale ×1.25 (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, inputs: (m) => ({ shift: 0, scale: m >= 0 ? 1.25 : 1 }) } },
  { name: 'gradual shift to 1σ over 6 h', kind: 'data_drift', traffic: { ...calm, inputs: (m) => ({ shift: m >= 0 ? Math.min(1, m / 360) * SIGMA : 0, scale: 1 }) } },
  // The model compares x0 + x1 with x2 + x3: features 0 and 1 moving up move its outputs (0 and 3 together would not).
  { name: 'mean shift 1σ of features 0 and 1, seen by prediction drift', kind: 'prediction_drift', traffic: { ...calm, moving: [0, 1], inputs: (m) => ({ shift: m >= 0 ? SIGMA : 0, scale: 1 }) } },
  { name: 'concept: 5 → 10 % labels flipped (−5 points)', kind: 'concept_drift', traffic: { ...calm, flipped: (m) => (m >= 0 ? 0.1 : 0.05) } },
  { name: 'category mix .5/.3/.2 → .3/.3/.4 (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, mix: (m) => (m >= 0 ? [0.3, 0.3, 0.4] : MIX) } },
  { name: 'category mix .5/.3/.2 → .4/.3/.3 (2 of 4 features)', kind: 'data_drift', traffic: { ...calm, mix: (m) => (m >= 0 ? [0.4, 0.3, 0.3] : MIX) } },
  { name: 'latency regression: rollout of a slower model (p99 limit 10 ms)', kind: 'performance', traffic: { ...calm, slowRollout: true } },
];
const calmCoded: Traffic = { ...calm, mix: () => MIX };
/** The performance monitor in the latency setup: p99 of the newest 30 requests over 10 ms fails (twice opens). */
const LATENCY_SLO = { paused: false, interval_minutes: 5, window_rows: 30, min_rows: 10, max_p99_ms: 10, max_error_rate: 1 };

/** A code 0/1/2 drawn from `mix`. */
const code = (mix: readonly number[], u: number) => (u < mix[0]! ? 0 : u < mix[0]! + mix[1]! ? 1 : 2);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

/** 5,000 training rows; with `coded`, features 2 and 3 as categories (codes drawn from MIX, exact shares). */
function trainingProfile(coded: boolean): unknown {
  const rows = sampleRows(5000, 11);
  const columns = new Map<string, RawColumn>(FEATURES.map((f, j) => [f, { kind: 'numeric' as const, values: rows.map((r) => r[j]!), missing: 0 }]));
  if (coded) for (const j of CODED) columns.set(FEATURES[j]!, { kind: 'categorical', counts: new Map(MIX.map((p, c) => [String(c), p * rows.length])), missing: 0 });
  return JSON.parse(serializeProfile(buildReferenceProfile(columns))) as unknown;
}

async function setUp(coded = false, latency = false): Promise<{ app: App; clock: VirtualClock; home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'mlops-bench-detect-'));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: TOKEN, clock });
  await app.server.ready();
  // The bench drives the monitors' tick itself, once per simulated minute (the scheduler would tick every 5 s).
  await app.runtime.scheduler.stop();
  const v = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const dir = app.ctx.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
  if (!coded) writeFileSync(join(app.ctx.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(5000, 11).map((r) => r.join(',')).join('\n')}\n`);
  const inject = (method: 'POST' | 'PATCH' | 'PUT', url: string, payload: object) => app.server.inject({ method, url, headers: AUTH, payload });
  if (coded && (await inject('PUT', `/api/v1/models/iris/versions/${v}/profile`, { profile: trainingProfile(true) })).statusCode !== 200) throw new Error('profile failed');
  if ((await inject('POST', '/endpoints/iris/deploy', { model: `iris/${v}` })).statusCode !== 200) throw new Error('deploy failed');
  const cfg: Record<string, object> = {
    data_drift: { interval_minutes: 5, window_rows: 1000, min_rows: 200 },
    prediction_drift: { interval_minutes: 5, window_rows: 50, min_rows: 10 },
    concept_drift: { interval_minutes: 5, window_rows: 300, min_rows: 100, delta: 0.002 },
    performance: latency ? LATENCY_SLO : { paused: true },
  };
  // The slower version (same answers) the latency scenario rolls out at its onset.
  if (latency) registerOnnxModel(app.ctx, 'iris', slowClassifier(CHAMPION, 1_000_000));
  for (const [kind, body] of Object.entries(cfg)) {
    const r = await inject('PATCH', `/api/v1/monitors/iris/${kind}`, body);
    if (r.statusCode !== 200) throw new Error(`${kind}: ${r.body}`);
  }
  return { app, clock, home };
}

/** One simulated minute: a request of 20 rows, its labels, the clock, the monitors' tick. */
async function minute(app: App, clock: VirtualClock, traffic: Traffic, m: number, rnd: () => number): Promise<void> {
  if (traffic.slowRollout && m === 0) {
    const d = await app.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: { model: 'iris/2' } });
    if (d.statusCode !== 200) throw new Error(d.body);
  }
  const { shift, scale } = traffic.inputs(m);
  const rows = Array.from({ length: ROWS }, () =>
    FEATURES.map((_, j) => {
      const mix = traffic.mix?.(m);
      if (mix && CODED.includes(j)) return code(mix, rnd());
      const u = rnd() * 2.9;
      // Features 0 and 3 move; the scale change is about the range's centre.
      return Math.round(((traffic.moving ?? [0, 3]).includes(j) ? (u - 1.45) * scale + 1.45 + shift : u) * 100) / 100;
    }),
  );
  const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows } } });
  if (r.statusCode !== 200) throw new Error(r.body);
  const preds = (JSON.parse(r.body) as { predictions: unknown[] }).predictions.map((p) => Number(Array.isArray(p) ? p[0] : p));
  const label = preds.map((p) => (rnd() < traffic.flipped(m) ? 1 - p : p));
  await app.server.inject({ method: 'POST', url: '/endpoints/iris/feedback', headers: AUTH, payload: { request_id: r.headers['x-request-id'] as string, label } });
  await clock.advance(MIN);
  await app.runtime.monitors.tick();
}

const incidents = (app: App) => app.runtime.monitors.incidents({ status: 'all', limit: 10_000 });

async function scenarioRun(s: (typeof SCENARIOS)[number], seed: number): Promise<number | null> {
  const { app, clock, home } = await setUp(s.traffic.mix !== undefined, s.traffic.slowRollout === true);
  try {
    const rnd = rng(1000 + seed * 7919);
    for (let m = -WARMUP_MIN; m < CAP_MIN; m++) {
      await minute(app, clock, s.traffic, m, rnd);
      if (m >= 0 && m % 5 === 0) {
        const hit = incidents(app).find((i) => i.kind === s.kind);
        if (hit) return Math.round((hit.opened_at - (clock.now() - (m + 1) * MIN)) / MIN);
      }
      if (m < 0 && incidents(app).some((i) => i.kind === s.kind)) return -1;
    }
    return null;
  } finally {
    await app.server.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The baseline in the same run: what the p99 check did before the binomial test (fail when the window's observed p99
 * is over the limit; 2 failing checks open an incident, 3 clean ones resolve it), replayed over the stored results of
 * the stationary latency run, and how many requests over the limit the windows held.
 */
function oldLatencyRule(app: App, label: string, days: number): string[] {
  type Fig = { p99_ms: number | null; latency: { over: number; p_value: number } | null };
  const results = app.runtime.monitors.results('iris', 'performance', 100_000).reverse();
  let failures = 0;
  let passes = 0;
  let open = false;
  let opened = 0;
  let oldFails = 0;
  const overs = new Map<number, number>();
  for (const r of results) {
    const figs = ((r.details as { variants?: { details: Fig }[] }).variants ?? []).map((v) => v.details).filter((d) => d.p99_ms !== null);
    if (!figs.length) continue;
    for (const f of figs) overs.set(f.latency?.over ?? -1, (overs.get(f.latency?.over ?? -1) ?? 0) + 1);
    const fail = figs.some((f) => f.p99_ms! > LATENCY_SLO.max_p99_ms);
    oldFails += fail ? 1 : 0;
    failures = fail ? failures + 1 : 0;
    passes = fail ? 0 : passes + 1;
    if (fail && !open && failures >= 2) [open, opened] = [true, opened + 1];
    if (!fail && open && passes >= 3) open = false;
  }
  const hist = [...overs.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k} over: ${n}`).join(', ');
  return [`| ${label}, ${days} days, **before** (observed p99 > limit, same run) | performance | ${oldFails} failing checks | ${opened} false incident${opened === 1 ? '' : 's'} | ${(opened / days).toFixed(2)} per monitor-day; windows by requests over 10 ms: ${hist} |`];
}

async function main(): Promise<void> {
  const started = performance.now();
  const la = loadavg()[0]!.toFixed(1);
  const lines: string[] = [];
  const summary = { benchmark: 'monitors-detect', recorded_at: new Date().toISOString(), seeds: SEEDS, stationary_days: STATIONARY_DAYS, shift_runs: 0, detected: 0, median_minutes: null as number | null, false_incidents: 0, monitor_days: 0, scenarios: [] as { name: string; kind: string; runs: number; detected: number; minutes: number[] }[] };
  const allTimes: number[] = [];
  console.log(`monitors-detect: ${SEEDS} seeds per scenario, ${STATIONARY_DAYS} stationary days; load ${la}`);

  // Stationary: every incident is a false one. Numeric features, then the category-mix setup (data drift only).
  const setups = [
    { label: 'stationary', coded: false, latency: false },
    { label: 'stationary, category-coded (features 2 and 3)', coded: true, latency: false },
    { label: 'stationary, latency SLO 10 ms', coded: false, latency: true },
  ];
  for (const { label, coded, latency } of setups.filter((x) => !ONLY || x.label.includes(ONLY))) {
    const { app, clock, home } = await setUp(coded, latency);
    try {
      const rnd = rng(424242);
      const days = coded || latency ? Math.max(1, Math.round(STATIONARY_DAYS / 5)) : STATIONARY_DAYS;
      for (let m = 0; m < days * 1440; m++) await minute(app, clock, coded ? calmCoded : calm, m, rnd);
      const all = incidents(app);
      const kinds = coded ? (['data_drift'] as const) : latency ? (['performance'] as const) : (['data_drift', 'prediction_drift', 'concept_drift'] as const);
      const checks = kinds.map((k) => [k, app.runtime.monitors.results('iris', k, 100_000).length] as const);
      for (const [k, n] of checks) {
        const f = all.filter((i) => i.kind === k).length;
        summary.false_incidents += f;
        summary.monitor_days += days;
        lines.push(`| ${label}, ${days} days | ${k} | ${n} checks | ${f} false incident${f === 1 ? '' : 's'} | ${(f / days).toFixed(2)} per monitor-day |`);
      }
      if (latency) lines.push(...oldLatencyRule(app, label, days));
    } finally {
      await app.server.close();
      rmSync(home, { recursive: true, force: true });
    }
  }
  for (const s of SCENARIOS.filter((x) => !ONLY || x.name.includes(ONLY))) {
    const times: number[] = [];
    let early = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const t = await scenarioRun(s, seed);
      if (t === -1) early++;
      else if (t !== null) times.push(t);
      process.stdout.write('.');
    }
    times.sort((a, b) => a - b);
    summary.scenarios.push({ name: s.name, kind: s.kind, runs: SEEDS, detected: times.length, minutes: times });
    summary.shift_runs += SEEDS;
    summary.detected += times.length;
    allTimes.push(...times);
    const med = times.length ? times[Math.floor((times.length - 1) / 2)]! : null;
    const max = times.length ? times[times.length - 1]! : null;
    lines.push(`| ${s.name} | ${s.kind} | ${times.length}/${SEEDS} detected within 12 h${early ? ` (${early} false before onset)` : ''} | median ${med ?? '-'} min, max ${max ?? '-'} min | ${times.join(', ')} |`);
  }
  console.log(`\n| scenario | monitor | result | onset → incident | each run (min) |\n|---|---|---|---|---|\n${lines.join('\n')}`);
  allTimes.sort((a, b) => a - b);
  summary.median_minutes = allTimes.length ? allTimes[Math.floor((allTimes.length - 1) / 2)]! : null;
  // The committed summary is `mlops report`'s detection rate: only a run of every scenario may replace it.
  const out = resolve(process.env.DETECT_RESULTS ?? (ONLY ? join(tmpdir(), 'monitors-detect.partial.json') : join(import.meta.dirname, 'results', 'monitors-detect.json')));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`summary written to ${out}`);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s, load at start ${la}, at end ${loadavg()[0]!.toFixed(1)}`);
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
