import { realpathSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/**
 * SQLite files this process holds open (the store with its -wal/-shm/-journal, the home's lock).
 *
 * SQLite locks them with fcntl(), and fcntl() locks belong to the process: closing *any* descriptor of the file
 * drops all of them. A backend that read its own mlops.db and mlops.db-shm with plain fs (say, hashing the untracked
 * files of a job's folder) lost its locks; the next CLI command then believed it was the last connection, deleted
 * -wal and -shm on close, and no other process saw the backend's writes from then on. So nothing in this process
 * may open these files except SQLite: code that reads arbitrary user paths asks isHeldSqliteFile() first.
 */
const held = new Set<string>();
const SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** Records `file` (and its -wal, -shm, -journal) as opened by SQLite in this process. */
export function holdSqliteFile(file: string): void {
  if (file === ':memory:' || file === '') return;
  const real = realOrSelf(file);
  for (const s of SUFFIXES) held.add(real + s);
}

/** True when `path` is one of the SQLite files this process holds; such a file must never be opened by fs. */
export function isHeldSqliteFile(path: string): boolean {
  return held.size > 0 && held.has(realOrSelf(path));
}

/** realpath of the file, or of its folder joined with its name when the file does not exist yet. */
function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}
