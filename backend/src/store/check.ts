import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { sqliteBinding } from './sqlite';
import { holdSqliteFile } from './files';

export interface StoreCheck {
  /** ok; damaged (details say how); unfinished when the time budget ran out first (a very large store). */
  status: 'ok' | 'damaged' | 'unfinished';
  details: string[];
  ms: number;
}

// A read-only connection of its own on a worker thread, so that the budget holds however long the check runs.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const Database = require(workerData.sqlite);
  const db = new Database(workerData.file, { readonly: true, fileMustExist: true, nativeBinding: workerData.binding });
  const rows = db.pragma(workerData.full ? 'integrity_check(20)' : 'quick_check(20)', { simple: false });
  db.close();
  parentPort.postMessage({ details: rows.flatMap((r) => String(Object.values(r)[0]).split('\\n')).filter((l) => l && !l.startsWith('***')) });
} catch (err) {
  parentPort.postMessage({ details: [String(err && err.message || err)] });
}
`;

/**
 * PRAGMA quick_check of the store (O(size): ~120 MB/s here), within `budgetMs`. A damaged store must not be
 * opened for writing: every write on a broken b-tree can spread the damage.
 */
export function checkStore(file: string, budgetMs: number, o: { full?: boolean } = {}): Promise<StoreCheck> {
  const t0 = Date.now();
  if (!existsSync(file)) return Promise.resolve({ status: 'ok', details: [], ms: 0 });
  holdSqliteFile(file);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, full: o.full ?? false, sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), binding: sqliteBinding() } });
  worker.unref();
  return new Promise((done) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      done({ status: 'unfinished', details: [], ms: Date.now() - t0 });
    }, budgetMs);
    worker.once('message', (m: { details: string[] }) => {
      clearTimeout(timer);
      void worker.terminate();
      const ok = m.details.length === 1 && m.details[0] === 'ok';
      done({ status: ok ? 'ok' : 'damaged', details: ok ? [] : m.details, ms: Date.now() - t0 });
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      done({ status: 'damaged', details: [err.message], ms: Date.now() - t0 });
    });
  });
}

/** The one message a damaged store gets, with what to do. */
export function damagedMessage(file: string, c: StoreCheck): string {
  return (
    `the store ${file} is damaged (${c.details.slice(0, 3).join('; ')}${c.details.length > 3 ? '; ...' : ''}); it was not opened, so nothing more was written to it. ` +
    `Run 'mlops doctor' for the full report, then restore a backup (made with 'mlops backup FILE') over mlops.db while no backend runs.`
  );
}
