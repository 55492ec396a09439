/**
 * Scoring latency with the monitors running vs paused (issue 12: checks must not hurt the request path), side by side
 * in one run on one backend: a real ONNX endpoint served at a fixed rate (open loop, a separate load-generator
 * process), in alternating phases with its four monitors paused and running every 10 s. Each phase reports p50/p99,
 * the checks stored during it, and the load average when it started (the machine is shared). Also times each kind's
 * check on its own (run-now over HTTP). Prints a Markdown table for test/bench/RESULTS.md.
 *
 * usage: npm run bench -- monitors-p99   (env MONITORS_BENCH_SECONDS: seconds per phase, default 30;
 *                                          MONITORS_BENCH_RATE: requests per second, default 1000;
 *                                          MONITORS_BENCH_ROUNDS: off/on pairs, default 2)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MonitorResults } from '../../backend/src/api/v1/contract-monitors';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { ensureBuilt, sleep, startBackend, startLoad } from '../integration/serving/proc';

const SECONDS = Number(process.env.MONITORS_BENCH_SECONDS ?? 30);
const RATE = Number(process.env.MONITORS_BENCH_RATE ?? 1000);
const ROUNDS = Number(process.env.MONITORS_BENCH_ROUNDS ?? 2);
const KINDS = ['data_drift', 'prediction_drift', 'concept_drift', 'performance'] as const;

async function main(): Promise<void> {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-bench-monitors-'));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  const dir = ctx.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
  writeFileSync(join(ctx.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(5000, 11).map((r) => r.join(',')).join('\n')}\n`);
  ctx.db.close();
  const be = await startBackend(home);
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
    const rows: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const on of [false, true]) {
        for (const k of KINDS) await api('POST', `/api/v1/monitors/iris/${k}/${on ? 'resume' : 'pause'}`);
        const before = await checks();
        const la = loadavg()[0]!;
        const s = await load(SECONDS);
        const ran = (await checks()) - before;
        rows.push(`| ${round + 1} | ${on ? 'running every 10 s' : 'paused'} | ${s.throughput.toFixed(0)} | ${s.p50_ms?.toFixed(2) ?? '-'} | ${s.p99_ms?.toFixed(2) ?? '-'} | ${s.failed} | ${ran} | ${la.toFixed(1)} |`);
        console.error(rows.at(-1));
      }
    }
    for (const k of KINDS) await api('POST', `/api/v1/monitors/iris/${k}/pause`);
    const timed: string[] = [];
    for (const k of KINDS) {
      const ms: number[] = [];
      let summary = '';
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        summary = (await api<{ result: { status: string; summary: string } }>('POST', `/api/v1/monitors/iris/${k}/run`)).result.status;
        ms.push(performance.now() - t0);
      }
      ms.sort((a, b) => a - b);
      timed.push(`| ${k} | ${ms[2]!.toFixed(1)} | ${ms[4]!.toFixed(1)} | ${summary} |`);
    }
    console.log(`\nScoring at ${RATE} req/s, one row per request, ${SECONDS} s per phase (open loop, separate load generator):\n`);
    console.log('| round | monitors | req/s | p50 ms | p99 ms | failed | checks stored | load avg |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log('\nOne check on its own (run-now over HTTP, 5 runs after the load, the newest 1,000 logged rows):\n');
    console.log('| kind | median ms | max ms | status |');
    console.log('|---|---|---|---|');
    for (const r of timed) console.log(r);
  } finally {
    await be.stop();
    await sleep(100);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
