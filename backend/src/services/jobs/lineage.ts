import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadExeca } from './execa';
import { isHeldSqliteFile } from '../../store/files';

export interface CodeState {
  commit: string | null;
  dirty: boolean | null;
  /** sha256 of `git diff HEAD` plus the untracked files' names and contents (a .mlops store left out); null when clean or not a repo. */
  diffDigest: string | null;
}

/** Pathspecs: the folder, less any .mlops store in it (a store from before its .gitignore was written included). */
const NOT_CODE = ['.', ':(exclude,glob)**/.mlops/**'];

/** The git state of `dir`: commit, whether the tree has changes, and a digest of those changes. */
export async function codeState(dir: string | undefined): Promise<CodeState> {
  if (!dir) return { commit: null, dirty: null, diffDigest: null };
  const { execa } = await loadExeca();
  const git = (args: string[]) => execa('git', args, { cwd: dir, reject: false, stripFinalNewline: true, encoding: 'buffer', timeout: 20_000 });
  const head = await git(['rev-parse', 'HEAD']).catch(() => null);
  if (!head || head.exitCode !== 0) return { commit: null, dirty: null, diffDigest: null };
  const diff = await git(['diff', 'HEAD', '--binary', '--', ...NOT_CODE]);
  const untracked = await git(['ls-files', '--others', '--exclude-standard', '-z', '--', ...NOT_CODE]);
  // The store may sit untracked in the job's folder (the default home is ./.mlops): never read its open files.
  const names = Buffer.from(untracked.stdout).toString('utf8').split('\0').filter((n) => n && !isHeldSqliteFile(join(dir, n))).sort();
  const diffBytes = Buffer.from(diff.stdout);
  if (diffBytes.length === 0 && names.length === 0) {
    return { commit: Buffer.from(head.stdout).toString().trim(), dirty: false, diffDigest: null };
  }
  const h = createHash('sha256').update(diffBytes);
  for (const n of names) h.update(`\0${n}\0`).update(await fileDigest(join(dir, n)).catch(() => 'unreadable'));
  return { commit: Buffer.from(head.stdout).toString().trim(), dirty: true, diffDigest: h.digest('hex') };
}

export function fileDigest(file: string): Promise<string> {
  if (isHeldSqliteFile(file)) return Promise.reject(new Error(`'${file}' is a database file the backend has open (its store); it cannot be hashed as data`));
  return new Promise((done, fail) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => done(h.digest('hex')))
      .on('error', fail);
  });
}

/** sha256 of a file, or of a folder (its files' relative names and contents, in name order; the backend's open database files left out). */
export async function pathDigest(path: string): Promise<string> {
  const st = await stat(path);
  if (!st.isDirectory()) return fileDigest(path);
  const h = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && !isHeldSqliteFile(p)) h.update(`\0${relative(path, p)}\0`).update(await fileDigest(p));
    }
  };
  await walk(path);
  return h.digest('hex');
}

/** Digests of the job's data files; a missing file is a clear error naming it. */
export async function dataDigests(paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    try {
      out[p] = await pathDigest(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? `Data file '${p}' does not exist` : `Cannot read data file '${p}': ${(err as Error).message}`);
    }
  }
  return out;
}
