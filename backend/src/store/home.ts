import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The home holds the session token (backend.json), the database and the artifacts: only its owner may read it.
 * Created 0700 (its parents with the usual mode); an existing store folder is tightened to 0700 too.
 */
export function ensureHome(home: string): void {
  mkdirSync(dirname(home), { recursive: true });
  try {
    mkdirSync(home, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (existsSync(join(home, 'mlops.db'))) tighten(home, 0o700);
  }
}

/**
 * Makes `file` a private file (0600) before SQLite opens it: SQLite creates the database 0644 and gives its -wal,
 * -shm and -journal the database's own mode, so creating it 0600 first covers all of them. Called before the first
 * connection only, never on a file this process already has open (see store/files.ts: a close drops its locks).
 */
export function privateFile(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    tighten(file, 0o600);
    for (const s of ['-wal', '-shm', '-journal']) if (existsSync(file + s)) tighten(file + s, 0o600);
  }
}

/** chmod to `mode` when group or others have any access (chmod and stat open nothing). */
function tighten(path: string, mode: number): void {
  try {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(path, mode);
  } catch {
    // Gone meanwhile, or not ours: SQLite reports what matters when it opens the file.
  }
}
