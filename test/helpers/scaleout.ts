import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './backend';

/** The scale-out tests' venv (tritonclient, kubernetes-validate, kmock), created by .ci/setup-scaleout.sh when needed. */
export function scaleoutVenv(): string {
  if (process.env.MLOPS_SCALEOUT_VENV) return process.env.MLOPS_SCALEOUT_VENV;
  const out = execFileSync('bash', [join(ROOT, '.ci', 'setup-scaleout.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MLOPS_SCALEOUT_VENV = out.trim().split('\n').pop()!;
  return process.env.MLOPS_SCALEOUT_VENV;
}

export const scaleoutPython = (): string => join(scaleoutVenv(), 'bin', 'python');

/**
 * The scale-out venv's python when it has `module`, or why not (the venv could not be made here, or an older one
 * without it is pinned through MLOPS_SCALEOUT_VENV): a test skips and says so.
 */
export function scaleoutModule(module: string): { python: string } | { skip: string } {
  let python: string;
  try {
    python = scaleoutPython();
  } catch (err) {
    return { skip: `the scale-out venv could not be made by .ci/setup-scaleout.sh: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    execFileSync(python, ['-c', `import ${module}`], { stdio: 'ignore' });
    return { python };
  } catch {
    return { skip: `${module} is not installed in ${scaleoutVenv()} (test/python/scaleout-requirements.txt pins it; is MLOPS_SCALEOUT_VENV an older venv?)` };
  }
}

export interface RequestSeen {
  method: string;
  path: string;
  query: Record<string, string>;
  content_type: string | null;
  authorization: string | null;
  user_agent: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface KubeMock {
  url: string;
  pid: number;
  /** The API requests it received so far, in order (less this helper's own get()s). */
  requests(): Promise<RequestSeen[]>;
  /** GET an API path with the mock's token: status and JSON body. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(path: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

const READER = 'mlops-test-reader';

/**
 * Starts test/python/kmock_apiserver.py (kmock's Kubernetes emulator with server-side apply) on 127.0.0.1 on a
 * free port; `args` are its --resource/--answer options, `token` the bearer token it requires. stop() ends it by
 * its pid.
 */
export async function startKubeMock(python: string, args: string[], token: string): Promise<KubeMock> {
  const proc = spawn(python, [join(ROOT, 'test/python/kmock_apiserver.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KMOCK_TOKEN: token } });
  let err = '';
  proc.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`kmock did not print its port in 30 s: ${err}`)), 30_000);
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`kmock exited (${code}) before listening: ${err}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: proc.pid!,
    requests: async () => ((await (await fetch(`${url}/_kmock/requests`)).json()) as { requests: RequestSeen[] }).requests.filter((q) => q.user_agent !== READER),
    get: async (path) => {
      const r = await fetch(url + path, { headers: { authorization: `Bearer ${token}`, 'user-agent': READER } });
      return { status: r.status, body: await r.json() };
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      process.kill(proc.pid!, 'SIGTERM');
      const hard = setTimeout(() => process.kill(proc.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(hard);
    },
  };
}
