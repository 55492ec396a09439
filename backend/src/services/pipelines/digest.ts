import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileDigest } from '../jobs/lineage';

/** Not code: version control, the store, caches, and what runs write. */
const SKIP = new Set(['.git', '.mlops', 'node_modules', '__pycache__', '.venv', 'mlruns', 'outputs', '.ipynb_checkpoints']);

/** sha256 of a pipeline folder's files (names and contents): the "code" part of a step's cache key. */
export async function folderDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (SKIP.has(e.name) || e.name.endsWith('.pyc')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) h.update(`\0${relative(dir, p)}\0`).update(await fileDigest(p));
    }
  };
  await walk(dir);
  return h.digest('hex');
}
