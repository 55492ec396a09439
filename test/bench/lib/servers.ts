// The two servers a tracking benchmark compares: our backend (`mlops serve`, the built bundle) and a real
// `mlflow server` from the test venv (SQLite backend store, proxied artifacts), both on 127.0.0.1.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, startBackend } from '../../helpers/backend';
import { startMlflow } from '../../integration/sync/mlflow-server';
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

/** A real `mlflow server` (the sync tests' starter); `workers` as `mlflow server --workers` (its default is 4). */
export async function startMlflowServer(workers: number): Promise<BenchServer> {
  const m = await startMlflow({ workers });
  // Its process group is reaped on exit; an interrupted benchmark exits so that happens.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  return { ...m, name: `mlflow (${workers} worker${workers > 1 ? 's' : ''})`, headers: {} };
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
