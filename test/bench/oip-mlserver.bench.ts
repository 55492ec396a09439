/**
 * Open Inference Protocol benchmark, side by side in one run on the same model (scikit-learn LogisticRegression on
 * iris, test/fixtures/onnx/sklearn_iris.py): Seldon's MLServer from PyPI (its scikit-learn runtime, the fitted
 * model as joblib) against MLOps Studio's endpoint (the same model converted with skl2onnx), both answering
 * POST /v2/models/iris/infer with one V2 JSON tensor of one row. Open-loop fixed rates give p50/p99, a closed loop
 * at concurrency 32 the maximum throughput; each row has the server's CPU per request and the load average.
 *
 * usage: npm run bench -- oip-mlserver   (env OIP_BENCH_SECONDS, default 10; OIP_BENCH_REPEATS extra runs of each
 *        server at 1,000 req/s, default 2). Needs the test venv (training) and test/bench/setup-mlserver.sh.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel } from '../fixtures/onnx/harness';
import { cli, ensureBuilt, ROOT, sleep, startBackend, startLoad } from '../integration/serving/proc';

const SECONDS = Number(process.env.OIP_BENCH_SECONDS ?? 10);
const RATES = [100, 500, 1000];
const REPEATS = Number(process.env.OIP_BENCH_REPEATS ?? 2);
const CONCURRENCY = 32;

interface Row {
  target: string;
  mode: string;
  p50: number | null;
  p99: number | null;
  throughput: number;
  failed: number;
  serverCpu: number | null;
  load: number;
}

/** CPU time (ms) of a process group (MLServer forks its inference workers into it), from /proc. */
function groupCpuMs(pgid: number): number {
  let ms = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[2]) === pgid || Number(pid) === pgid) ms += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // exited meanwhile
    }
  }
  return ms;
}

const venvOf = (script: string) => spawnSync('bash', [script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim().split('\n').at(-1)!;

function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} was not ready in ${timeoutMs / 1000} s`);
}

async function measure(t: { name: string; url: string; token?: string; pgid: number }, bodies: unknown[]): Promise<Row[]> {
  const rows: Row[] = [];
  const path = '/v2/models/iris/infer';
  const run = async (mode: string, rate: number) => {
    const load = loadavg()[0]!;
    const cpu0 = groupCpuMs(t.pgid);
    const s = await startLoad({ url: t.url, ...(t.token ? { token: t.token } : {}), path, rate, seconds: SECONDS, concurrency: CONCURRENCY, bodies, warmupSeconds: 1 }).result;
    rows.push({ target: t.name, mode, p50: s.p50_ms, p99: s.p99_ms, throughput: s.throughput, failed: s.failed, serverCpu: s.done ? (groupCpuMs(t.pgid) - cpu0) / s.done : null, load });
    process.stderr.write(`${t.name} ${mode}: p50 ${s.p50_ms} p99 ${s.p99_ms} ${s.throughput.toFixed(0)} req/s failed ${s.failed} ${JSON.stringify(s.status)}\n`);
  };
  await startLoad({ url: t.url, ...(t.token ? { token: t.token } : {}), path, rate: 0, seconds: 2, concurrency: 4, bodies }).result;
  for (const rate of RATES) await run(`${rate} req/s`, rate);
  for (let i = 2; i <= REPEATS + 1; i++) await run(`1000 req/s (run ${i})`, 1000);
  await run(`max (concurrency ${CONCURRENCY})`, 0);
  return rows;
}

function table(rows: Row[]): string {
  const f = (x: number | null) => (x === null ? '' : x < 10 ? x.toFixed(2) : x.toFixed(0));
  return [
    '| target | load | p50 ms | p99 ms | answered req/s | failed | server CPU ms/req | load avg |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.target} | ${r.mode} | ${f(r.p50)} | ${f(r.p99)} | ${r.throughput.toFixed(0)} | ${r.failed} | ${r.serverCpu?.toFixed(3) ?? ''} | ${r.load.toFixed(1)} |`),
  ].join('\n');
}

/** MLServer on loopback only: one model folder with model-settings.json, HTTP, gRPC and metrics on free ports. */
async function startMlserver(venv: string, work: string, pickle: string): Promise<{ url: string; proc: ChildProcess }> {
  const dir = join(work, 'mlserver');
  mkdirSync(join(dir, 'iris'), { recursive: true });
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'settings.json'), JSON.stringify({ host: '127.0.0.1', http_port: http, grpc_port: grpc, metrics_port: metrics, debug: false }));
  writeFileSync(join(dir, 'iris', 'model-settings.json'), JSON.stringify({ name: 'iris', implementation: 'mlserver_sklearn.SKLearnModel', parameters: { uri: pickle } }));
  const proc = spawn(join(venv, 'bin/mlserver'), ['start', dir], { stdio: ['ignore', 'ignore', 'inherit'], detached: true, env: { ...process.env, PATH: `${join(venv, 'bin')}:${process.env.PATH ?? ''}` } });
  const url = `http://127.0.0.1:${http}`;
  await waitReady(`${url}/v2/models/iris/ready`, 180_000);
  return { url, proc };
}

async function main(): Promise<void> {
  ensureBuilt();
  const testVenv = process.env.MLOPS_TEST_VENV ?? venvOf('.ci/setup-python.sh');
  const mlsVenv = venvOf('test/bench/setup-mlserver.sh');
  const work = mkdtempSync(join(tmpdir(), 'mlops-oip-bench-'));
  const procs: { p: ChildProcess; group: boolean }[] = [];
  try {
    const trained = JSON.parse(spawnSync(join(testVenv, 'bin/python'), [join(ROOT, 'test/fixtures/onnx/sklearn_iris.py'), work], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1)!) as {
      sklearn: string;
      onnx: string;
      rows: number[][];
      expected: number[];
    };
    const home = join(work, 'home');
    const ctx = openCore(home);
    const v = registerOnnxModel(ctx, 'iris', readFileSync(join(trained.onnx, 'model.onnx')), { mlmodel: readFileSync(join(trained.onnx, 'MLmodel'), 'utf8') });
    ctx.db.close();
    const ours = await startBackend(home);
    procs.push({ p: ours.proc, group: false });
    const dep = await cli(home, 'deploy', `iris/${v}`, '--endpoint', 'iris');
    if (dep.code !== 0) throw new Error(dep.stderr);
    const meta = (await (await fetch(`${ours.url}/v2/models/iris`, { headers: { authorization: `Bearer ${ours.token}` } })).json()) as { inputs: { name: string }[] };
    const input = meta.inputs[0]!.name;
    // MLflow 3 stores the sklearn flavour as skops; MLServer's runtime reads joblib: the same fitted model, dumped.
    const pickle = join(work, 'model.joblib');
    const dumped = spawnSync(join(testVenv, 'bin/python'), ['-c', 'import sys, joblib, mlflow.sklearn; joblib.dump(mlflow.sklearn.load_model(sys.argv[1]), sys.argv[2])', trained.sklearn, pickle], { encoding: 'utf8' });
    if (dumped.status !== 0) throw new Error(dumped.stderr);
    const mls = await startMlserver(mlsVenv, work, pickle);
    procs.push({ p: mls.proc, group: true });

    // Each server gets V2 bodies of one row; both must agree with scikit-learn before anything is timed.
    const oursBodies = trained.rows.map((r) => ({ inputs: [{ name: input, shape: [1, 4], datatype: 'FP32', data: r }] }));
    const mlsBodies = trained.rows.map((r) => ({ inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP64', data: r }] }));
    for (const [url, token, bodies] of [[ours.url, ours.token, oursBodies], [mls.url, '', mlsBodies]] as const) {
      const got: number[] = [];
      for (const b of bodies) {
        const r = (await (await fetch(`${url}/v2/models/iris/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(b) })).json()) as { outputs: { data: number[] }[] };
        got.push(r.outputs[0]!.data[0]!);
      }
      if (JSON.stringify(got) !== JSON.stringify(trained.expected)) throw new Error(`${url} disagrees with scikit-learn: ${JSON.stringify(got)}`);
    }

    const OURS = 'MLOps Studio /v2 (onnxruntime-node)';
    const MLS = 'MLServer 1.7.1 /v2 (mlserver-sklearn)';
    const results = [...(await measure({ name: OURS, url: ours.url, token: ours.token, pgid: ours.proc.pid! }, oursBodies)), ...(await measure({ name: MLS, url: mls.url, pgid: mls.proc.pid! }, mlsBodies))];
    const pick = (t: string, m: string) => results.find((r) => r.target === t && r.mode === m)!;
    const lines = [...RATES.map((r) => `${r} req/s`), `max (concurrency ${CONCURRENCY})`].map((m) => {
      const a = pick(OURS, m);
      const b = pick(MLS, m);
      return `- ${m}: p99 ours ${a.p99?.toFixed(2)} ms vs MLServer ${b.p99?.toFixed(2)} ms (MLServer's is ${((b.p99 ?? 0) / (a.p99 ?? 1)).toFixed(1)}×); answered ${a.throughput.toFixed(0)} vs ${b.throughput.toFixed(0)} req/s (ours ${(a.throughput / b.throughput).toFixed(2)}×)`;
    });
    const ours1000 = results.filter((r) => r.target === OURS && r.mode.startsWith('1000'));
    process.stdout.write(
      [
        `date: ${new Date().toISOString()}; machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'cpu'}), load average before ${loadavg()[0]!.toFixed(1)}`,
        `command: npm run bench -- oip-mlserver (OIP_BENCH_SECONDS=${SECONDS}, OIP_BENCH_REPEATS=${REPEATS})`,
        '',
        table(results),
        '',
        ...lines,
        `- ours at 1,000 req/s: p99 ${ours1000.map((r) => r.p99?.toFixed(2)).join(' / ')} ms over ${ours1000.length} runs (aim ≤ 2 ms)`,
        '',
      ].join('\n'),
    );
    await ours.stop();
  } finally {
    for (const { p, group } of procs) {
      if (p.exitCode !== null) continue;
      try {
        process.kill(group ? -p.pid! : p.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sleep(1000);
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
