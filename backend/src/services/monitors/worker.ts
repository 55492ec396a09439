/**
 * The checks worker thread's entry (bundled as dist/backend/monitor-worker.mjs): reads each check's window on a
 * read-only connection of its own to the store file (workerData.file; none for an in-memory store, whose jobs come
 * with their rows) and runs compute.ts's statistics, one message at a time. A computation that throws answers with
 * its message; anything else that goes wrong ends the thread, and the main thread fails the checks in flight
 * (CheckWorker). `{close: true}` closes the connection and ends the thread. The thread runs at a lower priority
 * (util/priority.ts): on a busy machine its statistics wait for the serving thread, not the other way round.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Db } from '../../store/db';
import { openSqlite } from '../../store/sqlite';
import { lowerThreadPriority } from '../../util/priority';
import { COMPUTE, type ComputeOp } from './compute';
import { LogReader, readsAny } from './reads';

interface Job {
  id: number;
  op: ComputeOp;
  job: object;
}

const file = (workerData as { file?: string | null } | null)?.file ?? null;
let db: Db | null = null;
let reader: LogReader | null = null;

function readerFor(): LogReader {
  if (!file) throw new Error('the checks worker has no store file to read (an in-memory store sends its rows)');
  if (!reader) {
    db = openSqlite(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    reader = new LogReader(db);
  }
  return reader;
}

/** This thread's kernel id once its priority is lowered (null where that is not possible): reported with answers. */
const tid = lowerThreadPriority();

const port = parentPort;
if (port) {
  port.on('message', (m: Job | { close: true }) => {
    if ('close' in m) {
      db?.close();
      port.close();
      return;
    }
    try {
      const run = COMPUTE[m.op] as ((j: unknown) => unknown) | undefined;
      if (!run) throw new Error(`unknown computation '${String(m.op)}'`);
      const before = reader?.rows ?? 0;
      const job = readsAny(m.job) ? readerFor().resolve(m.job) : m.job;
      const value = run(job);
      port.postMessage({ id: m.id, ok: true, value, read: (reader?.rows ?? 0) - before, tid });
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, message: (err as Error).message ?? String(err) });
    }
  });
}
