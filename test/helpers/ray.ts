import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './backend';

/**
 * The venv with ray[default] (.ci/setup-ray.sh, cached), or why there is none: CI exports MLOPS_RAY_VENV (empty
 * when Ray could not be installed); without it the setup script runs here.
 */
export function rayVenv(): { venv: string } | { skip: string } {
  let venv = process.env.MLOPS_RAY_VENV;
  if (venv === undefined) {
    venv = execFileSync('bash', [join(ROOT, '.ci', 'setup-ray.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop() ?? '';
    process.env.MLOPS_RAY_VENV = venv;
  }
  if (venv && existsSync(join(venv, 'bin', 'ray'))) return { venv };
  // setup-ray.sh keeps the end of pip's output next to the venv it could not make.
  const cache = process.env.MLOPS_TEST_CACHE ?? join(process.env.HOME ?? '/root', '.cache', 'mlops-studio');
  let why = 'ray[default] could not be installed by .ci/setup-ray.sh';
  try {
    const failed = readdirSync(cache).find((n) => n.startsWith('ray-') && n.endsWith('.failed'));
    if (failed) why += `: ${readFileSync(join(cache, failed), 'utf8').trim().split('\n').pop()}`;
  } catch {
    // No record of why.
  }
  return { skip: venv ? `${why} (MLOPS_RAY_VENV=${venv} has no bin/ray)` : why };
}

/** `n` TCP ports free on 127.0.0.1 right now, from the kernel's ephemeral range. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((ok, fail) => {
      const s = createServer();
      s.once('error', fail);
      s.listen(0, '127.0.0.1', () => ok(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A run of `n` consecutive free ports (Ray's worker port range), somewhere in 20000-32000 (below the ephemeral range). */
async function freeRange(n: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<boolean>((r) => {
      const s = createServer();
      s.once('error', () => r(false));
      s.listen(base + i, '127.0.0.1', () => s.close(() => r(true)));
    })));
    if (ok.every(Boolean)) return base;
  }
  throw new Error('no free port range for the Ray workers');
}

const listening = (port: number): Promise<boolean> =>
  new Promise((r) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => {
      c.destroy();
      r(true);
    });
    c.once('error', () => r(false));
  });

/** Pids of `root` and everything under it (by parent pid, so processes that left its group are found too). */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Ended meanwhile.
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out.filter((p) => parent.has(p));
}

export interface RayHead {
  /** The dashboard (Jobs REST API) URL. */
  address: string;
  pid: number;
  /** Ray's own view of a job (GET /api/jobs/{id}). */
  job(id: string): Promise<{ status: string; driver_exit_code?: number | null; entrypoint: string; runtime_env?: { env_vars?: Record<string, string>; working_dir?: string } }>;
  /** Stops a job from Ray's side (as `ray job stop` does), not through us. */
  stopJob(id: string): Promise<number>;
  /** CPUs reserved on the cluster now (its load report, refreshed every few seconds). */
  cpusInUse(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts a one-node Ray head from the venv, bound to 127.0.0.1 only: `--node-ip-address=127.0.0.1` alone still
 * makes Ray advertise the machine's own address for its GCS; RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps every
 * component on loopback. Each port is picked free, the temp dir is its own, and stop() ends exactly the
 * processes it started (the head and its descendants, by pid).
 */
export async function startRayHead(venv: string): Promise<RayHead> {
  const dir = mkdtempSync('/tmp/mlops-ray-');
  const [gcs, dash, client, nodeMgr, objMgr, agentHttp, agentGrpc, runtimeEnv, metrics] = await freePorts(9);
  const workers = await freeRange(40);
  const out = openSync(join(dir, 'head.log'), 'a');
  const proc = spawn(
    join(venv, 'bin', 'ray'),
    ['start', '--head', '--block', '--disable-usage-stats', '--node-ip-address=127.0.0.1', '--dashboard-host=127.0.0.1', '--num-cpus=1', '--object-store-memory=100000000', '--include-dashboard=true', `--temp-dir=${dir}`, `--port=${gcs}`, `--dashboard-port=${dash}`, `--ray-client-server-port=${client}`, `--node-manager-port=${nodeMgr}`, `--object-manager-port=${objMgr}`, `--dashboard-agent-listen-port=${agentHttp}`, `--dashboard-agent-grpc-port=${agentGrpc}`, `--runtime-env-agent-port=${runtimeEnv}`, `--metrics-export-port=${metrics}`, `--min-worker-port=${workers}`, `--max-worker-port=${workers + 39}`],
    { cwd: dir, detached: true, stdio: ['ignore', out, out], env: { ...process.env, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER: '0', RAY_USAGE_STATS_ENABLED: '0' } },
  );
  const pid = proc.pid!;
  let exited = false;
  proc.once('exit', () => (exited = true));
  const address = `http://127.0.0.1:${dash}`;
  const stop = async (): Promise<void> => {
    const pids = tree(pid);
    const signal = (s: NodeJS.Signals) => pids.forEach((p) => { try { process.kill(p, s); } catch { /* gone */ } });
    signal('SIGTERM');
    for (let i = 0; i < 50 && tree(pid).length > 0 && !exited; i++) await new Promise((r) => setTimeout(r, 100));
    signal('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const up = await fetch(`${address}/api/version`).then((r) => r.ok, () => false);
    if (up && (await listening(agentHttp))) break;
    if (exited || Date.now() > deadline) {
      const log = readFileSync(join(dir, 'head.log'), 'utf8').slice(-3000);
      await stop();
      throw new Error(`the Ray head did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    address,
    pid,
    job: async (id) => (await fetch(`${address}/api/jobs/${id}`)).json() as never,
    // node:http, not fetch: the dashboard refuses a POST carrying fetch's Sec-Fetch-Mode header.
    stopJob: (id) =>
      new Promise((ok, fail) => {
        const req = request(`${address}/api/jobs/${id}/stop`, { method: 'POST' }, (res) => {
          res.resume();
          res.on('end', () => ok(res.statusCode ?? 0));
        });
        req.on('error', fail);
        req.end();
      }),
    cpusInUse: async () => {
      const r = (await (await fetch(`${address}/api/cluster_status`)).json()) as { data?: { clusterStatus?: { loadMetricsReport?: { usage?: { CPU?: [number, number] } } } } };
      return r.data?.clusterStatus?.loadMetricsReport?.usage?.CPU?.[0] ?? 0;
    },
    stop,
  };
}
