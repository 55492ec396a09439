/**
 * The checks worker thread: monitors' window reads (on its own read-only connection to the store file) and statistics
 * (the drift ensemble over a window, ADWIN/Page–Hinkley, the SLO figures) run there, so a check neither reads the log
 * nor computes on the serving event loop. An in-memory store cannot be opened by another connection: its windows are
 * read here, on the main connection, and sent with the job. Started when an endpoint's monitors are first ensured (or
 * by the first check), shut down by the runtime's close (which closes the thread's connection first). If the thread dies (a crash, out of memory), every check in flight fails with an
 * error naming why and the next check starts a fresh thread; the backend goes on.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db } from '../../store/db';
import type { Logger } from '../../util/logger';
import type { ComputeOp, ComputeOps, ComputeRunner } from './compute';
import { readerOf, readsAny, type Reading } from './reads';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** The worker script: the bundle's sibling file, or (running from source under tsx) worker.ts through tsx's loader. */
function spawn(file: string | null): Worker {
  const here = import.meta.url;
  const workerData = { file };
  if (!here.endsWith('.ts')) return new Worker(new URL('./monitor-worker.mjs', here), { workerData });
  // The tests and benches load the backend as CommonJS through tsx: the worker does the same.
  const req = createRequire(here);
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs/api'))}).register(); require(${JSON.stringify(fileURLToPath(new URL('./worker.ts', here)))});`;
  return new Worker(code, { eval: true, workerData });
}

export class CheckWorker implements ComputeRunner {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private closed = false;
  /** The store file the thread reads; null when the windows are read on this thread (an in-memory store). */
  readonly file: string | null;
  /** Computations the thread has answered (results and thrown errors), since the backend started. */
  answered = 0;
  /** Log rows the thread has read on its own connection. */
  rowsRead = 0;
  /** The thread's kernel id where it runs at a lowered priority (Linux), from its last answer; else null. */
  lowPriorityThread: number | null = null;

  /** `readHere`: read the windows on this thread even for a store file (the benchmark's before/after). */
  constructor(
    private readonly log: Logger,
    private readonly db: Db,
    o: { readHere?: boolean } = {},
  ) {
    this.file = db.memory || db.name === '' || db.name === ':memory:' || o.readHere ? null : db.name;
  }

  run<K extends ComputeOp>(op: K, job: Reading<Parameters<ComputeOps[K]>[0]>): Promise<ReturnType<ComputeOps[K]>> {
    if (this.closed) return Promise.reject(new Error('the checks worker is shut down'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const w = this.thread();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ id, op, job: this.file === null && readsAny(job) ? readerOf(this.db).resolve(job) : job });
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

  /** Closes the thread's connection and ends the thread (ended at once after 2 s); checks in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    if (w) {
      const exited = new Promise<void>((done) => w.once('exit', () => done()));
      w.postMessage({ close: true });
      const timer = setTimeout(() => void w.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    }
    this.failAll(new Error('the checks worker was shut down'));
  }

  /** Ends the thread as a crash would (tests): the checks in flight fail, the next check starts a new thread. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = spawn(this.file);
    this.worker = w;
    // The thread must not keep the backend process alive by itself.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; value?: unknown; message?: string; read?: number; tid?: number | null }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.answered++;
      this.rowsRead += m.read ?? 0;
      if (m.tid !== undefined) this.lowPriorityThread = m.tid;
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
