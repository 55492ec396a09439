/**
 * Serving benchmark, side by side in one run on the same model (scikit-learn LogisticRegression on iris):
 * - MLflow's scoring server (`mlflow models serve`, the sklearn flavour, from the test venv);
 * - MLOps Studio's endpoint (the same model converted with skl2onnx, on onnxruntime-node);
 * - bare onnxruntime-node `run()` in-process: the physical limit, no HTTP;
 * - a bare node:http server with no framework, auth or model: what the machine and Node's HTTP stack alone cost.
 * Fixed request rates (open loop, separate load-generator process) give p50/p99; a closed loop at concurrency 32
 * gives maximum throughput. Each row also gives the server's and the load generator's CPU per request and the
 * load average when it started, since the machine is shared. Prints a Markdown table for test/bench/RESULTS.md.
 *
 * usage: npm run bench -- serving     (env SERVING_BENCH_SECONDS: seconds per measurement, default 10;
 *                                      SERVING_BENCH_REPEATS: extra runs of ours at 1,000 req/s, default 3)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel } from '../fixtures/onnx/harness';
import { createInterface } from 'node:readline';
import { cli, ensureBuilt, ROOT, sleep, startBackend, startLoad, tsEntry, type LoadSummary } from '../integration/serving/proc';

const SECONDS = Number(process.env.SERVING_BENCH_SECONDS ?? 10);
const RATES = [100, 500, 1000];
const CONCURRENCY = 32;
/** Extra runs of our endpoint at 1,000 req/s: on a shared machine one run can land on someone else's burst. */
const REPEATS = Number(process.env.SERVING_BENCH_REPEATS ?? 3);

interface Trained {
  sklearn: string;
  onnx: string;
  columns: string[];
  rows: number[][];
  expected: number[];
}

interface Row {
  target: string;
  mode: string;
  p50: number | null;
  p99: number | null;
  throughput: number;
  failed: number;
  /** CPU of the server's processes per answered request (ms). */
  serverCpu: number | null;
  /** CPU of the load generator per answered request (ms). */
  clientCpu: number | null;
  load: number;
}

/** CPU time (ms) of every process in a process group, threads included, from /proc. */
function groupCpuMs(pgid: number): number {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[2]) === pgid || Number(pid) === pgid) ms += (Number(f[11]) + Number(f[12])) * (1000 / 100);
    } catch {
      // exited meanwhile
    }
  }
  return ms;
}

function venv(): string {
  return process.env.MLOPS_TEST_VENV ?? spawnSync('bash', ['.ci/setup-python.sh'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim().split('\n').at(-1)!;
}

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not come up in ${timeoutMs / 1000} s`);
}

interface Target {
  name: string;
  url: string;
  token?: string;
  path: string;
  /** Process group whose CPU is the server's. */
  pgid: number;
}

async function measure(t: Target, bodies: unknown[], rates: number[], repeats = 0): Promise<Row[]> {
  const rows: Row[] = [];
  const run = async (mode: string, rate: number): Promise<LoadSummary> => {
    const load = loadavg()[0]!;
    const cpu0 = groupCpuMs(t.pgid);
    const s = await startLoad({ url: t.url, token: t.token, path: t.path, rate, seconds: SECONDS, concurrency: CONCURRENCY, bodies, warmupSeconds: 1 }).result;
    const serverCpu = s.done ? (groupCpuMs(t.pgid) - cpu0) / s.done : null;
    rows.push({ target: t.name, mode, p50: s.p50_ms, p99: s.p99_ms, throughput: s.throughput, failed: s.failed, serverCpu, clientCpu: s.client_cpu_ms_per_req, load });
    process.stderr.write(`${t.name} ${mode}: ${JSON.stringify({ ...s, timeline: undefined, variants: undefined, server_cpu_ms_per_req: serverCpu, load })}\n`);
    return s;
  };
  await startLoad({ url: t.url, token: t.token, path: t.path, rate: 0, seconds: 2, concurrency: 4, bodies }).result;
  for (const rate of rates) await run(`${rate} req/s`, rate);
  for (let i = 2; i <= repeats + 1; i++) await run(`1000 req/s (run ${i})`, 1000);
  await run(`max (concurrency ${CONCURRENCY})`, 0);
  return rows;
}

/** The bare node:http floor server (test/integration/serving/http-floor.ts). */
async function startFloor(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, tsEntry(join(ROOT, 'test/integration/serving/http-floor.ts')), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((done) => createInterface({ input: proc.stdout! }).once('line', done));
  return { url: (JSON.parse(line) as { url: string }).url, proc };
}

async function bareOrt(onnxPath: string, rows: number[][]): Promise<Row> {
  const s = await InferenceSession.create(onnxPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
  const input = s.inputNames[0]!;
  const lat: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let i = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    await s.run({ [input]: new Tensor('float32', Float32Array.from(rows[i++ % rows.length]!), [1, rows[0]!.length]) });
    lat.push(performance.now() - t0);
  }
  await s.release();
  const elapsed = lat.reduce((a, b) => a + b, 0) / 1000;
  lat.sort((a, b) => a - b);
  return { target: 'onnxruntime-node run()', mode: 'sequential, in-process', p50: lat[Math.floor(lat.length * 0.5)]!, p99: lat[Math.floor(lat.length * 0.99)]!, throughput: lat.length / elapsed, failed: 0, serverCpu: null, clientCpu: null, load: loadavg()[0]! };
}

function table(rows: Row[]): string {
  const f = (x: number | null) => (x === null ? '' : x < 10 ? x.toFixed(2) : x.toFixed(0));
  const c = (x: number | null) => (x === null ? '' : x.toFixed(3));
  return [
    '| target | load | p50 ms | p99 ms | answered req/s | failed | server CPU ms/req | client CPU ms/req | load avg |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.target} | ${r.mode} | ${f(r.p50)} | ${f(r.p99)} | ${r.throughput.toFixed(0)} | ${r.failed} | ${c(r.serverCpu)} | ${c(r.clientCpu)} | ${r.load.toFixed(1)} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  ensureBuilt();
  const py = () => join(venv(), 'bin/python');
  const withMlflow = process.env.SERVING_BENCH_NO_MLFLOW !== '1';
  const work = mkdtempSync(join(tmpdir(), 'mlops-serving-bench-'));
  const procs: { p: ChildProcess; group: boolean }[] = [];
  try {
    // SERVING_BENCH_TRAINED: a folder where sklearn_iris.py already ran (its last line saved as trained.json), for a
    // machine without the test venv; SERVING_BENCH_NO_MLFLOW=1 then leaves out `mlflow models serve`.
    const pre = process.env.SERVING_BENCH_TRAINED;
    const trained = (pre ? JSON.parse(readFileSync(join(pre, 'trained.json'), 'utf8').replaceAll('@DIR@', pre)) : JSON.parse(spawnSync(py(), [join(ROOT, 'test/fixtures/onnx/sklearn_iris.py'), work], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1)!)) as Trained;
    const body = (r: number[]) => ({ dataframe_split: { columns: trained.columns, data: [r] } });
    const bodies = trained.rows.map(body);

    const home = join(work, 'home');
    const ctx = openCore(home);
    const v = registerOnnxModel(ctx, 'iris', readFileSync(join(trained.onnx, 'model.onnx')), { mlmodel: readFileSync(join(trained.onnx, 'MLmodel'), 'utf8') });
    ctx.db.close();
    const ours = await startBackend(home);
    procs.push({ p: ours.proc, group: false });
    const dep = await cli(home, 'deploy', `iris/${v}`, '--endpoint', 'iris');
    if (dep.code !== 0) throw new Error(dep.stderr);
    const check = (await (await fetch(`${ours.url}/endpoints/iris/invocations`, { method: 'POST', headers: { authorization: `Bearer ${ours.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ dataframe_split: { columns: trained.columns, data: trained.rows } }) })).json()) as { predictions: number[] };
    if (JSON.stringify(check.predictions) !== JSON.stringify(trained.expected)) throw new Error('the ONNX endpoint disagrees with scikit-learn');

    const port = 20000 + Math.floor(Math.random() * 20000);
    if (withMlflow) {
      const mlflow = spawn(join(venv(), 'bin/mlflow'), ['models', 'serve', '-m', trained.sklearn, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)], {
        stdio: 'ignore',
        detached: true,
        // mlflow execs `uvicorn` by name: the venv's bin must be on PATH.
        env: { ...process.env, PATH: `${join(venv(), 'bin')}:${process.env.PATH ?? ''}` },
      });
      procs.push({ p: mlflow, group: true });
      await waitHttp(`http://127.0.0.1:${port}/ping`, 120_000);
    }

    const floor = await startFloor();
    procs.push({ p: floor.proc, group: false });

    const OURS = 'MLOps Studio endpoint';
    const results: Row[] = [];
    results.push(await bareOrt(join(trained.onnx, 'model.onnx'), trained.rows));
    results.push(...(await measure({ name: 'node:http, no framework or model (floor)', url: floor.url, path: '/invocations', pgid: floor.proc.pid! }, bodies, [1000])));
    results.push(...(await measure({ name: OURS, url: ours.url, token: ours.token, path: '/endpoints/iris/invocations', pgid: ours.proc.pid! }, bodies, RATES, REPEATS)));
    const mlflowPid = procs.find((x) => x.group)?.p.pid;
    if (mlflowPid) results.push(...(await measure({ name: 'mlflow models serve (sklearn)', url: `http://127.0.0.1:${port}`, path: '/invocations', pgid: mlflowPid }, bodies, RATES)));

    const maxOf = (t: string) => results.find((r) => r.target === t && r.mode.startsWith('max'))!.throughput;
    const ratio = withMlflow ? maxOf(OURS) / maxOf('mlflow models serve (sklearn)') : NaN;
    const runs1000 = results.filter((r) => r.target === OURS && r.mode.startsWith('1000 req/s'));
    const at1000 = runs1000[0]!;
    const floor1000 = results.find((r) => r.target.includes('floor') && r.mode.startsWith('1000'))!;
    const bare = results[0]!;
    process.stdout.write(
      [
        `date: ${new Date().toISOString()}; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), load average before ${loadavg()[0]!.toFixed(1)}`,
        `command: npm run bench -- serving (SERVING_BENCH_SECONDS=${SECONDS})`,
        '',
        table(results),
        '',
        `max throughput, ours / MLflow: ${ratio.toFixed(1)}×`,
        `ours at 1,000 req/s: p99 ${runs1000.map((r) => r.p99?.toFixed(2)).join(' / ')} ms over ${runs1000.length} runs (aim ≤ 2 ms); floor server p99 ${floor1000.p99?.toFixed(2)} ms`,
        `per-request overhead over bare run(), p50: ${((at1000.p50 ?? 0) - (bare.p50 ?? 0)).toFixed(2)} ms; over the floor server: ${((at1000.p50 ?? 0) - (floor1000.p50 ?? 0)).toFixed(2)} ms`,
        `server CPU per request at 1,000 req/s: ours ${at1000.serverCpu?.toFixed(3)} ms, floor ${floor1000.serverCpu?.toFixed(3)} ms, bare run() ${(1000 / bare.throughput).toFixed(3)} ms`,
        '',
      ].join('\n'),
    );
    await ours.stop();
  } finally {
    for (const { p, group } of procs) {
      if (p.exitCode !== null) continue;
      try {
        // mlflow's server forks workers into its own process group.
        process.kill(group ? -p.pid! : p.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sleep(500);
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
