import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execFileSync } from 'node:child_process';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'backend', 'cli.mjs');

export interface RunningBackend {
  url: string;
  token: string;
  pid: number;
  home: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export const tempHome = (prefix = 'mlops-test-'): string => mkdtempSync(join(tmpdir(), prefix));

/** Starts the real backend process (`mlops serve`) and waits for its handshake line. */
export async function startBackend(home = tempHome(), extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}, node = process.execPath): Promise<RunningBackend> {
  const proc = spawn(node, [CLI, '--home', home, 'serve', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const line = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: proc.stdout! });
    const t = setTimeout(() => rej(new Error(`backend did not start in 20 s: ${stderr}`)), 20_000);
    rl.once('line', (l) => {
      clearTimeout(t);
      res(l);
    });
    proc.once('exit', (code) => rej(new Error(`backend exited with ${code}: ${stderr}`)));
  });
  const h = JSON.parse(line) as { url: string; token: string; pid: number };
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  return {
    ...h,
    home,
    proc,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** The test virtual environment with the real mlflow (created by .ci/setup-python.sh when needed). */
export function testVenv(): string {
  if (process.env.MLOPS_TEST_VENV) return process.env.MLOPS_TEST_VENV;
  const out = execFileSync('bash', [join(ROOT, '.ci', 'setup-python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MLOPS_TEST_VENV = out.trim().split('\n').pop()!;
  return process.env.MLOPS_TEST_VENV;
}

export const python = (): string => join(testVenv(), 'bin', 'python');

/** Environment for the real mlflow client pointed at a backend. */
export function mlflowEnv(b: { url: string; token: string }): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MLFLOW_TRACKING_URI: b.url,
    MLFLOW_TRACKING_TOKEN: b.token,
    MLFLOW_DISABLE_TELEMETRY: 'true',
    DO_NOT_TRACK: 'true',
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0',
    GIT_PYTHON_REFRESH: 'quiet',
  };
}

export async function api<T = Record<string, unknown>>(b: { url: string; token: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${b.token}` } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(b.url + path, init);
  const text = await res.text();
  let parsed: unknown = {};
  try {
    if (text) parsed = JSON.parse(text);
  } catch {
    // Plain-text endpoints (job logs).
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}
