// search_runs latency over TRACKING_BENCH_RUNS (100,000) runs, each with 3 params, 3 tags (plus mlflow.runName) and
// 3 metrics: `metrics.rmse < 0.5` ordered by `metrics.rmse ASC`, max_results 100 and 1000, TRACKING_BENCH_QUERIES
// (50) timed queries each, p50/p99; the same POST /api/2.0/mlflow/runs/search bodies to our backend and to a real
// `mlflow server` (SQLite). Our store is populated through its REST API. MLflow's gets its first
// TRACKING_BENCH_MLFLOW_REST_RUNS (500) runs through REST too (timed, so the full REST populate can be estimated);
// the rest are written into its SQLite file with SQL that copies the rows its REST API wrote for those runs.
// Both servers must return the same rmse values, in order, as the generated data says.
import Database from 'better-sqlite3';
import { call, closeAgents, mlflowApi, pool, type Target } from './lib/http';
import { fmt, header, percentile } from './lib/report';
import { startMlflowServer, startOurs, treeCpuSeconds, type BenchServer, type MlflowBenchServer } from './lib/servers';

const env = (k: string, d: number): number => Number(process.env[`TRACKING_BENCH_${k}`] ?? d);
const RUNS = env('RUNS', 100_000);
const QUERIES = env('QUERIES', 50);
const MLFLOW_REST_RUNS = Math.min(RUNS, env('MLFLOW_REST_RUNS', 500));
const MLFLOW_WORKERS = env('MLFLOW_WORKERS', 1);
/** Stop timing a server's queries of one size after this many seconds (at least 10 queries). */
const QUERY_BUDGET_S = env('QUERY_BUDGET_S', 90);
const T0 = 1_767_225_600_000;
const FILTER = 'metrics.rmse < 0.5';
const ORDER = 'metrics.rmse ASC';

/** mulberry32: the same pseudo-random runs for both stores. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface KV {
  key: string;
  value: string;
}
interface RunSpec {
  name: string;
  start: number;
  params: KV[];
  tags: KV[];
  metrics: { key: string; value: number; timestamp: number; step: number }[];
}

const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

function spec(i: number): RunSpec {
  const r = rng(i + 1);
  const rmse = round6(r());
  const start = T0 + i * 1000;
  const models = ['ridge', 'lasso', 'elasticnet'];
  return {
    name: `run-${i}`,
    start,
    params: [
      { key: 'alpha', value: String(round6(r())) },
      { key: 'l1_ratio', value: String(round6(r())) },
      { key: 'model', value: models[i % 3]! },
    ],
    tags: [
      { key: 'team', value: `team-${i % 5}` },
      { key: 'stage', value: i % 2 ? 'dev' : 'prod' },
      { key: 'dataset', value: `wine-${i % 7}` },
    ],
    metrics: [
      { key: 'rmse', value: rmse, timestamp: start + 500, step: 0 },
      { key: 'mae', value: round6(rmse * 0.8), timestamp: start + 500, step: 0 },
      { key: 'r2', value: round6(1 - rmse), timestamp: start + 500, step: 0 },
    ],
  };
}

const createBody = (exp: string, s: RunSpec): unknown => ({ experiment_id: exp, run_name: s.name, start_time: s.start, tags: s.tags });
const batchBody = (id: string, s: RunSpec): unknown => ({ run_id: id, params: s.params, metrics: s.metrics });

async function populateRest(t: Target, exp: string, from: number, to: number, concurrency: number): Promise<string[]> {
  const ids: string[] = new Array<string>(to - from);
  await pool(to - from, concurrency, async (k) => {
    const s = spec(from + k);
    const r = (await mlflowApi(t, '/runs/create', createBody(exp, s))) as { run: { info: { run_id: string } } };
    ids[k] = r.run.info.run_id;
    await mlflowApi(t, '/runs/log-batch', batchBody(r.run.info.run_id, s));
  });
  return ids;
}

const sqlRunId = (i: number): string => i.toString(16).padStart(8, '0') + 'b'.repeat(24);

interface MlflowRunRow {
  run_uuid: string;
  name: string;
  start_time: number;
  artifact_uri: string;
  [col: string]: unknown;
}

/** Runs [from, RUNS) into mlflow's own tables, modelled on the rows its REST API wrote for run `templateId`. */
function populateMlflowSql(dbFile: string, templateId: string, from: number): void {
  const db = new Database(dbFile);
  try {
    const tpl = db.prepare('SELECT * FROM runs WHERE run_uuid = ?').get(templateId) as MlflowRunRow;
    const tplTags = db.prepare('SELECT key, value FROM tags WHERE run_uuid = ?').all(templateId) as KV[];
    const specKeys = new Set(spec(0).tags.map((t) => t.key));
    const extraTags = tplTags.filter((t) => !specKeys.has(t.key) && t.key !== 'mlflow.runName');
    const cols = Object.keys(tpl);
    const insRun = db.prepare(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`);
    const insTag = db.prepare('INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)');
    const insParam = db.prepare('INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)');
    const insMetric = db.prepare('INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, 0)');
    const insLatest = db.prepare('INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)');
    db.transaction(() => {
      for (let i = from; i < RUNS; i++) {
        const s = spec(i);
        const id = sqlRunId(i);
        insRun.run({ ...tpl, run_uuid: id, name: s.name, start_time: s.start, artifact_uri: tpl.artifact_uri.replace(templateId, id) });
        for (const t of [...s.tags, ...extraTags, { key: 'mlflow.runName', value: s.name }]) insTag.run(t.key, t.value, id);
        for (const p of s.params) insParam.run(p.key, p.value, id);
        for (const m of s.metrics) {
          insMetric.run(m.key, m.value, m.timestamp, id, m.step);
          insLatest.run(m.key, m.value, m.timestamp, m.step, id);
        }
      }
    })();
  } finally {
    db.close();
  }
}

interface Latency {
  p50: number;
  p99: number;
  n: number;
  cpuPerQuery: number;
}

async function latency(s: BenchServer, exp: string, max: number, want: number[]): Promise<Latency> {
  const body = JSON.stringify({ experiment_ids: [exp], filter: FILTER, order_by: [ORDER], max_results: max });
  const check = (r: { runs?: { data: { metrics?: { key: string; value: number }[] } }[] }): void => {
    const got = (r.runs ?? []).map((run) => run.data.metrics?.find((m) => m.key === 'rmse')?.value);
    const exp = want.slice(0, max);
    if (got.length !== exp.length || got.some((v, i) => v !== exp[i])) throw new Error(`${s.name}: search returned rmse ${JSON.stringify(got.slice(0, 5))}…, expected ${JSON.stringify(exp.slice(0, 5))}…`);
  };
  for (let i = 0; i < 3; i++) check(await call(s, 'POST', '/api/2.0/mlflow/runs/search', body));
  const times: number[] = [];
  const cpu0 = treeCpuSeconds(s.pid);
  const t0 = performance.now();
  while (times.length < QUERIES && (times.length < 10 || performance.now() - t0 < QUERY_BUDGET_S * 1000)) {
    const q0 = performance.now();
    await call(s, 'POST', '/api/2.0/mlflow/runs/search', body);
    times.push(performance.now() - q0);
  }
  const cpu = treeCpuSeconds(s.pid) - cpu0;
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), n: times.length, cpuPerQuery: (cpu * 1000) / times.length };
}

async function queries(s: BenchServer, exp: string, want: number[]): Promise<Record<number, Latency>> {
  const out: Record<number, Latency> = {};
  for (const max of [100, 1000]) {
    out[max] = await latency(s, exp, max, want);
    const l = out[max];
    console.log(`  ${s.name} max_results ${max}: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms (${l.n} queries; ${l.cpuPerQuery.toFixed(1)} ms server CPU per query)`);
  }
  return out;
}

async function main(): Promise<void> {
  header(`tracking search: ${fmt(RUNS)} runs, filter "${FILTER}", order_by "${ORDER}"`);
  const want = Array.from({ length: RUNS }, (_, i) => spec(i).metrics[0]!.value)
    .filter((v) => v < 0.5)
    .sort((a, b) => a - b)
    .slice(0, 1000);

  const ours = await startOurs();
  let o: Record<number, Latency>;
  try {
    const exp = ((await mlflowApi(ours, '/experiments/create', { name: 'bench-search' })) as { experiment_id: string }).experiment_id;
    const t0 = performance.now();
    await populateRest(ours, exp, 0, RUNS, 8);
    const s = (performance.now() - t0) / 1000;
    console.log(`mlops: populated ${fmt(RUNS)} runs through REST (create + log-batch) in ${s.toFixed(0)} s (${fmt(RUNS / s)} runs/s)`);
    o = await queries(ours, exp, want);
  } finally {
    closeAgents();
    await ours.stop();
  }

  const mlflow: MlflowBenchServer = await startMlflowServer(MLFLOW_WORKERS);
  let m: Record<number, Latency>;
  try {
    const exp = ((await mlflowApi(mlflow, '/experiments/create', { name: 'bench-search' })) as { experiment_id: string }).experiment_id;
    const t0 = performance.now();
    const ids = await populateRest(mlflow, exp, 0, MLFLOW_REST_RUNS, 4);
    const s = (performance.now() - t0) / 1000;
    console.log(`${mlflow.name}: populated ${fmt(MLFLOW_REST_RUNS)} runs through REST in ${s.toFixed(0)} s (${fmt(MLFLOW_REST_RUNS / s)} runs/s: all ${fmt(RUNS)} would take ~${fmt((RUNS / MLFLOW_REST_RUNS) * s / 60)} min)`);
    const t1 = performance.now();
    populateMlflowSql(mlflow.dbFile, ids[0]!, MLFLOW_REST_RUNS);
    console.log(`${mlflow.name}: wrote runs ${fmt(MLFLOW_REST_RUNS)}..${fmt(RUNS - 1)} into its SQLite in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
    const got = (await call(mlflow, 'GET', `/api/2.0/mlflow/runs/get?run_id=${sqlRunId(RUNS - 1)}`)) as { run: { data: { params: KV[] } } };
    if (got.run.data.params.length !== 3) throw new Error(`mlflow: a run written with SQL reads back wrong: ${JSON.stringify(got)}`);
    m = await queries(mlflow, exp, want);
  } finally {
    closeAgents();
    await mlflow.stop();
  }

  console.log('\nresult (mlflow / mlops; aim ≥ 20×)');
  for (const max of [100, 1000]) {
    console.log(`  max_results ${max}: p50 ${(m[max]!.p50 / o[max]!.p50).toFixed(1)}×, p99 ${(m[max]!.p99 / o[max]!.p99).toFixed(1)}×, server CPU per query ${(m[max]!.cpuPerQuery / o[max]!.cpuPerQuery).toFixed(1)}×`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
