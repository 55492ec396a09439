/**
 * Scoring latency with the monitors running vs paused (issue 12: "scoring p99 at 1,000 req/s with monitors running
 * every 10 s is within 10 % of the same run without them"), side by side in one run on one backend
 * (`dist/backend/cli.mjs serve`, checks in its worker thread) and one endpoint. One load-generator process (open loop,
 * keep-alive, started once) scores the endpoint for the whole run; the run is cut into many short phases in A B B A
 * order (paused, running, running, paused, …), switched on a schedule both processes share (the generator bins each
 * request by when it was sent; the first MARGIN s of a phase are left out of its percentiles). At a running phase's
 * start the monitors are resumed and run once, then every 10 s. Each pair of adjacent phases gives a ratio of p99s
 * (running / paused); the result is the median of the pairs' ratios with a distribution-free interval (order
 * statistics of the median) and a bootstrap percentile interval, and the request failures. "Within 10 %" is shown
 * when the interval's upper end is at most 1.10.
 *
 * Then what one check costs the event loop, on the same store (the log the load left, plus labelled requests) opened
 * in this process: each kind's check run with reads and statistics on the main thread, with the statistics in the
 * checks worker and the reads on the main thread (before issue 12's last step), and with both in the worker (now):
 * the longest stretch the event loop could not run anything else (a setImmediate ticker's largest gap), the event
 * loop's busy time while the check ran (eventLoopUtilization, a separate run without the ticker) and the wall time;
 * medians of CHECK_RUNS alternating runs. Prints Markdown for test/bench/RESULTS.md.
 *
 * usage: npm run bench -- monitors-p99   (env MONITORS_BENCH_SECONDS: seconds per phase, default 20;
 *                                          MONITORS_BENCH_RATE: requests per second, default 1000;
 *                                          MONITORS_BENCH_ROUNDS: pairs of phases, default 10)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp, type App } from '../../backend/src/app';
import type { MonitorKind, MonitorResults } from '../../backend/src/api/v1/contract-monitors';
import { openCore } from '../../backend/src/core';
import { runCheck } from '../../backend/src/services/monitors/checks';
import { CheckWorker } from '../../backend/src/services/monitors/checkworker';
import { computeOn, type ComputeRunner } from '../../backend/src/services/monitors/compute';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { ensureBuilt, sleep, startBackend, startLoad } from '../integration/serving/proc';

const SECONDS = Number(process.env.MONITORS_BENCH_SECONDS ?? 20);
const RATE = Number(process.env.MONITORS_BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.MONITORS_BENCH_ROUNDS ?? 10);
const MARGIN = 1;
const CHECK_RUNS = 7;
const KINDS: MonitorKind[] = ['data_drift', 'prediction_drift', 'concept_drift', 'performance'];

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** P(Binomial(n, 1/2) ≤ k). */
function binomCdf(n: number, k: number): number {
  let p = 0;
  let c = 1;
  for (let i = 0; i <= k; i++) {
    p += c;
    c = (c * (n - i)) / (i + 1);
  }
  return p / 2 ** n;
}

/** The widest-coverage-at-least-95 % order-statistic interval of the median, [x(k+1), x(n-k)], and its coverage. */
function medianInterval(xs: number[]): { lo: number; hi: number; coverage: number } {
  const s = sorted(xs);
  const n = s.length;
  let k = 0;
  while (k + 1 < n / 2 && 1 - 2 * binomCdf(n, k + 1) >= 0.95) k++;
  return { lo: s[k]!, hi: s[n - 1 - k]!, coverage: 1 - 2 * binomCdf(n, k) };
}

/** 95 % bootstrap percentile interval of the median (10,000 resamples, a fixed seed). */
function bootstrapInterval(xs: number[]): { lo: number; hi: number } {
  // mulberry32
  let seed = 12345;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const meds: number[] = [];
  for (let b = 0; b < 10_000; b++) meds.push(median(xs.map(() => xs[Math.floor(rnd() * xs.length)]!)));
  const s = sorted(meds);
  return { lo: s[Math.floor(0.025 * s.length)]!, hi: s[Math.ceil(0.975 * s.length) - 1]! };
}

/** Runs `f` while a setImmediate ticker measures the longest gap between its turns (the longest event-loop block). */
async function blocked(f: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  let on = true;
  const tick = () => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  await f();
  on = false;
  tick();
  return worst;
}

/** The event loop's busy time while `f` runs (no ticker: idle time is idle), and its wall time. */
async function busy(f: () => Promise<unknown>): Promise<{ activeMs: number; wallMs: number }> {
  const e0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await f();
  const wallMs = performance.now() - t0;
  return { activeMs: performance.eventLoopUtilization(e0).active, wallMs };
}

/** The event-loop cost of each kind's check: all on the main thread; statistics in the worker; reads and statistics in the worker. */
async function checkCost(home: string): Promise<string[]> {
  const app: App = await buildApp({ home, token: TOKEN });
  const rt = app.runtime;
  const statsOnly = new CheckWorker(rt.log, rt.core.db, { readHere: true });
  try {
    await app.server.ready();
    // Labelled traffic for concept drift and accuracy: 300 requests of 20 rows, every row's label the prediction.
    const rows = sampleRows(6000, 9);
    for (let i = 0; i < rows.length; i += 400) {
      const feedback: { request_id: string; label: number[] }[] = [];
      for (let j = i; j < i + 400; j += 20) {
        const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: rows.slice(j, j + 20) } } });
        feedback.push({ request_id: r.headers['x-request-id'] as string, label: (JSON.parse(r.body) as { predictions: unknown[] }).predictions.flat().map(Number) });
      }
      await app.server.inject({ method: 'POST', url: '/endpoints/iris/feedback', headers: AUTH, payload: { feedback } });
    }
    const both = rt.monitors.compute!;
    statsOnly.warm();
    const deps = { db: rt.core.db, registry: rt.core.registry, drift: rt.drift, flushLog: () => rt.servingRepo.flush(), endpoint: (n: string) => rt.engine.list().find((e) => e.name === n) ?? null };
    const sides: [string, ComputeRunner][] = [['main', computeOn(rt.core.db)], ['stats', statsOnly], ['worker', both]];
    const out: string[] = [];
    for (const kind of KINDS) {
      const m = rt.monitors.repo.get('iris', kind)!;
      const input = { endpoint: 'iris', kind, config: m.config, state: m.state };
      const block: Record<string, number[]> = { main: [], stats: [], worker: [] };
      const active: Record<string, number[]> = { main: [], stats: [], worker: [] };
      const wall: Record<string, number[]> = { main: [], stats: [], worker: [] };
      let status = '';
      // Alternating, after one warm-up run of each.
      for (let i = 0; i <= CHECK_RUNS; i++) {
        for (const [side, compute] of sides) {
          const run = async () => (status = (await runCheck({ ...deps, compute }, input)).status);
          const b = await blocked(run);
          const u = await busy(run);
          if (i === 0) continue;
          block[side]!.push(b);
          active[side]!.push(u.activeMs);
          wall[side]!.push(u.wallMs);
        }
      }
      const f = (r: Record<string, number[]>) => ['main', 'stats', 'worker'].map((s) => median(r[s]!).toFixed(1)).join(' | ');
      out.push(`| ${kind} | ${status} | ${f(block)} | ${f(active)} | ${f(wall)} |`);
      console.error(out.at(-1));
    }
    return out;
  } finally {
    await statsOnly.close();
    await app.server.close();
  }
}

interface PhaseRow {
  on: boolean;
  load: number;
  checks: number;
  sent: number;
  failed: number;
  p50: number | null;
  p99: number | null;
}

async function main(): Promise<void> {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-bench-monitors-'));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  const dir = ctx.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
  writeFileSync(join(ctx.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(5000, 11).map((r) => r.join(',')).join('\n')}\n`);
  ctx.db.close();
  const be = await startBackend(home);
  const phases: PhaseRow[] = [];
  const load0 = loadavg()[0]!;
  let cost: string[] = [];
  try {
    const api = async <T>(method: string, path: string, body?: object): Promise<T> => {
      const r = await fetch(`${be.url}${path}`, { method, headers: { authorization: `Bearer ${be.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as T;
    };
    await api('POST', '/endpoints/iris/deploy', { model: `iris/${v}` });
    // Every 10 s; the performance SLO wide enough that a loaded machine's latency is not an incident.
    await api('POST', '/api/v1/monitors/apply', { endpoints: { iris: { all: { interval_minutes: 10 / 60, paused: true }, performance: { max_p99_ms: 60_000, max_error_rate: 1 } } } });
    const bodies = sampleRows(300, 7).map((r) => ({ dataframe_split: { columns: [...FEATURES], data: [r] } }));
    const base = { url: be.url, token: be.token, path: '/endpoints/iris/invocations', rate: RATE, concurrency: 64, bodies };
    await startLoad({ ...base, seconds: 5 }).result; // warm-up: JIT, the log's first rows, a reference for prediction drift
    // A B B A: paused, running | running, paused | …
    const order = Array.from({ length: ROUNDS }, (_, r) => (r % 2 ? [true, false] : [false, true])).flat();
    const startAt = Date.now() + 5_000;
    const load = startLoad({ ...base, seconds: order.length * SECONDS, startAt, phaseSeconds: SECONDS, marginSeconds: MARGIN });
    for (const [i, on] of order.entries()) {
      await sleep(Math.max(0, startAt + i * SECONDS * 1000 - Date.now()));
      phases.push({ on, load: loadavg()[0]!, checks: 0, sent: 0, failed: 0, p50: null, p99: null });
      if (on === (order[i - 1] ?? false)) continue;
      await Promise.all(KINDS.map((k) => api('POST', `/api/v1/monitors/iris/${k}/${on ? 'resume' : 'pause'}`)));
      // Running from the phase's start: once now, then every 10 s.
      if (on) await Promise.all(KINDS.map((k) => api('POST', `/api/v1/monitors/iris/${k}/run`)));
    }
    const s = await load.result;
    await Promise.all(KINDS.map((k) => api('POST', `/api/v1/monitors/iris/${k}/pause`)));
    for (const k of KINDS) {
      for (const r of (await api<MonitorResults>('GET', `/api/v1/monitors/iris/${k}/results?limit=10000`)).results) {
        const i = Math.floor((r.checked_at - startAt) / (SECONDS * 1000));
        if (phases[i]) phases[i]!.checks++;
      }
    }
    s.phases.forEach((p, i) => {
      if (phases[i]) Object.assign(phases[i]!, { sent: p.sent, failed: p.failed, p50: p.p50_ms, p99: p.p99_ms });
    });
  } finally {
    await be.stop();
    await sleep(100);
  }
  try {
    cost = await checkCost(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const f2 = (x: number | null) => (x === null ? '-' : x.toFixed(2));
  console.log(`\nScoring at ${RATE} req/s, one row per request, ${ROUNDS} pairs of ${SECONDS} s phases in A B B A order (one open-loop load generator, first ${MARGIN} s of each phase not in its percentiles); load average ${load0.toFixed(1)} at the start:\n`);
  console.log('| pair | phase | monitors | requests | failed | p50 ms | p99 ms | checks stored | load avg | p99 ratio running / paused |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const [a, b] = [phases[2 * r], phases[2 * r + 1]];
    const on = [a, b].find((p) => p?.on);
    const off = [a, b].find((p) => p && !p.on);
    const ratio = on?.p99 && off?.p99 ? on.p99 / off.p99 : null;
    if (ratio !== null) ratios.push(ratio);
    [a, b].forEach((p, j) => {
      if (p) console.log(`| ${r + 1} | ${2 * r + j + 1} | ${p.on ? 'running every 10 s' : 'paused'} | ${p.sent} | ${p.failed} | ${f2(p.p50)} | ${f2(p.p99)} | ${p.checks} | ${p.load.toFixed(1)} | ${j === 0 ? f2(ratio) : ''} |`);
    });
  }
  const side = (on: boolean) => phases.filter((p) => p.on === on);
  const p99s = (on: boolean) => side(on).flatMap((p) => (p.p99 === null ? [] : [p.p99]));
  const failed = (on: boolean) => side(on).reduce((n, p) => n + p.failed, 0);
  const sent = (on: boolean) => side(on).reduce((n, p) => n + p.sent, 0);
  const os = medianInterval(ratios);
  const bs = bootstrapInterval(ratios);
  console.log(
    `\nMedian of the ${ratios.length} pairs' p99 ratios (running / paused): **${median(ratios).toFixed(3)}**; order-statistic interval ${os.lo.toFixed(3)}–${os.hi.toFixed(3)} (coverage ${(os.coverage * 100).toFixed(1)} %); bootstrap 95 % ${bs.lo.toFixed(3)}–${bs.hi.toFixed(3)}. ` +
      `Within 10 %: ${os.hi <= 1.1 ? 'shown (upper end ≤ 1.10)' : 'not shown (upper end > 1.10)'}. Median p99 paused ${median(p99s(false)).toFixed(2)} ms, running ${median(p99s(true)).toFixed(2)} ms. ` +
      `Failed requests: paused ${failed(false)} of ${sent(false)}, running ${failed(true)} of ${sent(true)}; checks stored while running: ${side(true).reduce((n, p) => n + p.checks, 0)}, while paused: ${side(false).reduce((n, p) => n + p.checks, 0)}.`,
  );
  console.log(`\nOne check's cost to the event loop (in-process on the same store, medians of ${CHECK_RUNS} alternating runs; main: reads and statistics on the main thread; stats: statistics in the worker, reads on the main thread; worker: both in the worker):\n`);
  console.log('| kind | status | longest block ms: main | stats | worker | event-loop busy ms: main | stats | worker | wall ms: main | stats | worker |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of cost) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
