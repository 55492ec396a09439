import { createReadStream, createWriteStream, mkdirSync, realpathSync, existsSync } from 'node:fs';
import { readdir, stat, rm, rename, lstat } from 'node:fs/promises';
import { dirname, join, relative, sep, isAbsolute } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { invalid, notFound } from '../util/errors';
import { trimTrailingSlashes } from '../util/strings';

export interface ArtifactEntry {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/**
 * The local artifact root: `mlflow-artifacts:/<path>` lives at `<root>/<path>`. Every path is checked before
 * use: no `..`, no absolute paths, no backslashes or NUL, and no symlink that leads outside the root.
 */
export class ArtifactStore {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Validates a relative artifact path and returns its absolute location. '' is the root. */
  resolve(rel: string): string {
    if (isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) throw invalid(`Invalid artifact path '${rel}': absolute paths are not allowed`);
    const clean = trimTrailingSlashes(rel);
    if (clean === '') return this.root;
    if (/[\\\0#]/.test(clean) || clean.startsWith('file:')) throw invalid(`Invalid artifact path '${rel}'`);
    const parts = clean.split('/');
    if (parts.some((p) => p === '..' || p === '.' || p === '')) throw invalid(`Invalid artifact path '${rel}': '..', '.' and empty segments are not allowed`);
    // The file system's own limits, checked here so they answer 400 rather than fail inside a write.
    if (parts.some((p) => Buffer.byteLength(p) > MAX_NAME_BYTES)) throw invalid(`Invalid artifact path '${short(rel)}': a name is longer than ${MAX_NAME_BYTES} bytes`);
    if (Buffer.byteLength(clean) > MAX_PATH_BYTES) throw invalid(`Invalid artifact path '${short(rel)}': longer than ${MAX_PATH_BYTES} bytes`);
    const abs = join(this.root, ...parts);
    this.assertInside(abs, rel);
    return abs;
  }

  /** Follows symlinks of the longest existing prefix: it must stay inside the root. */
  private assertInside(abs: string, rel: string): void {
    let probe = abs;
    while (!existsSync(probe) && probe !== this.root) probe = dirname(probe);
    const real = realpathSync(probe);
    const rootReal = realpathSync(this.root);
    const r = relative(rootReal, real);
    if (r.startsWith('..') || isAbsolute(r) || r.split(sep)[0] === '..') {
      throw invalid(`Invalid artifact path '${rel}': it leads outside the artifact root`);
    }
  }

  /** Streams `body` into the file; readers never see a partial file (write to a temp name, then rename). */
  async write(rel: string, body: Readable): Promise<number> {
    const abs = this.resolve(rel);
    if (abs === this.root) throw invalid('An artifact needs a file name');
    try {
      mkdirSync(dirname(abs), { recursive: true });
    } catch (err) {
      // a file, a dangling symlink or a symlink loop where a folder should be
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw invalid(`Invalid artifact path '${short(rel)}': a part of it is a broken link`);
      throw fsError(err, rel);
    }
    this.assertInside(dirname(abs), rel);
    const st = await lstat(abs).catch(() => null);
    if (st?.isDirectory()) throw invalid(`Artifact path '${short(rel)}' is a directory`);
    // A short temporary name beside the target, so a name near the length limit still has room.
    const tmp = join(dirname(abs), `.part-${randomBytes(6).toString('hex')}`);
    let size = 0;
    body.on('data', (c: Buffer) => {
      size += c.length;
    });
    try {
      await pipeline(body, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, abs);
    } catch (err) {
      await rm(tmp, { force: true });
      // The folder was just made, so a missing one means it is a broken link.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw invalid(`Invalid artifact path '${short(rel)}': a part of it is a broken link`);
      throw fsError(err, rel);
    }
    return size;
  }

  async openRead(rel: string): Promise<{ stream: Readable; size: number }> {
    const abs = this.resolve(rel);
    const st = await stat(abs).catch(() => null);
    if (!st) throw notFound(`Artifact '${rel}' not found`);
    if (st.isDirectory()) throw invalid(`Artifact '${rel}' is a directory`);
    return { stream: createReadStream(abs), size: st.size };
  }

  /** Direct children of a directory; names are basenames. A missing directory lists as empty. */
  async list(rel: string): Promise<ArtifactEntry[]> {
    const abs = this.resolve(rel);
    const st = await stat(abs).catch(() => null);
    if (!st) return [];
    if (!st.isDirectory()) return [];
    const names = (await readdir(abs)).filter((n) => !n.includes('.part-')).sort();
    const out: ArtifactEntry[] = [];
    for (const name of names) {
      const s = await lstat(join(abs, name));
      if (s.isSymbolicLink()) continue;
      out.push(s.isDirectory() ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: s.size });
    }
    return out;
  }

  /** Every file below `rel`, as paths relative to `rel`. */
  async listFiles(rel: string): Promise<{ path: string; size: number }[]> {
    const out: { path: string; size: number }[] = [];
    const walk = async (sub: string): Promise<void> => {
      for (const e of await this.list(sub ? `${rel}/${sub}` : rel)) {
        const p = sub ? `${sub}/${e.path}` : e.path;
        if (e.is_dir) await walk(p);
        else out.push({ path: p, size: e.file_size ?? 0 });
      }
    };
    await walk('');
    return out;
  }

  async delete(rel: string): Promise<void> {
    const abs = this.resolve(rel);
    if (abs === this.root) throw invalid('Refusing to delete the artifact root');
    await rm(abs, { recursive: true, force: true }).catch((err: unknown) => {
      throw fsError(err, rel);
    });
  }
}

const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 4000;
const short = (s: string): string => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** A file-system error a request's path caused, as a 4xx; anything else (EIO, ENOSPC, EACCES) stays a 500. */
function fsError(err: unknown, rel: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const why: Record<string, string> = {
    ENOTDIR: 'a part of it is a file, not a directory',
    EEXIST: 'a part of it is a file or a broken link, not a directory',
    EISDIR: 'it is a directory',
    ELOOP: 'it goes through a symlink loop',
    ENAMETOOLONG: 'it is too long for the file system',
  };
  if (code && Object.hasOwn(why, code)) return invalid(`Invalid artifact path '${short(rel)}': ${why[code]}`);
  if (code === 'ENOENT') return notFound(`Artifact '${short(rel)}' not found`);
  return err;
}

/** `mlflow-artifacts:/1/abc/artifacts` → `1/abc/artifacts`; null for other schemes. */
export function artifactPathOf(uri: string): string | null {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(uri);
  return m ? trimTrailingSlashes(m[1]!) : null;
}
