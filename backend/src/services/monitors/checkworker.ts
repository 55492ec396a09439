/**
 * The checks worker thread: monitors' statistics (the drift ensemble over a window, ADWIN/Page–Hinkley, the SLO
 * figures) run there, so a check does not block the serving event loop for its ~30 ms. Started when an endpoint's
 * monitors are first ensured (or by the first check),
 * shut down by the runtime's close. If the thread dies (a crash, out of memory), every check in flight fails with an
 * error naming why and the next check starts a fresh thread; the backend goes on.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../util/logger';
import type { ComputeOp, ComputeOps, ComputeRunner } from './compute';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** The worker script: the bundle's sibling file, or (running from source under tsx) worker.ts through tsx's loader. */
function spawn(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./monitor-worker.mjs', here));
  // The tests and benches load the backend as CommonJS through tsx: the worker does the same.
  const req = createRequire(here);
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(new URL('./worker.ts', here)))});`;
  return new Worker(code, { eval: true });
}

export class CheckWorker implements ComputeRunner {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private closed = false;
  /** Computations the thread has answered (results and thrown errors), since the backend started. */
  answered = 0;

  constructor(private readonly log: Logger) {}

  run<K extends ComputeOp>(op: K, job: Parameters<ComputeOps[K]>[0]): Promise<ReturnType<ComputeOps[K]>> {
    if (this.closed) return Promise.reject(new Error('the checks worker is shut down'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const w = this.thread();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, op, job });
    });
  }

  /** Starts the thread ahead of the first check (its start-up, loading the statistics, is then off the check's path). */
  warm(): void {
    if (!this.closed) this.thread();
  }

  /** Whether a thread is up now. */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Ends the thread; checks in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    this.failAll(new Error('the checks worker was shut down'));
  }

  /** Ends the thread as a crash would (tests): the checks in flight fail, the next check starts a new thread. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = spawn();
    this.worker = w;
    // The thread must not keep the backend process alive by itself.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; value?: unknown; message?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.answered++;
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.message));
    });
    w.on('error', (err) => {
      this.log.error({ err }, `the monitors' checks worker failed: ${err.message}`);
      this.lost(w, new Error(`the checks worker failed: ${err.message}`));
    });
    w.on('exit', (code) => {
      if (this.worker === w && !this.closed) this.log.error({ code }, `the monitors' checks worker exited (code ${code})`);
      this.lost(w, new Error(`the checks worker exited (code ${code}) before answering`));
    });
    return w;
  }

  private lost(w: Worker, err: Error): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.failAll(err);
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
