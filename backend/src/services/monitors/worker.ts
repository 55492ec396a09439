/**
 * The checks worker thread's entry (bundled as dist/backend/monitor-worker.mjs): runs compute.ts's statistics for
 * the main thread's checks, one message at a time. A computation that throws answers with its message; anything
 * else that goes wrong ends the thread, and the main thread fails the checks in flight (CheckWorker).
 */
import { parentPort } from 'node:worker_threads';
import { COMPUTE, type ComputeOp } from './compute';

interface Job {
  id: number;
  op: ComputeOp;
  job: unknown;
}

const port = parentPort;
if (port) {
  port.on('message', (m: Job) => {
    try {
      const run = COMPUTE[m.op] as ((j: unknown) => unknown) | undefined;
      if (!run) throw new Error(`unknown computation '${String(m.op)}'`);
      port.postMessage({ id: m.id, ok: true, value: run(m.job) });
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, message: (err as Error).message ?? String(err) });
    }
  });
}
