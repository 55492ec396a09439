import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { invalid } from '../../util/errors';
import { rayAddress } from './launchers/ray-api';
import type { JobSpec, LauncherKind, MountSpec, Resources } from './types';

export const DEFAULT_TIMEOUT_MS = 24 * 3600 * 1000;

/** The body of POST /api/v1/jobs (snake_case like the rest of the HTTP API). */
export interface JobInput {
  launcher?: LauncherKind;
  image?: string;
  command?: string[];
  env?: Record<string, string>;
  cwd?: string;
  mounts?: { source: string; target: string; read_only?: boolean }[];
  cpus?: number;
  memory?: string | number;
  gpus?: number | 'all';
  gpu_ids?: string[];
  timeout?: string | number;
  retries?: number;
  experiment?: string;
  run_name?: string;
  params?: Record<string, string | number | boolean>;
  tags?: Record<string, string>;
  data?: string[];
  code_dir?: string;
  parent_run_id?: string;
  stop_grace_s?: number;
  /** Ray jobs: the dashboard URL (default env MLOPS_RAY_ADDRESS, else http://127.0.0.1:8265). */
  ray_address?: string;
}

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's memory syntax: 512m, 4g, 1.5g, or a byte count. */
export function parseMemory(v: string | number): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v);
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt])?i?b?$/i.exec(String(v).trim());
  if (!m) throw invalid(`Invalid memory '${v}': use a size such as 512m or 4g`);
  const bytes = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
  if (bytes < 6 * 1024 ** 2) throw invalid(`Invalid memory '${v}': Docker needs at least 6m`);
  return bytes;
}

/** 90, "90s", "30m", "24h", "2d" → milliseconds. A bare number is seconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(String(v).trim());
  if (!m) throw invalid(`Invalid timeout '${v}': use a duration such as 90s, 30m, 24h`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  const ms = Math.round(Number(m[1]) * mult);
  if (ms <= 0) throw invalid(`Invalid timeout '${v}': it must be positive`);
  return ms;
}

const stringMap = (v: unknown, what: string): Record<string, string> => {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`'${what}' must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!['string', 'number', 'boolean'].includes(typeof x)) throw invalid(`'${what}.${k}' must be a string`);
    out[k] = String(x);
  }
  return out;
};

const stringList = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`'${what}' must be a list of strings`);
  return v as string[];
};

function resources(i: JobInput, launcher: LauncherKind): Resources {
  const r: Resources = {};
  if (i.cpus !== undefined) {
    if (typeof i.cpus !== 'number' || !(i.cpus > 0) || i.cpus > 1024) throw invalid(`Invalid cpus '${String(i.cpus)}': use a positive number such as 2 or 0.5`);
    // A Docker daemon (maybe remote) checks against its own host; a local job can only have the CPUs the backend has.
    const here = availableParallelism();
    if (launcher === 'local' && i.cpus > here) throw invalid(`Invalid cpus ${i.cpus}: this machine has only ${here} CPU(s) available to the backend`);
    r.cpus = i.cpus;
  }
  if (i.memory !== undefined) r.memoryBytes = parseMemory(i.memory);
  if (i.gpus !== undefined) {
    if (i.gpus === 'all') r.gpus = -1;
    else if (Number.isInteger(i.gpus) && (i.gpus as number) >= 0) r.gpus = i.gpus as number;
    else throw invalid(`Invalid gpus '${String(i.gpus)}': use a count or 'all'`);
  }
  const ids = stringList(i.gpu_ids, 'gpu_ids');
  if (ids.length) r.gpuIds = ids;
  return r;
}

function mounts(i: JobInput, base: string): MountSpec[] {
  if (i.mounts === undefined) return [];
  if (!Array.isArray(i.mounts)) throw invalid("'mounts' must be a list of {source, target}");
  return i.mounts.map((m, n) => {
    if (!m || typeof m.source !== 'string' || typeof m.target !== 'string' || !m.source || !m.target) {
      throw invalid(`mounts[${n}] needs a 'source' and a 'target'`);
    }
    if (!m.target.startsWith('/')) throw invalid(`mounts[${n}].target '${m.target}' must be an absolute path in the container`);
    return { source: isAbsolute(m.source) ? m.source : resolve(base, m.source), target: m.target, readOnly: m.read_only ?? false };
  });
}

/** What a Ray job cannot have: it runs in the cluster's own Python environment, which schedules its own devices. */
function rayOnly(i: JobInput): void {
  if (i.image) throw invalid("A Ray job runs in the Ray cluster's environment: it takes no 'image'");
  if (i.mounts?.length) throw invalid("A Ray job takes no 'mounts': its folder (cwd) is uploaded as its working_dir");
  if (i.gpu_ids?.length) throw invalid("A Ray job takes a GPU count ('gpus'), not 'gpu_ids': the cluster picks the devices");
  if (i.gpus === 'all') throw invalid("A Ray job needs a GPU count ('gpus': N), not 'all'");
  if (i.ray_address !== undefined && typeof i.ray_address !== 'string') throw invalid("'ray_address' must be a URL string");
}

/** Validates a request into a complete spec; relative paths resolve against `base` (the caller's folder). */
export function normalizeSpec(i: JobInput, base: string): { launcher: LauncherKind; spec: JobSpec } {
  if (!i || typeof i !== 'object') throw invalid('The job must be a JSON object');
  const launcher = i.launcher ?? (i.image ? 'docker' : 'local');
  if (launcher !== 'docker' && launcher !== 'local' && launcher !== 'ray') throw invalid(`Invalid launcher '${String(launcher)}': use 'docker', 'local' or 'ray'`);
  const command = stringList(i.command, 'command');
  if (launcher === 'docker' && (typeof i.image !== 'string' || !i.image.trim())) throw invalid("A Docker job needs an 'image'");
  if (launcher !== 'docker' && command.length === 0) throw invalid(`A ${launcher} job needs a 'command'`);
  if (launcher === 'ray') rayOnly(i);
  else if (i.ray_address !== undefined) throw invalid("'ray_address' is for Ray jobs (launcher 'ray')");
  const retries = i.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0 || retries > 100) throw invalid(`Invalid retries '${String(i.retries)}': use 0..100`);
  const grace = i.stop_grace_s ?? 10;
  if (typeof grace !== 'number' || grace < 0 || grace > 3600) throw invalid(`Invalid stop_grace_s '${String(i.stop_grace_s)}'`);
  const here = launcher !== 'docker';
  const cwd = i.cwd === undefined ? undefined : here ? resolve(base, i.cwd) : i.cwd;
  const spec: JobSpec = {
    command,
    env: stringMap(i.env, 'env'),
    mounts: mounts(i, base),
    resources: resources(i, launcher),
    timeoutMs: i.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(i.timeout),
    retries,
    experiment: typeof i.experiment === 'string' && i.experiment ? i.experiment : 'Default',
    params: stringMap(i.params, 'params'),
    tags: stringMap(i.tags, 'tags'),
    data: stringList(i.data, 'data').map((d) => resolve(base, d)),
    stopGraceS: grace,
  };
  if (i.image) spec.image = i.image.trim();
  if (cwd) spec.cwd = cwd;
  // A local job runs in its folder; a Ray job gets that folder uploaded as its working_dir.
  if (here && !spec.cwd) spec.cwd = base;
  if (launcher === 'ray') spec.rayAddress = rayAddress(typeof i.ray_address === 'string' ? i.ray_address : undefined);
  if (i.run_name) spec.runName = String(i.run_name);
  if (i.code_dir) spec.codeDir = resolve(base, i.code_dir);
  if (i.parent_run_id) spec.parentRunId = String(i.parent_run_id);
  return { launcher, spec };
}

/** Env as recorded for reproduction: values of secret-looking names masked (see util/mask.ts). */
export { isMasked, maskEnv } from '../../util/mask';
