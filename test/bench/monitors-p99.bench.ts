/**
 * Scoring latency with the monitors running vs paused (issue 12: checks must not hurt the request path), side by side
 * in one run on one backend (`dist/backend/cli.mjs serve`, checks in its worker thread): a real ONNX endpoint served
 * at a fixed rate (open loop, a separate load-generator process), in alternating phases with its four monitors paused
 * and running every 10 s, the order flipped every round (off/on, on/off, …) so a drift in the machine's load does not
 * favour one side. Reports each phase, then the medians of p50/p99 per side and their ratio.
 *
 * Then what one check costs the event loop, on the same store (the log the load left, plus labelled requests) opened
 * in this process: each kind's check run with its statistics on the main thread (before the worker) and in the
 * checks worker (now), timing the longest stretch the event loop could not run anything else (a setImmediate ticker's
 * largest gap) and the check's wall time; medians of CHECK_RUNS runs. Prints Markdown for test/bench/RESULTS.md.
 *
 * usage: npm run bench -- monitors-p99   (env MONITORS_BENCH_SECONDS: seconds per phase, default 20;
 *                                          MONITORS_BENCH_RATE: requests per second, default 1000;
 *                                          MONITORS_BENCH_ROUNDS: off/on pairs, default 4)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp, type App } from '../../backend/src/app';
import type { MonitorKind, MonitorResults } from '../../backend/src/api/v1/contract-monitors';
import { openCore } from '../../backend/src/core';
import { runCheck } from '../../backend/src/services/monitors/checks';
import { computeOn, type ComputeRunner } from '../../backend/src/services/monitors/compute';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { ensureBuilt, sleep, startBackend, startLoad } from '../integration/serving/proc';

const SECONDS = Number(process.env.MONITORS_BENCH_SECONDS ?? 20);
const RATE = Number(process.env.MONITORS_BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.MONITORS_BENCH_ROUNDS ?? 4);
const CHECK_RUNS = 7;
const KINDS: MonitorKind[] = ['data_drift', 'prediction_drift', 'concept_drift', 'performance'];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs `f` while a setImmediate ticker measures the longest gap between its turns (the longest event-loop block). */
async function blocked(f: () => Promise<unknown>): Promise<{ blockMs: number; wallMs: number }> {
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
  const t0 = performance.now();
  await f();
  const wallMs = performance.now() - t0;
  on = false;
  tick();
  return { blockMs: worst, wallMs };
}

/** The event-loop cost of each kind's check, statistics on the main thread vs in the checks worker. */
async function checkCost(home: string): Promise<string[]> {
  const app: App = await buildApp({ home, token: TOKEN });
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
    const rt = app.runtime;
    const worker = rt.monitors.compute!;
    const deps = { db: rt.core.db, registry: rt.core.registry, drift: rt.drift, flushLog: () => rt.servingRepo.flush(), endpoint: (n: string) => rt.engine.list().find((e) => e.name === n) ?? null };
    const out: string[] = [];
    for (const kind of KINDS) {
      const m = rt.monitors.repo.get('iris', kind)!;
      const input = { endpoint: 'iris', kind, config: m.config, state: m.state };
      const timed: Record<string, { blockMs: number; wallMs: number }[]> = { main: [], worker: [] };
      let status = '';
      // Alternating, after one warm-up run of each.
      for (let i = 0; i <= CHECK_RUNS; i++) {
        for (const [side, compute] of [['main', computeOn(rt.core.db)], ['worker', worker]] as [string, ComputeRunner][]) {
          const t = await blocked(async () => (status = (await runCheck({ ...deps, compute }, input)).status));
          if (i > 0) timed[side]!.push(t);
        }
      }
      const b = (s: string) => median(timed[s]!.map((t) => t.blockMs));
      const w = (s: string) => median(timed[s]!.map((t) => t.wallMs));
      out.push(`| ${kind} | ${status} | ${b('main').toFixed(1)} | ${b('worker').toFixed(1)} | ${w('main').toFixed(1)} | ${w('worker').toFixed(1)} |`);
      console.error(out.at(-1));
    }
    return out;
  } finally {
    await app.server.close();
  }
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
  const rows: string[] = [];
  const p99: Record<'off' | 'on', number[]> = { off: [], on: [] };
  const p50: Record<'off' | 'on', number[]> = { off: [], on: [] };
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
    const load = (seconds: number) => startLoad({ url: be.url, token: be.token, path: '/endpoints/iris/invocations', rate: RATE, seconds, concurrency: 64, bodies, warmupSeconds: 1 }).result;
    await load(5); // warm-up: JIT, the log's first rows, a reference for prediction drift
    const checks = async () => {
      let n = 0;
      for (const k of KINDS) n += (await api<MonitorResults>('GET', `/api/v1/monitors/iris/${k}/results?limit=10000`)).results.length;
      return n;
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const on of round % 2 ? [true, false] : [false, true]) {
        for (const k of KINDS) await api('POST', `/api/v1/monitors/iris/${k}/${on ? 'resume' : 'pause'}`);
        const before = await checks();
        const la = loadavg()[0]!;
        const s = await load(SECONDS);
        const ran = (await checks()) - before;
        if (s.p99_ms !== null && s.p50_ms !== null) {
          p99[on ? 'on' : 'off'].push(s.p99_ms);
          p50[on ? 'on' : 'off'].push(s.p50_ms);
        }
        rows.push(`| ${round + 1} | ${on ? 'running every 10 s' : 'paused'} | ${s.throughput.toFixed(0)} | ${s.p50_ms?.toFixed(2) ?? '-'} | ${s.p99_ms?.toFixed(2) ?? '-'} | ${s.failed} | ${ran} | ${la.toFixed(1)} |`);
        console.error(rows.at(-1));
      }
    }
    for (const k of KINDS) await api('POST', `/api/v1/monitors/iris/${k}/pause`);
  } finally {
    await be.stop();
    await sleep(100);
  }
  try {
    cost = await checkCost(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`\nScoring at ${RATE} req/s, one row per request, ${SECONDS} s per phase, ${ROUNDS} rounds (open loop, separate load generator):\n`);
  console.log('| round | monitors | req/s | p50 ms | p99 ms | failed | checks stored | load avg |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  const ratio = median(p99.on) / median(p99.off);
  console.log(`\nMedian p99: paused ${median(p99.off).toFixed(2)} ms, running ${median(p99.on).toFixed(2)} ms, ratio ${ratio.toFixed(3)} (aim ≤ 1.10); median p50: paused ${median(p50.off).toFixed(2)} ms, running ${median(p50.on).toFixed(2)} ms.`);
  console.log(`\nOne check's cost to the event loop (in-process on the same store, medians of ${CHECK_RUNS} alternating runs):\n`);
  console.log('| kind | status | longest block, main thread (ms) | longest block, worker (ms) | wall, main (ms) | wall, worker (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of cost) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
