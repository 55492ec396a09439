import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { AppliedLimits, Resources } from '../types';
import { LaunchError } from '../types';

const PERIOD_US = 100_000;
const PREFIX = 'mlops-job-';

type Controller = 'cpu' | 'memory';

/** The folder of the backend's own cgroup for one controller, and which cgroup version serves it. */
interface Own {
  version: 1 | 2;
  dir: string;
}

/** A cgroup made for one job: the file its process writes its pid to, and how to read OOM kills. */
interface JobGroup {
  version: 1 | 2;
  dir: string;
}

/** What the local launcher applies: a command prefix that puts the job in its limits, and the record of them. */
export interface LocalLimits {
  applied: AppliedLimits;
  /** argv to run instead of the job's command (the command appended). */
  wrap(command: string[]): string[];
  /** True when the kernel killed something in the job's memory cgroup. */
  oomKilled(): boolean;
  /** Whether the memory limit is kernel-enforced (no watchdog needed). */
  memoryEnforced: boolean;
  /** Kills every process left in the job's cgroups (a no-op without them). */
  killMembers(): void;
  /** Removes the job's cgroups once its processes are gone. */
  release(): Promise<void>;
}

const read = (f: string): string => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

/** /proc/self/cgroup and /proc/self/mountinfo: where this process's cgroup for `c` is mounted, v1 first. */
function ownCgroup(c: Controller): Own | null {
  const lines = read('/proc/self/cgroup').split('\n').filter(Boolean);
  const mounts = read('/proc/self/mountinfo')
    .split('\n')
    .map((l) => {
      const [pre, post] = l.split(' - ');
      const f = pre?.split(' ') ?? [];
      const [fstype, , superOpts] = post?.split(' ') ?? [];
      return { root: f[3] ?? '/', point: f[4] ?? '', fstype, opts: (superOpts ?? '').split(',') };
    });
  const inMount = (m: { root: string; point: string }, path: string) => join(m.point, path.startsWith(m.root) ? path.slice(m.root.length) : path);
  for (const l of lines) {
    const [, ctrls, path] = l.split(':') as [string, string, string];
    if (!ctrls.split(',').includes(c)) continue;
    const m = mounts.find((x) => x.fstype === 'cgroup' && x.opts.includes(c));
    if (m) return { version: 1, dir: inMount(m, path) };
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  const m2 = mounts.find((x) => x.fstype === 'cgroup2');
  if (!unified || !m2) return null;
  // The nearest group at or above the backend's own under which a child can get the controller: one that offers it
  // and either passes it down already, holds no processes itself (so it may), or is the root. A container or VM often
  // runs the backend in a leaf that cannot delegate. The rule picks one parent for cpu and memory alike, which matters
  // since a process sits in exactly one v2 group.
  for (let dir = inMount(m2, unified.slice(3)); dir.startsWith(m2.point); dir = dirname(dir)) {
    const has = (f: string) => read(join(dir, f)).split(/\s+/).includes(c);
    const top = dir === m2.point;
    if (has('cgroup.controllers') && (top || has('cgroup.subtree_control') || read(join(dir, 'cgroup.procs')).trim() === '')) return { version: 2, dir };
    if (top) break;
  }
  return null;
}

/** A child cgroup for the job under the backend's own, or why there cannot be one. */
function makeGroup(c: Controller, jobId: string): JobGroup | string {
  const own = ownCgroup(c);
  if (!own) return `no cgroup with the ${c} controller is mounted`;
  try {
    accessSync(own.dir, constants.W_OK);
  } catch {
    return `the backend's ${c} cgroup (${own.dir}) is not writable by it`;
  }
  if (own.version === 2 && !read(join(own.dir, 'cgroup.subtree_control')).split(/\s+/).includes(c)) {
    try {
      // Refused (EBUSY) when the backend's own group holds processes and is not the root: cgroup v2 keeps them in leaves.
      writeFileSync(join(own.dir, 'cgroup.subtree_control'), `+${c}`);
    } catch (err) {
      return `cgroup v2 will not delegate ${c} below ${own.dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
  }
  // Not this job's own group: under cgroup v2 its cpu and memory share one, made empty a moment ago for the cpu limit.
  sweep(own.dir, `${PREFIX}${jobId}`);
  const dir = join(own.dir, `${PREFIX}${jobId}`);
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return `cannot create ${dir}: ${(err as Error).message}`;
  }
  return { version: own.version, dir };
}

/** Empty job groups that a killed backend left behind (rmdir fails on a group that still has processes). */
function sweep(parent: string, keep: string): void {
  try {
    for (const n of readdirSync(parent)) if (n.startsWith(PREFIX) && n !== keep) rmdirQuiet(join(parent, n));
  } catch {
    // Unreadable: nothing to sweep.
  }
}

function rmdirQuiet(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

const write = (dir: string, file: string, value: string | number): void => writeFileSync(join(dir, file), String(value));
const tryWrite = (dir: string, file: string, value: string | number): void => {
  try {
    write(dir, file, value);
  } catch {
    // Swap accounting is off on this kernel: the memory limit alone still holds.
  }
};

/** Kills whatever is still in a job's cgroup: processes that left the job's process group (setsid, daemons). */
function killMembers(dir: string): void {
  for (const pid of read(join(dir, 'cgroup.procs')).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** CPUs this process may run on (sched_getaffinity, from /proc/self/status). */
export function allowedCpus(): number[] {
  const list = /Cpus_allowed_list:\s*(\S+)/.exec(read('/proc/self/status'))?.[1];
  if (!list) return [];
  return list.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

/** The program `file` resolves to, as exec would find it: refused early, since a wrapper would hide ENOENT. */
export function findCommand(file: string, cwd: string | undefined, path: string | undefined): string | null {
  const ok = (f: string) => {
    try {
      accessSync(f, constants.X_OK);
      return existsSync(f);
    } catch {
      return false;
    }
  };
  if (file.includes('/')) return ok(resolve(cwd ?? '.', file)) ? file : null;
  for (const d of (path ?? '').split(delimiter)) if (d && ok(join(isAbsolute(d) ? d : resolve(cwd ?? '.', d), file))) return file;
  return null;
}

/** CPUs pinned by running local jobs of this backend, so the next pinned job gets the least used ones. */
const pinned = new Map<number, number>();

/**
 * Puts a local job under its CPU and memory limits: a child cgroup of the backend's own (v1 cpu.cfs_quota_us /
 * memory.limit_in_bytes, or v2 cpu.max / memory.max) where the backend may write one; otherwise whole CPUs by
 * affinity (taskset) and memory by the launcher's resident-size watchdog. A limit that cannot be applied honestly
 * (a fractional CPU count without a cpu cgroup) is refused with the reason.
 */
export function applyLocalLimits(jobId: string, r: Resources, o: { cgroups: boolean }): LocalLimits {
  const applied: AppliedLimits = {};
  const groups: JobGroup[] = [];
  const prefix: string[] = [];
  let pins: number[] = [];
  const undo = () => {
    for (const g of groups) rmdirQuiet(g.dir);
  };
  const noCgroup = (c: Controller): string => {
    if (!o.cgroups) return 'cgroups are turned off (MLOPS_LOCAL_CGROUPS=off)';
    const g = makeGroup(c, jobId);
    if (typeof g === 'string') return g;
    groups.push(g);
    return '';
  };
  try {
    if (r.cpus) {
      const why = noCgroup('cpu');
      if (!why) {
        const g = groups.at(-1)!;
        const quota = Math.max(1000, Math.round(r.cpus * PERIOD_US));
        if (g.version === 1) {
          write(g.dir, 'cpu.cfs_period_us', PERIOD_US);
          write(g.dir, 'cpu.cfs_quota_us', quota);
        } else {
          write(g.dir, 'cpu.max', `${quota} ${PERIOD_US}`);
        }
        applied.cpus = { requested: r.cpus, how: `cgroup-v${g.version}`, detail: `${g.dir}: ${quota} µs of CPU time per ${PERIOD_US} µs` };
      } else {
        const allowed = allowedCpus();
        if (!Number.isInteger(r.cpus)) {
          throw new LaunchError('launch_error', `Cannot limit a local job to ${r.cpus} CPUs: a fractional limit needs a cpu cgroup, and ${why}. The local launcher can pin whole CPUs instead (--cpus ${Math.max(1, Math.round(r.cpus))}), or run the job in Docker (--image)`);
        }
        if (r.cpus > allowed.length) throw new LaunchError('launch_error', `Cannot limit a local job to ${r.cpus} CPUs: the backend may use only ${allowed.length} (${allowed.join(',')})`);
        if (!findCommand('taskset', undefined, process.env.PATH)) {
          throw new LaunchError('launch_error', `Cannot limit a local job's CPUs: ${why}, and taskset (util-linux) is not installed to pin it to ${r.cpus} CPU(s) instead`);
        }
        pins = [...allowed].sort((a, b) => (pinned.get(a) ?? 0) - (pinned.get(b) ?? 0) || a - b).slice(0, r.cpus);
        for (const c of pins) pinned.set(c, (pinned.get(c) ?? 0) + 1);
        applied.cpus = { requested: r.cpus, how: 'cpu-affinity', detail: `pinned to CPU(s) ${pins.join(',')} with taskset (${why})` };
        prefix.push('taskset', '-c', pins.join(','));
      }
    }
    let memoryEnforced = false;
    if (r.memoryBytes) {
      const why = noCgroup('memory');
      const mib = `${(r.memoryBytes / 2 ** 20).toFixed(0)} MiB`;
      if (!why) {
        const g = groups.at(-1)!;
        if (g.version === 1) {
          write(g.dir, 'memory.limit_in_bytes', r.memoryBytes);
          // Without swap accounting the job could page out instead of hitting its limit; best effort.
          tryWrite(g.dir, 'memory.memsw.limit_in_bytes', r.memoryBytes);
        } else {
          write(g.dir, 'memory.max', r.memoryBytes);
          tryWrite(g.dir, 'memory.swap.max', 0);
        }
        memoryEnforced = true;
        applied.memory = { requested: r.memoryBytes, how: `cgroup-v${g.version}`, detail: `${g.dir}: ${mib}, swap included` };
      } else {
        applied.memory = { requested: r.memoryBytes, how: 'watchdog', detail: `resident memory of the job's process group checked every 200 ms, killed over ${mib} (${why})` };
      }
    }
    const procs = [...new Set(groups.map((g) => join(g.dir, 'cgroup.procs')))];
    const memGroup = memoryEnforced ? groups.at(-1)! : null;
    return {
      applied,
      memoryEnforced,
      wrap: (command) =>
        procs.length
          ? // The shell joins the job's cgroups before exec, so the job and everything it spawns start inside them.
            ['/bin/sh', '-c', 'while [ "$1" != -- ]; do echo $$ > "$1" || { echo "mlops: cannot enter cgroup $1" >&2; exit 125; }; shift; done; shift; exec "$@"', 'mlops-limits', ...procs, '--', ...prefix, ...command]
          : [...prefix, ...command],
      oomKilled: () => {
        if (!memGroup) return false;
        const text = read(join(memGroup.dir, memGroup.version === 1 ? 'memory.oom_control' : 'memory.events'));
        return Number(/oom_kill (\d+)/.exec(text)?.[1] ?? 0) > 0;
      },
      killMembers: () => {
        for (const g of groups) killMembers(g.dir);
      },
      release: async () => {
        for (const c of pins) pinned.set(c, Math.max(0, (pinned.get(c) ?? 1) - 1));
        pins = [];
        // Killed processes leave their group a moment after their parent saw them exit.
        for (let i = 0; i < 20 && groups.length; i++) {
          for (const g of groups) killMembers(g.dir);
          for (let j = groups.length - 1; j >= 0; j--) if (rmdirQuiet(groups[j]!.dir)) groups.splice(j, 1);
          if (groups.length) await new Promise((res) => setTimeout(res, 100));
        }
      },
    };
  } catch (err) {
    undo();
    for (const c of pins) pinned.set(c, Math.max(0, (pinned.get(c) ?? 1) - 1));
    if (err instanceof LaunchError) throw err;
    throw new LaunchError('launch_error', `Cannot apply the job's resource limits: ${(err as Error).message}`);
  }
}
