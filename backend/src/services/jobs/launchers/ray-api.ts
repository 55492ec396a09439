import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { invalid } from '../../../util/errors';
import { boundedRequest } from '../../../util/http-request';
import { ALWAYS_IGNORED, folderFiles } from '../images';

/** Where `ray start --head` serves its dashboard, and with it the Jobs REST API. */
export const DEFAULT_RAY_ADDRESS = 'http://127.0.0.1:8265';
/** A working folder whose files add up to more is refused (Ray's own cap is its gRPC message size, 512 MiB). */
export const MAX_WORKING_DIR_BYTES = 100 * 2 ** 20;
const REQUEST_TIMEOUT_MS = 30_000;
/** A bigger answer (a job log past this) is refused rather than held in memory. */
const MAX_ANSWER_BYTES = 256 * 2 ** 20;

/**
 * The Ray dashboard address a job uses: the one given, else env MLOPS_RAY_ADDRESS, else 127.0.0.1:8265. Like
 * DOCKER_HOST for Docker jobs, any host is accepted; credentials in the URL are not (the address is stored with the job).
 */
export function rayAddress(given?: string): string {
  const raw = (given || process.env.MLOPS_RAY_ADDRESS || DEFAULT_RAY_ADDRESS).trim();
  let u: URL;
  try {
    u = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw invalid(`Invalid Ray address '${raw}': use the dashboard's URL, such as ${DEFAULT_RAY_ADDRESS}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`Invalid Ray address '${raw}': use an http:// or https:// URL`);
  if (u.username || u.password) throw invalid('Invalid Ray address: it must not carry credentials (it is stored with the job)');
  if (u.search || u.hash) throw invalid(`Invalid Ray address '${raw}': no query or fragment`);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/**
 * One POSIX shell word per argument: Ray runs a job's entrypoint with `sh -c`, so each argv element is quoted
 * (single quotes; a quote inside becomes '\''), and only plainly safe words are left bare.
 */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export type RayStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
export const RAY_TERMINAL: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);

/** The part of GET /api/jobs/{id} the launcher reads. */
export interface RayJobInfo {
  status: RayStatus;
  message?: string | null;
  error_type?: string | null;
  driver_exit_code?: number | null;
}

/** A failed call: `status` is Ray's HTTP status, 0 when the dashboard could not be reached. */
export class RayError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Ray's Jobs REST API (the dashboard's /api/jobs and /api/packages). */
export class RayClient {
  constructor(readonly address: string) {}

  /**
   * One request with node:http, not fetch: Ray's dashboard refuses PUT/POST from anything that looks like a
   * browser, and fetch sends Sec-Fetch-Mode.
   */
  private async call(method: string, path: string, body?: Buffer | object): Promise<{ status: number; text: string }> {
    const payload = Buffer.isBuffer(body) ? body : body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined;
    const headers: Record<string, string | number> = payload ? { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json', 'content-length': payload.length } : {};
    try {
      return await boundedRequest(new URL(this.address + path), { method, headers, ...(payload ? { body: payload } : {}), timeoutMs: REQUEST_TIMEOUT_MS, maxBytes: MAX_ANSWER_BYTES });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new RayError(`cannot reach the Ray dashboard at ${this.address} (${err.code ?? err.message}); is a Ray head running there (ray start --head), and is --address or MLOPS_RAY_ADDRESS right?`, 0);
    }
  }

  private fail(what: string, r: { status: number; text: string }): never {
    // Ray answers errors as plain text, sometimes a whole Python traceback: its last line says what went wrong.
    const lines = r.text.trim().split('\n').filter(Boolean);
    throw new RayError(`Ray ${what} failed (HTTP ${r.status}): ${(lines.pop() ?? '').slice(0, 500)}`, r.status);
  }

  async submit(body: Record<string, unknown>): Promise<void> {
    const r = await this.call('POST', '/api/jobs/', body);
    if (r.status !== 200) this.fail('job submission', r);
  }

  /** null when Ray does not know the job. */
  async info(id: string): Promise<RayJobInfo | null> {
    const r = await this.call('GET', `/api/jobs/${encodeURIComponent(id)}`);
    if (r.status === 404) return null;
    if (r.status !== 200) this.fail('job status', r);
    return JSON.parse(r.text) as RayJobInfo;
  }

  /** The job's whole log so far (the driver's stdout and stderr, and Ray's lines about its runtime env). */
  async logs(id: string): Promise<string> {
    const r = await this.call('GET', `/api/jobs/${encodeURIComponent(id)}/logs`);
    if (r.status !== 200) this.fail('job logs', r);
    return (JSON.parse(r.text) as { logs?: string }).logs ?? '';
  }

  /** Asks Ray to stop the job (SIGTERM to the driver, SIGKILL after RAY_JOB_STOP_WAIT_TIME_S, 3 s by default). */
  async stop(id: string): Promise<void> {
    const r = await this.call('POST', `/api/jobs/${encodeURIComponent(id)}/stop`);
    if (r.status !== 200 && r.status !== 404) this.fail('job stop', r);
  }

  /**
   * Packs `dir` as a .tar.gz (less .git, .mlops, node_modules, venvs, __pycache__ and what .rayignore lists),
   * uploads it to the cluster's GCS unless a package with that content is already there, and returns the
   * gcs:// URI to use as runtime_env.working_dir (what Ray's own job client does with a local folder).
   */
  async uploadDir(dir: string): Promise<string> {
    const files = await folderFiles(dir, '.rayignore', [...ALWAYS_IGNORED, 'venv']);
    const tar = tarPack();
    const gz = tar.pipe(createGzip());
    const chunks: Buffer[] = [];
    const collected = (async () => {
      for await (const c of gz as AsyncIterable<Buffer>) chunks.push(c);
    })();
    const h = createHash('sha256');
    let raw = 0;
    for (const rel of files) {
      const path = join(dir, rel);
      const st = await stat(path).catch(() => null);
      // A dangling link or a link to a folder is left out (Ray's packer skips them too).
      if (!st?.isFile()) continue;
      raw += st.size;
      if (raw > MAX_WORKING_DIR_BYTES) break;
      const data = await readFile(path);
      h.update(`\0${rel}\0${st.mode & 0o111 ? 'x' : '-'}\0`).update(data);
      tar.entry({ name: rel, size: data.length, mode: st.mode & 0o777, mtime: new Date(0) }, data);
    }
    tar.finalize();
    await collected;
    if (raw > MAX_WORKING_DIR_BYTES) {
      throw new RayError(`the working folder ${dir} holds more than ${MAX_WORKING_DIR_BYTES / 2 ** 20} MiB to upload; list what the job does not need in a .rayignore there`, 400);
    }
    const name = `_ray_pkg_${h.digest('hex').slice(0, 32)}.tar.gz`;
    const seen = await this.call('GET', `/api/packages/gcs/${name}`);
    if (seen.status !== 200) {
      const r = await this.call('PUT', `/api/packages/gcs/${name}`, Buffer.concat(chunks));
      if (r.status !== 200) this.fail('working folder upload', r);
    }
    return `gcs://${name}`;
  }
}
