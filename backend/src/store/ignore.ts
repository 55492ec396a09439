import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The default store folder's name (the CLI's --home default; the extension's `<workspace>/.mlops`). */
export const STORE_DIR = '.mlops';

/**
 * Keeps a store out of git: it holds backend.json with the session token, the database and artifacts, none of
 * which belong in Source Control or in a job's digest of uncommitted changes. Written when the store is created,
 * or when a folder named .mlops lacks one; a folder the user chose that already held a store or other files is
 * left alone, as `*` would ignore all of it.
 */
export function ignoreStoreInGit(home: string, creating: boolean): void {
  const file = join(home, '.gitignore');
  if (!creating && basename(home) !== STORE_DIR) return;
  if (existsSync(file)) return;
  try {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, '*\n', { flag: 'wx' });
  } catch {
    // Best effort: a read-only folder or a race with another process writing it changes nothing else.
  }
}
