// Log-batch ingestion, metrics per second: CLIENTS concurrent keep-alive clients, each logging batches of 1,000
// metrics into its own run through POST /api/2.0/mlflow/runs/log-batch. The same JSON bodies go to our backend and
// to a real `mlflow server` (SQLite); the physical limit is plain better-sqlite3 inserts of the same rows, in one
// transaction, into the same metrics table. Server CPU seconds are reported too: the machine is shared.
// Size: TRACKING_BENCH_CLIENTS (4) clients × TRACKING_BENCH_BATCHES (100) batches for ours, MLFLOW_BATCHES (10)
// for mlflow (it is far slower), ROUNDS (3) rounds for ours (median); TRACKING_BENCH_MLFLOW_WORKERS (1).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coreMigrations } from '../../backend/src/store/migrations';
import { call, closeAgents, mlflowApi, type Target } from './lib/http';
import { fmt, header, median } from './lib/report';
import { startMlflowServer, startOurs, treeCpuSeconds, type BenchServer } from './lib/servers';

const env = (k: string, d: number): number => Number(process.env[`TRACKING_BENCH_${k}`] ?? d);
const CLIENTS = env('CLIENTS', 4);
const BATCHES = env('BATCHES', 100);
const MLFLOW_BATCHES = env('MLFLOW_BATCHES', 10);
const ROUNDS = env('ROUNDS', 3);
const MLFLOW_WORKERS = env('MLFLOW_WORKERS', 1);
const KEYS = 10;
const STEPS = 100; // KEYS × STEPS = 1,000 metrics per batch
const T0 = 1_767_225_600_000;

interface Point {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** Batch b (b = 0 is the warm-up): KEYS curves, STEPS consecutive steps each. */
function batch(b: number): Point[] {
  const out: Point[] = [];
  for (let k = 0; k < KEYS; k++) {
    for (let s = 0; s < STEPS; s++) {
      const step = b * STEPS + s;
      out.push({ key: `metric_${k}`, value: Math.round(Math.exp(-step / 500) * (1 + k) * 1e6) / 1e6 + Math.sin(step) * 1e-3, timestamp: T0 + step * 10, step });
    }
  }
  return out;
}

const batchJson = Array.from({ length: Math.max(BATCHES, MLFLOW_BATCHES) + 1 }, (_, b) => JSON.stringify(batch(b)));
const body = (runId: string, b: number): string => `{"run_id":"${runId}","metrics":${batchJson[b]}}`;

interface Result {
  metrics: number;
  seconds: number;
  cpu: number;
}

/** One round: fresh runs, one warm-up batch each, then `batches` measured batches per client, all concurrent. */
async function round(s: BenchServer, experimentId: string, batches: number, tag: string): Promise<Result> {
  const runs: string[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const r = (await mlflowApi(s, '/runs/create', { experiment_id: experimentId, run_name: `${tag}-client-${c}`, start_time: T0 })) as { run: { info: { run_id: string } } };
    runs.push(r.run.info.run_id);
  }
  await Promise.all(runs.map((id) => call(s, 'POST', '/api/2.0/mlflow/runs/log-batch', body(id, 0))));
  const cpu0 = treeCpuSeconds(s.pid);
  const t0 = performance.now();
  await Promise.all(
    runs.map(async (id) => {
      for (let b = 1; b <= batches; b++) await call(s, 'POST', '/api/2.0/mlflow/runs/log-batch', body(id, b));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = treeCpuSeconds(s.pid) - cpu0;
  for (const id of runs) await verify(s, id, batches);
  return { metrics: CLIENTS * batches * KEYS * STEPS, seconds, cpu };
}

/** Every acknowledged point is readable: the full history of one key, and the latest value of each. */
async function verify(s: Target, runId: string, batches: number): Promise<void> {
  const h = (await call(s, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=metric_3`)) as { metrics: Point[] };
  const want = (batches + 1) * STEPS;
  if (h.metrics.length !== want) throw new Error(`${s.name}: run ${runId} has ${h.metrics.length} points of metric_3, expected ${want}`);
  const r = (await call(s, 'GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)) as { run: { data: { metrics: Point[] } } };
  const last = batch(batches).filter((p) => p.step === batches * STEPS + STEPS - 1);
  for (const p of last) {
    const got = r.run.data.metrics.find((m) => m.key === p.key);
    if (!got || got.step !== p.step || got.value !== p.value) throw new Error(`${s.name}: latest ${p.key} is ${JSON.stringify(got)}, expected ${JSON.stringify(p)}`);
  }
}

async function measure(s: BenchServer, batches: number, rounds: number): Promise<Result & { rate: number; rates: number[] }> {
  const exp = (await mlflowApi(s, '/experiments/create', { name: 'bench-ingest' })) as { experiment_id: string };
  const results: Result[] = [];
  for (let i = 0; i < rounds; i++) results.push(await round(s, exp.experiment_id, batches, `r${i}`));
  const rates = results.map((r) => r.metrics / r.seconds);
  const best = results[rates.indexOf(median(rates))]!;
  return { ...best, rate: median(rates), rates };
}

/** The physical limit: the same rows into the same metrics table (same pragmas), in one transaction. */
interface Plain {
  rate: number;
  perCpu: number;
}

function plainSqlite(batches: number): { oneTx: Plain; perBatchTx: Plain } {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-bench-'));
  try {
    let files = 0;
    const rate = (perBatch: boolean): Plain => {
      const db = new Database(join(dir, `plain-${files++}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(coreMigrations.map((m) => m.sql).join('\n'));
      const ids = Array.from({ length: CLIENTS }, (_, c) => `run${c}`.padEnd(32, '0'));
      // The same foreign keys as the backend's store (better-sqlite3 enforces them by default).
      db.exec("INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (1, 'e', 'a', 'active', 0, 0)");
      for (const id of ids) db.prepare("INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, artifact_uri) VALUES (?, 1, 'n', 'RUNNING', 0, 'a')").run(id);
      const ins = db.prepare('INSERT OR IGNORE INTO metrics (run_uuid, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      const rows = Array.from({ length: batches }, (_, b) => batch(b + 1));
      const insertBatch = (id: string, pts: Point[]): void => {
        for (const p of pts) ins.run(id, p.key, p.step, p.timestamp, p.value, 0, null, null, null);
      };
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      if (perBatch) {
        const tx = db.transaction(insertBatch);
        for (const pts of rows) for (const id of ids) tx(id, pts);
      } else {
        db.transaction(() => {
          for (const pts of rows) for (const id of ids) insertBatch(id, pts);
        })();
      }
      const n = CLIENTS * batches * KEYS * STEPS;
      const r = n / ((performance.now() - t0) / 1000);
      const cpu = process.cpuUsage(cpu0);
      db.close();
      return { rate: r, perCpu: n / ((cpu.user + cpu.system) / 1e6) };
    };
    const pick = (xs: Plain[]): Plain => ({ rate: median(xs.map((x) => x.rate)), perCpu: median(xs.map((x) => x.perCpu)) });
    const one = [rate(false), rate(false), rate(false)];
    const per = [rate(true), rate(true), rate(true)];
    return { oneTx: pick(one), perBatchTx: pick(per) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  header(`tracking ingestion: ${CLIENTS} concurrent clients × batches of ${KEYS * STEPS} metrics via /runs/log-batch`);
  const ours = await startOurs();
  let o;
  try {
    o = await measure(ours, BATCHES, ROUNDS);
  } finally {
    closeAgents();
    await ours.stop();
  }
  console.log(`mlops:  ${fmt(o.rate)} metrics/s (median of ${ROUNDS} rounds of ${fmt(o.metrics)}: ${o.rates.map((r) => fmt(r)).join(', ')}); ${fmt(o.metrics / o.cpu)} metrics per server CPU-second`);
  const mlflow = await startMlflowServer(MLFLOW_WORKERS);
  let m;
  try {
    m = await measure(mlflow, MLFLOW_BATCHES, 1);
  } finally {
    closeAgents();
    await mlflow.stop();
  }
  console.log(`${mlflow.name}: ${fmt(m.rate)} metrics/s (${fmt(m.metrics)} metrics in ${m.seconds.toFixed(1)} s); ${fmt(m.metrics / m.cpu)} metrics per server CPU-second`);
  const plain = plainSqlite(BATCHES);
  console.log(`plain better-sqlite3: ${fmt(plain.oneTx.rate)} rows/s in one transaction (${fmt(plain.oneTx.perCpu)} per CPU-second); ${fmt(plain.perBatchTx.rate)} rows/s with one transaction per 1,000 (${fmt(plain.perBatchTx.perCpu)} per CPU-second)`);
  console.log('\nresult');
  console.log(`  mlops / mlflow (wall):           ${(o.rate / m.rate).toFixed(1)}×   (aim ≥ 20×)`);
  console.log(`  mlops / mlflow (server CPU):     ${(o.metrics / o.cpu / (m.metrics / m.cpu)).toFixed(1)}×`);
  const ourCpuRate = o.metrics / o.cpu;
  console.log(`  mlops / plain SQLite, one tx:    ${((100 * o.rate) / plain.oneTx.rate).toFixed(0)}% wall, ${((100 * ourCpuRate) / plain.oneTx.perCpu).toFixed(0)}% per CPU-second   (aim ≥ 50%)`);
  console.log(`  mlops / plain SQLite, tx per 1k: ${((100 * o.rate) / plain.perBatchTx.rate).toFixed(0)}% wall, ${((100 * ourCpuRate) / plain.perBatchTx.perCpu).toFixed(0)}% per CPU-second`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
