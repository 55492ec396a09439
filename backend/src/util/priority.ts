/**
 * Background threads yield the CPU to the serving thread. On Linux a thread has its own nice value (setpriority on
 * its thread id, which is what os.setPriority does with a pid), so a worker thread can lower its own priority
 * without touching the process's other threads; raising it back would need privileges, lowering never does.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The nice value of the monitors' checks thread: on a busy machine it runs when the serving thread does not. */
export const BACKGROUND_NICE = 10;

/** The calling thread's kernel id (Linux), or null elsewhere. */
function threadId(): number | null {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's scheduling priority to `nice` (never raises it). Returns the thread id it applied to,
 * or null where threads cannot be told apart (not Linux) or the kernel refused: the work then runs at the process's
 * priority, as before.
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): number | null {
  if (process.platform !== 'linux') return null;
  const tid = threadId();
  if (tid === null) return null;
  try {
    // Already lower (a backend started with `nice`): kept; asking for less would be a raise, refused without privileges.
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return tid;
  } catch {
    return null;
  }
}
