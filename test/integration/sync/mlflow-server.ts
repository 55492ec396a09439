import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The test venv with the real mlflow from PyPI (CI sets MLOPS_TEST_VENV; locally the setup script prints it). */
export function testVenv(): string {
  if (process.env.MLOPS_TEST_VENV) return process.env.MLOPS_TEST_VENV;
  const out = execSync('bash .ci/setup-python.sh', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n');
  process.env.MLOPS_TEST_VENV = out[out.length - 1]!;
  return process.env.MLOPS_TEST_VENV;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface MlflowServer {
  url: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts a real `mlflow server` (SQLite backend, proxied artifacts) on 127.0.0.1 and waits until /health answers.
 * One worker: the machines have 2 cores, and one process keeps the server's SQLite writes simple.
 */
export async function startMlflow(): Promise<MlflowServer> {
  const venv = testVenv();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-sync-mlflow-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    join(venv, 'bin', 'mlflow'),
    ['server', '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`, '--artifacts-destination', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
    // Job execution spawns eight helper processes that sync never uses; on 2 cores they slow everything down.
    { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' } },
  );
  let log = '';
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
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
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, dir, stop };
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  await stop();
  throw new Error(`mlflow server did not start on ${url}: ${log}`);
}

/** Reads a file below the server's artifact root (what the remote actually stored). */
export function remoteArtifact(server: MlflowServer, path: string): Buffer {
  return readFileSync(join(server.dir, 'artifacts', path));
}
