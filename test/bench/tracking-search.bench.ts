// search_runs latency over TRACKING_BENCH_RUNS (100,000) runs, each with 3 params, 3 tags (plus mlflow.runName) and
// 3 metrics: `metrics.rmse < 0.5` ordered by `metrics.rmse ASC`, max_results 100 and 1000, TRACKING_BENCH_QUERIES
// (50) timed queries each, p50/p99; the same POST /api/2.0/mlflow/runs/search bodies to our backend and to a real
// `mlflow server` (SQLite). Both stores get their first TRACKING_BENCH_REST_RUNS (200) runs through REST
// (runs/create + runs/log-batch, timed, so a full REST populate can be estimated); the rest are written with SQL
// into each one's own tables, copying the rows its REST API wrote for its first run (mlflow takes ~5 h otherwise).
// Both servers must return the same rmse values, in order, as the generated data says.
import Database from 'better-sqlite3';
import { call, closeAgents, mlflowApi, pool, type Target } from './lib/http';
import { fmt, header, percentile } from './lib/report';
import { startMlflowServer, startOurs, treeCpuSeconds, type BenchServer } from './lib/servers';
import { mulberry32 } from '../../backend/src/util/random';

const env = (k: string, d: number): number => Number(process.env[`TRACKING_BENCH_${k}`] ?? d);
const RUNS = env('RUNS', 100_000);
const QUERIES = env('QUERIES', 50);
const REST_RUNS = Math.min(RUNS, env('REST_RUNS', 200));
const MLFLOW_WORKERS = env('MLFLOW_WORKERS', 1);
/** Stop timing a server's queries of one size after this many seconds (at least one): mlflow's take minutes here. */
const QUERY_BUDGET_S = env('QUERY_BUDGET_S', 60);
const T0 = 1_767_225_600_000;
const FILTER = 'metrics.rmse < 0.5';
const ORDER = 'metrics.rmse ASC';

/** The same pseudo-random runs for both stores. */
const rng = mulberry32;

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

interface RunRow {
  run_uuid: string;
  name: string;
  start_time: number;
  artifact_uri: string;
  [col: string]: unknown;
}

/** How each store's tables spell a run's rows (column order of the INSERTs below). */
const SCHEMAS = {
  mlflow: {
    tag: 'INSERT INTO tags (key, value, run_uuid) VALUES (@key, @value, @run)',
    param: 'INSERT INTO params (key, value, run_uuid) VALUES (@key, @value, @run)',
    metric: 'INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (@key, @value, @timestamp, @run, @step, 0)',
    latest: 'INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (@key, @value, @timestamp, @step, 0, @run)',
  },
  mlops: {
    tag: 'INSERT INTO tags (run_uuid, key, value) VALUES (@run, @key, @value)',
    param: 'INSERT INTO params (run_uuid, key, value) VALUES (@run, @key, @value)',
    metric: 'INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) VALUES (@run, @key, @step, @timestamp, @value, 0)',
    latest: 'INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (@run, @key, @value, 0, @timestamp, @step)',
  },
};

/**
 * Runs [from, to) written with SQL into a store's own tables (its triggers fire as usual), modelled on the rows its
 * REST API wrote for run `templateId`: same columns, same extra tags, only ids, names, times and values differ.
 */
function populateSql(dbFile: string, schema: (typeof SCHEMAS)['mlops'], templateId: string, from: number, to: number): void {
  const db = new Database(dbFile);
  try {
    db.pragma('busy_timeout = 10000');
    const tpl = db.prepare('SELECT * FROM runs WHERE run_uuid = ?').get(templateId) as RunRow;
    const tplTags = db.prepare('SELECT key, value FROM tags WHERE run_uuid = ?').all(templateId) as KV[];
    const specKeys = new Set(spec(0).tags.map((t) => t.key));
    const extraTags = tplTags.filter((t) => !specKeys.has(t.key) && t.key !== 'mlflow.runName');
    const cols = Object.keys(tpl);
    const insRun = db.prepare(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')})`);
    const [insTag, insParam, insMetric, insLatest] = [schema.tag, schema.param, schema.metric, schema.latest].map((q) => db.prepare(q));
    db.transaction(() => {
      for (let i = from; i < to; i++) {
        const s = spec(i);
        const run = sqlRunId(i);
        insRun.run({ ...tpl, run_uuid: run, name: s.name, start_time: s.start, artifact_uri: tpl.artifact_uri.replace(templateId, run) });
        for (const t of [...s.tags, ...extraTags, { key: 'mlflow.runName', value: s.name }]) insTag!.run({ ...t, run });
        for (const p of s.params) insParam!.run({ ...p, run });
        for (const m of s.metrics) {
          insMetric!.run({ ...m, run });
          insLatest!.run({ ...m, run });
        }
      }
    })();
  } finally {
    db.close();
  }
}

/** The first REST_RUNS runs through REST (timed), the rest with SQL; then a run written with SQL must read back. */
async function populate(s: BenchServer, schema: (typeof SCHEMAS)['mlops']): Promise<string> {
  const exp = ((await mlflowApi(s, '/experiments/create', { name: 'bench-search' })) as { experiment_id: string }).experiment_id;
  const t0 = performance.now();
  const ids = await populateRest(s, exp, 0, REST_RUNS, 4);
  const rest = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  populateSql(s.dbFile, schema, ids[0]!, REST_RUNS, RUNS);
  const sql = (performance.now() - t1) / 1000;
  closeAgents(); // the servers closed the idle kept-alive sockets meanwhile
  console.log(
    `${s.name}: ${fmt(REST_RUNS)} runs through REST in ${rest.toFixed(1)} s (${fmt(REST_RUNS / rest, 1)} runs/s, so all ${fmt(RUNS)} would take ~${fmt((RUNS / REST_RUNS) * rest / 60)} min); ${fmt(RUNS - REST_RUNS)} with SQL in ${sql.toFixed(0)} s`,
  );
  const got = (await call(s, 'GET', `/api/2.0/mlflow/runs/get?run_id=${sqlRunId(RUNS - 1)}`)) as { run: { data: { params?: KV[]; tags?: KV[]; metrics?: unknown[] } } };
  const d = got.run.data;
  if (d.params?.length !== 3 || (d.metrics?.length ?? 0) !== 3 || !d.tags?.some((t) => t.key === 'mlflow.runName' && t.value === `run-${RUNS - 1}`)) {
    throw new Error(`${s.name}: a run written with SQL reads back wrong: ${JSON.stringify(got)}`);
  }
  return exp;
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
  const times: number[] = [];
  const cpu0 = treeCpuSeconds(s.pid);
  const t0 = performance.now();
  while (times.length < QUERIES && (times.length < 1 || performance.now() - t0 < QUERY_BUDGET_S * 1000)) {
    const q0 = performance.now();
    check(await call(s, 'POST', '/api/2.0/mlflow/runs/search', body));
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
    o = await queries(ours, await populate(ours, SCHEMAS.mlops), want);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${ours.log()}`);
  } finally {
    closeAgents();
    await ours.stop();
  }
  const mlflow = await startMlflowServer(MLFLOW_WORKERS);
  let m: Record<number, Latency>;
  try {
    m = await queries(mlflow, await populate(mlflow, SCHEMAS.mlflow), want);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${mlflow.log()}`);
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
