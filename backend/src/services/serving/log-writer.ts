import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from '../../store/db';
import { sqliteBinding } from '../../store/sqlite';

/** One prediction-log row in column order: request_id, endpoint, variant, model_name, model_version, features (JSON), prediction (JSON), latency_ms, ts. */
export type LogRow = [string, string, string, string, number, string, string, number, number];

/**
 * Where queued prediction-log rows go; `sync` returns once everything written so far is committed, blocking the
 * calling thread while it waits; `synced` resolves then, without blocking it (background work: monitors' checks).
 */
export interface LogWriter {
  write(rows: LogRow[]): void;
  sync(): void;
  synced(): Promise<void>;
  close(): void;
}

const INSERT = 'INSERT INTO prediction_log (request_id, endpoint, variant, model_name, model_version, features, prediction, latency_ms, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
const TRIM = 'DELETE FROM prediction_log WHERE id <= ?';

/** Writes on the calling thread, one transaction per batch: for in-memory databases, and the fallback. */
export class InlineWriter implements LogWriter {
  private readonly tx;

  constructor(
    private readonly db: Db,
    maxRows: number,
  ) {
    const insert = db.prepare(INSERT);
    const trim = db.prepare(TRIM);
    this.tx = db.transaction((rows: LogRow[]) => {
      let last = 0;
      for (const r of rows) last = Number(insert.run(...r).lastInsertRowid);
      if (last > maxRows) trim.run(last - maxRows);
    });
  }

  write(rows: LogRow[]): void {
    if (rows.length && this.db.open) this.tx(rows);
  }

  sync(): void {}

  async synced(): Promise<void> {}

  close(): void {}
}

// Plain CommonJS for an eval'd worker: better-sqlite3 and its addon are loaded from the paths the main thread
// resolved, so the worker uses the same native module as the backend (one per Node ABI; see store/sqlite.ts).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
let db;
try {
  const Database = require(workerData.sqlite);
  db = new Database(workerData.file, { fileMustExist: true, nativeBinding: workerData.binding });
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
} catch (err) {
  Atomics.store(state, 1, -1);
  Atomics.notify(state, 1);
  throw err;
}
const insert = db.prepare(${JSON.stringify(INSERT)});
const trim = db.prepare(${JSON.stringify(TRIM)});
const write = db.transaction((rows) => {
  let last = 0;
  for (const r of rows) last = Number(insert.run(r).lastInsertRowid);
  if (last > workerData.maxRows) trim.run(last - workerData.maxRows);
});
Atomics.store(state, 1, 1);
Atomics.notify(state, 1);
let closed = false;
parentPort.on('message', (m) => {
  if (closed) return;
  if (m.rows) {
    try {
      write(m.rows);
    } catch (err) {
      Atomics.add(state, 2, m.rows.length);
    }
    Atomics.store(state, 0, m.seq);
    Atomics.notify(state, 0);
  }
  if (m.close) {
    closed = true;
    db.close();
    Atomics.store(state, 1, 2);
    Atomics.notify(state, 1);
    parentPort.close();
  }
});
`;

/** Atomics.waitAsync (Node 16 and later; its types come with lib ES2024, newer than this project's). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** How long a synchronous caller waits for the writer thread before writing on its own thread instead. */
const SYNC_TIMEOUT_MS = 10_000;

/**
 * Commits prediction-log batches on a worker thread with its own SQLite connection, so that the event loop
 * serving requests never runs an insert transaction (on two cores, a 100-row transaction held every request
 * behind it for 2–4 ms). Batches stay queued here until the worker acknowledges them through shared memory;
 * if the worker cannot start or dies, they are written inline and later batches too.
 */
export class ThreadWriter implements LogWriter {
  private readonly worker: Worker;
  /** [0] last committed batch, [1] worker state (0 starting, 1 ready, 2 closed, -1 failed), [2] rows lost to SQL errors. */
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private seq = 0;
  private unacked: { seq: number; rows: LogRow[] }[] = [];
  private fallback: InlineWriter | null = null;

  constructor(
    private readonly db: Db,
    private readonly maxRows: number,
  ) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: db.name, sqlite, binding: sqliteBinding(), maxRows, state: this.state.buffer } });
    this.worker.unref();
    this.worker.on('error', () => this.failOver());
    this.worker.on('exit', () => {
      if (Atomics.load(this.state, 1) !== 2) this.failOver();
    });
  }

  /** Rows the worker could not insert (an SQL error on its connection). */
  get lostRows(): number {
    return Atomics.load(this.state, 2);
  }

  write(rows: LogRow[]): void {
    if (rows.length === 0) return;
    if (this.fallback) return this.fallback.write(rows);
    this.prune();
    const seq = ++this.seq;
    this.unacked.push({ seq, rows });
    this.worker.postMessage({ seq, rows });
  }

  sync(): void {
    if (this.fallback) return;
    const until = Date.now() + SYNC_TIMEOUT_MS;
    for (let w = this.nextWait(this.seq, until); w; w = this.nextWait(this.seq, until)) Atomics.wait(this.state, ...w);
  }

  /**
   * Resolves once the batches written so far are committed, as `sync` returns, but waits with Atomics.waitAsync: the
   * event loop serves requests meanwhile (a check's flush held every request for the writer's commit).
   */
  async synced(): Promise<void> {
    if (this.fallback || Atomics.load(this.state, 0) >= this.seq) return this.prune();
    const seq = this.seq;
    const until = Date.now() + SYNC_TIMEOUT_MS;
    // A pending waitAsync does not keep the process alive by itself (the writer thread is unref'd): this timer does.
    const alive = setTimeout(() => undefined, SYNC_TIMEOUT_MS + 1_000);
    try {
      // A synchronous caller may have failed over meanwhile: then everything is written inline.
      for (let w = this.nextWait(seq, until); w && !this.fallback; w = this.nextWait(seq, until)) await waitAsync(this.state, ...w).value;
    } finally {
      clearTimeout(alive);
    }
  }

  /**
   * What to wait on before batch `seq` is committed: [slot, the value seen there, ms], for Atomics.wait or waitAsync;
   * null once it is committed (acknowledged batches pruned) or nobody will commit it (the writer closed, failed or
   * timed out: what it had not committed is written on this thread).
   */
  private nextWait(seq: number, until: number): [number, number, number] | null {
    const ready = Atomics.load(this.state, 1);
    const done = Atomics.load(this.state, 0);
    if (ready === 0 && Date.now() < until) return [1, 0, until - Date.now()];
    if (ready === 1 && done < seq && Date.now() < until) return [0, done, Math.min(100, until - Date.now())]; // short waits: a writer that went away is noticed
    if (done >= seq) this.prune();
    else this.failOver();
    return null;
  }

  close(): void {
    this.sync();
    if (this.fallback || Atomics.load(this.state, 1) !== 1) return;
    this.worker.postMessage({ close: true });
    const until = Date.now() + 2_000;
    while (Atomics.load(this.state, 1) === 1 && Date.now() < until) Atomics.wait(this.state, 1, 1, until - Date.now());
  }

  private prune(): void {
    const done = Atomics.load(this.state, 0);
    while (this.unacked.length && this.unacked[0]!.seq <= done) this.unacked.shift();
  }

  /** The worker is gone: what it had not committed, and everything after, is written on this thread. */
  private failOver(): void {
    if (this.fallback) return;
    this.prune();
    this.fallback = new InlineWriter(this.db, this.maxRows);
    const pending = this.unacked.flatMap((b) => b.rows);
    this.unacked = [];
    void this.worker.terminate();
    this.fallback.write(pending);
  }
}

/** A worker thread for a database file; inline for in-memory databases (another connection would not see them). */
export function logWriterFor(db: Db, maxRows: number): LogWriter {
  return db.memory || db.name === '' || db.name === ':memory:' ? new InlineWriter(db, maxRows) : new ThreadWriter(db, maxRows);
}
