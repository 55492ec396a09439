import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { holdSqliteFile } from './files';
import { openSqlite } from './sqlite';
import { privateFile } from './home';

/** The file whose SQLite lock says "a backend serves this home". */
export const LOCK_FILE = 'backend.lock';

export interface HomeLock {
  /** Lets the next backend in; also happens by itself when the process dies. */
  release(): void;
}

/** Thrown when another live process holds the home's lock; the message names it. */
export class HomeLockedError extends Error {
  constructor(
    message: string,
    readonly holderPid: number | null,
  ) {
    super(message);
  }
}

/**
 * One backend per home. The lock is SQLite's own: an EXCLUSIVE lock on a small database kept for the life of the
 * process (locking_mode=EXCLUSIVE never gives it back). SQLite takes it with fcntl() byte-range locks, so the kernel
 * decides between two processes starting at once and drops the lock when its holder dies, even by kill -9. Two
 * connections in one process are told apart by SQLite itself, so an in-process second start is refused too.
 * Caveat of fcntl() locks: closing *any* descriptor of the file in the holding process drops them; nothing may
 * open backend.lock (or the store's files) with plain fs calls (store/files.ts).
 */
export function acquireHomeLock(home: string, describeHolder: (pid: number | null) => string): HomeLock {
  // Two starts at the same moment can each be refused by the other's transient lock (SQLite answers a would-be
  // deadlock with SQLITE_BUSY at once); when no process holds the lock afterwards, try again after a short random wait.
  for (let attempt = 0; ; attempt++) {
    try {
      return tryHomeLock(home, describeHolder);
    } catch (err) {
      if (!(err instanceof HomeLockedError) || err.holderPid !== null || attempt >= 10) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + Math.floor(Math.random() * 80));
    }
  }
}

function tryHomeLock(home: string, describeHolder: (pid: number | null) => string): HomeLock {
  const file = join(home, LOCK_FILE);
  // The busy timeout only covers two starts racing through SQLite's SHARED -> EXCLUSIVE steps; a held lock
  // still fails fast, since its holder never lets go.
  privateFile(file);
  const db = openSqlite(file, { timeout: 1000 });
  holdSqliteFile(file);
  try {
    db.pragma('journal_mode = MEMORY'); // no -journal file beside the lock (OFF is refused in defensive mode)
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, started_at INTEGER NOT NULL)');
    db.exec('DELETE FROM owner');
    db.prepare('INSERT INTO owner (pid, started_at) VALUES (?, ?)').run(process.pid, Date.now());
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const pid = lockHolderPid(file);
    throw new HomeLockedError(describeHolder(pid), pid);
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      db.close();
    },
  };
}

/** The pid holding a POSIX lock on `file`, from /proc/locks (Linux); null where that cannot be read. */
export function lockHolderPid(file: string): number | null {
  try {
    const ino = statSync(file).ino;
    for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
      // "30: POSIX  ADVISORY  WRITE 18410 fe:00:2203665 1073741824 1073742335"
      const m = /^\d+:\s+POSIX\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
      if (m && Number(m[2]) === ino) return Number(m[1]);
    }
  } catch {
    // Not Linux, or no /proc: the caller says "pid unknown".
  }
  return null;
}
