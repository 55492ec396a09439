import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testVenv } from '../../helpers/backend';

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
  /** Its working folder: the database and the artifact root (`artifacts/`) live here; removed on stop. */
  dir: string;
  /** The server's own SQLite database file. */
  dbFile: string;
  pid: number;
  /** The tail of its stderr, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real `mlflow server` from the test venv (SQLite backend, proxied artifacts) on 127.0.0.1 and waits
 * until /health answers. One worker by default: the machines have 2 cores, and one process keeps the server's
 * SQLite writes simple (`mlflow server`'s own default is 4). The server runs in its own process group, which is
 * killed if this process exits first.
 */
export async function startMlflow(o: { workers?: number } = {}): Promise<MlflowServer> {
  const venv = testVenv();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-mlflow-'));
  const dbFile = join(dir, 'mlflow.db');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['server', '--backend-store-uri', `sqlite:///${dbFile}`, '--artifacts-destination', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', String(o.workers ?? 1)];
  // Job execution spawns helper processes that neither sync nor the benchmarks use; on 2 cores they slow everything down.
  const env = { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' };
  const child: ChildProcess = spawn(join(venv, 'bin', 'mlflow'), args, { cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
  const reap = (): void => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', reap);
  let log = '';
  child.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  const stop = async (): Promise<void> => {
    process.removeListener('exit', reap);
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let i = 0; i < 50 && child.exitCode === null; i++) await sleep(100);
      reap();
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, dir, dbFile, pid: child.pid!, log: () => log, stop };
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
