// Two numbers for training jobs, each against a baseline measured in the same run:
//  1. Start-up: wall time from launching the command to the container's first instruction (it prints
//     /proc/uptime, the same clock as the host's), for a bare `docker run` against `mlops train --image`
//     with a backend already running, and with none (the CLI starts one inside itself).
//  2. Metric latency: an mlflow script logs a metric whose value is the wall time before the call; this process
//     watches the SQLite store and records when the point becomes visible. Container (docker launcher) against
//     the same script as a host process (local launcher).
// Size: JOBS_BENCH_STARTS (5) start-ups per variant, JOBS_BENCH_METRICS (40) metric points per launcher.
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startServer } from '../../backend/src/server';
import type { Job } from '../../backend/src/services/jobs/types';
import { connectBackend, followJobLogs } from '../../backend/src/services/jobs/client';
import { pyMounts, testImages, venv } from '../integration/jobs/helpers';

const STARTS = Number(process.env.JOBS_BENCH_STARTS ?? 5);
const METRICS = Number(process.env.JOBS_BENCH_METRICS ?? 40);
const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/backend/cli.mjs');
const IMAGE = 'mlops-test/busybox:1';

const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const pct = (a: number[], p: number): number => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))]!;

/** Runs argv, returns ms from spawn to the container's first instruction (the uptime it printed). */
function firstInstruction(argv: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = uptime();
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => {
      const m = /^(\d+\.\d+)/m.exec(out);
      if (code !== 0 || !m) fail(new Error(`${argv.join(' ')} → ${code}: ${out} ${err}`));
      else done((Number(m[1]) - t0) * 1000);
    });
  });
}

/** The API path the editor takes: POST /api/v1/jobs on a running backend, output from the live log stream. */
async function viaApi(home: string, inside: string[]): Promise<number> {
  const c = await connectBackend(home);
  const t0 = uptime();
  const job = await c.call<Job>('POST', '/api/v1/jobs', { image: IMAGE, command: inside });
  let out = '';
  await followJobLogs(c, job.job_id, (chunk) => (out += chunk.text));
  await c.close();
  const m = /^(\d+\.\d+)/m.exec(out);
  if (!m) throw new Error(`no uptime in ${out}`);
  return (Number(m[1]) - t0) * 1000;
}

async function startup(): Promise<void> {
  const inside = ['sh', '-c', 'head -c 12 /proc/uptime; echo'];
  const home = mkdtempSync(join(tmpdir(), 'jobs-bench-'));
  const homeCold = mkdtempSync(join(tmpdir(), 'jobs-bench-cold-'));
  const { app } = await startServer({ home });
  const bare: number[] = [];
  const warm: number[] = [];
  const cold: number[] = [];
  const api: number[] = [];
  const node: number[] = [];
  await firstInstruction(['docker', 'run', '--rm', '--network', 'host', IMAGE, ...inside]);
  for (let i = 0; i < STARTS; i++) {
    bare.push(await firstInstruction(['docker', 'run', '--rm', '--network', 'host', IMAGE, ...inside]));
    warm.push(await firstInstruction([process.execPath, cli, '--home', home, 'train', '--image', IMAGE, '--', ...inside]));
    cold.push(await firstInstruction([process.execPath, cli, '--home', homeCold, 'train', '--image', IMAGE, '--', ...inside]));
    api.push(await viaApi(home, inside));
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, '--help'], { stdio: 'ignore' });
    node.push(performance.now() - t0);
  }
  await app.server.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(homeCold, { recursive: true, force: true });
  const b = median(bare);
  console.log(`start-up to the container's first instruction, median of ${STARTS} (ms):`);
  console.log(`  docker run --rm (baseline)             ${b.toFixed(0)}   [${bare.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`  mlops train, backend running           ${median(warm).toFixed(0)}   ×${(median(warm) / b).toFixed(2)}   [${warm.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`  POST /api/v1/jobs (running backend)   ${median(api).toFixed(0)}   ×${(median(api) / b).toFixed(2)}   [${api.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`  (node dist/backend/cli.mjs --help alone: ${median(node).toFixed(0)} ms; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
  console.log(`  mlops train, no backend (embedded)     ${median(cold).toFixed(0)}   ×${(median(cold) / b).toFixed(2)}   [${cold.map((x) => x.toFixed(0)).join(', ')}]`);
}

const SCRIPT = `import time, mlflow
with mlflow.start_run():
    for i in range(${METRICS}):
        t = time.time() * 1000
        mlflow.log_metric("t_sent", t, step=i)
        rt = time.time() * 1000 - t
        mlflow.log_metric("call_ms", rt, step=i)
        time.sleep(0.05)
`;

async function metricLatency(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'jobs-bench-m-'));
  const work = mkdtempSync(join(tmpdir(), 'jobs-bench-w-'));
  writeFileSync(join(work, 'log.py'), SCRIPT);
  const token = 'bench';
  const { app, handshake } = await startServer({ home, token });
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    (await (await fetch(handshake.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : null })).json()) as T;
  const reader = new Database(join(home, 'mlops.db'), { readonly: true });
  const seenAt = reader.prepare("SELECT step, value FROM metrics WHERE run_uuid = ? AND key = 't_sent' AND step >= ?");
  const calls = reader.prepare("SELECT value FROM metrics WHERE run_uuid = ? AND key = 'call_ms'").pluck();
  const measure = async (body: Record<string, unknown>): Promise<{ visible: number[]; call: number[] }> => {
    const job = await api<Job>('POST', '/api/v1/jobs', body);
    const visible: number[] = [];
    let next = 0;
    for (;;) {
      for (const r of seenAt.all(job.run_id, next) as { step: number; value: number }[]) {
        visible.push(Date.now() - r.value);
        next = Math.max(next, r.step + 1);
      }
      const j = await api<Job>('GET', `/api/v1/jobs/${job.job_id}`);
      if (j.status !== 'queued' && j.status !== 'running') {
        if (j.status !== 'finished') throw new Error(`bench job ${j.status}: ${j.message}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return { visible, call: calls.all(job.run_id) as number[] };
  };
  const py = `${venv()}/bin/python`;
  const local = await measure({ launcher: 'local', command: [py, 'log.py'], cwd: work });
  const docker = await measure({ image: 'mlops-test/pyhost:1', command: [py, '/w/log.py'], mounts: [...pyMounts(), { source: work, target: '/w', read_only: true }] });
  reader.close();
  await app.server.close();
  rmSync(home, { recursive: true, force: true });
  const line = (name: string, m: { visible: number[]; call: number[] }, base?: { visible: number[] }) =>
    `  ${name.padEnd(28)} visible p50 ${median(m.visible).toFixed(1)} p95 ${pct(m.visible, 0.95).toFixed(1)}   log_metric call p50 ${median(m.call).toFixed(1)} ms` +
    (base ? `   ×${(median(m.visible) / median(base.visible)).toFixed(2)} vs host` : '');
  console.log(`metric latency, ${METRICS} points each (ms; poll interval 2 ms):`);
  console.log(line('host process (baseline)', local));
  console.log(line('container (docker launcher)', docker, local));
}

async function main(): Promise<void> {
  console.log(`jobs bench: ${new Date().toISOString()}, ${cpus().length} cores, docker ${execFileSync('docker', ['version', '-f', '{{.Server.Version}}'], { encoding: 'utf8' }).trim()}`);
  testImages();
  execFileSync(process.execPath, [join(root, '.ci/build.mjs')], { cwd: root });
  await startup();
  await metricLatency();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
