import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import type Docker from 'dockerode';
import { dockerMessage } from './launchers/docker';
import { fileDigest } from './lineage';

/** Never sent to the daemon: VCS data, the store, dependency caches. .dockerignore lines add to these. */
export const ALWAYS_IGNORED = ['.git', '.mlops', 'node_modules', '__pycache__', '.venv'];

export interface BuiltImage {
  /** The tag given to the image: mlops/<folder>:<context digest>. */
  tag: string;
  /** The image id (sha256:...), what the job's lineage records. */
  id: string;
  /** sha256 of the build context (file names and contents). */
  contextDigest: string;
}

/**
 * The files under `dir` (relative paths, sorted) less `always` and the names listed in its `ignoreFile` (one per
 * line, as in .dockerignore; `!` exceptions are not supported): a Docker build context, a Ray working_dir.
 */
export async function folderFiles(dir: string, ignoreFile: string, always: readonly string[] = ALWAYS_IGNORED): Promise<string[]> {
  const ignore = new Set(always);
  const di = join(dir, ignoreFile);
  if (existsSync(di)) {
    for (const line of readFileSync(di, 'utf8').split('\n')) {
      const l = line.trim().replace(/^\/+|\/+$/g, '');
      if (l && !l.startsWith('#') && !l.startsWith('!')) ignore.add(l);
    }
  }
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = relative(dir, join(d, e.name));
      if (ignore.has(rel) || ignore.has(e.name)) continue;
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.isFile() || e.isSymbolicLink()) out.push(rel);
    }
  };
  await walk(dir);
  return out;
}

/**
 * Builds `dir`'s Dockerfile (host networking: there is no bridge). The tag carries the context digest, so an
 * unchanged folder maps to the same tag and the daemon's layer cache makes the rebuild instant.
 */
export async function buildImage(
  docker: Docker,
  dirIn: string,
  o: { buildArgs?: Record<string, string>; dockerfile?: string; onOutput?: (line: string) => void } = {},
): Promise<BuiltImage> {
  const dir = resolve(dirIn);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`Build folder '${dirIn}' does not exist`);
  const dockerfile = o.dockerfile ?? 'Dockerfile';
  if (!existsSync(join(dir, dockerfile))) throw new Error(`No ${dockerfile} in '${dirIn}'`);
  const files = await folderFiles(dir, '.dockerignore');
  const h = createHash('sha256');
  for (const f of files) h.update(`\0${f}\0`).update(await fileDigest(join(dir, f)));
  const contextDigest = h.digest('hex');
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'job';
  const tag = `mlops/${name}:${contextDigest.slice(0, 12)}`;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage({ context: dir, src: files }, { t: tag, dockerfile, buildargs: o.buildArgs ?? {}, networkmode: 'host', rm: true, forcerm: true });
  } catch (err) {
    throw new Error(`Docker could not start the build: ${dockerMessage(err)}`);
  }
  let id = '';
  await new Promise<void>((done, fail) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? fail(new Error(`Image build failed: ${dockerMessage(err)}`)) : done()),
      (ev: { stream?: string; error?: string; aux?: { ID?: string } }) => {
        if (ev.aux?.ID) id = ev.aux.ID;
        if (ev.stream) o.onOutput?.(ev.stream);
        if (ev.error) o.onOutput?.(ev.error + '\n');
      },
    );
  });
  const info = await docker.getImage(tag).inspect().catch(() => null);
  if (!info) throw new Error(`Image build failed: ${tag} was not created (see the build output above)`);
  return { tag, id: info.Id || id, contextDigest };
}
