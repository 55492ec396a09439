// The two servers a tracking benchmark compares: our backend (`mlops serve`, the built bundle) and a real
// `mlflow server` from the test venv (SQLite backend store, proxied artifacts), both on 127.0.0.1.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, startBackend, testVenv } from '../../helpers/backend';
import type { Target } from './http';

export interface BenchServer extends Target {
  pid: number;
  dir: string;
  /** The server's own database file. */
  dbFile: string;
  /** The tail of its stderr, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

export const benchHome = (): string => mkdtempSync(join(tmpdir(), 'mlops-bench-'));

/** Our backend on `home` (a fresh one unless given; it is removed on stop). */
export async function startOurs(home = benchHome()): Promise<BenchServer> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const b = await startBackend(home);
  process.once('exit', () => b.proc.exitCode === null && b.proc.kill('SIGKILL'));
  let log = '';
  b.proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  return {
    name: 'mlops',
    url: b.url,
    headers: { authorization: `Bearer ${b.token}` },
    pid: b.pid,
    dir: home,
    dbFile: join(home, 'mlops.db'),
    log: () => log,
    stop: async () => {
      await b.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** `workers` as `mlflow server --workers` (its default is 4). */
export async function startMlflowServer(workers: number): Promise<BenchServer> {
  const venv = testVenv();
  const dir = mkdtempSync(join(tmpdir(), 'mlflow-bench-'));
  const dbFile = join(dir, 'mlflow.db');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['server', '--backend-store-uri', `sqlite:///${dbFile}`, '--artifacts-destination', join(dir, 'art'), '--host', '127.0.0.1', '--port', String(port), '--workers', String(workers)];
  // Job execution starts helper processes the workload never uses; they would only take CPU from the server.
  const env = { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' };
  const child = spawn(join(venv, 'bin', 'mlflow'), args, { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
  // Its own process group outlives this process: take it down if the benchmark is interrupted.
  const reap = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', reap);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { name: `mlflow (${workers} worker${workers > 1 ? 's' : ''})`, url, headers: {}, pid: child.pid!, dir, dbFile, log: () => log, stop };
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  await stop();
  throw new Error(`mlflow server did not start on ${url}: ${log}`);
}

/** CPU seconds (user + system) used so far by a process and its live descendants (mlflow's workers). */
export function treeCpuSeconds(root: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited while listing
    }
  }
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    ticks += stats.get(p)?.ticks ?? 0;
    for (const [pid, s] of stats) if (s.ppid === p) stack.push(pid);
  }
  return ticks / 100;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
