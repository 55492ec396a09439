import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadExeca } from '../execa';
import type { ExitInfo, Job, Launcher, LaunchRequest, LogSink, Running } from '../types';
import { LaunchError } from '../types';
import { applyLocalLimits, findCommand } from './limits';

const PAGE = 4096;
const WATCH_MS = 200;

/** Field 22 of /proc/PID/stat: start time in clock ticks, to tell a live job from a reused pid. */
function startTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Resident memory of every process in the job's process group (the job and all it spawned). */
function groupRss(pgid: number): number {
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ');
      if (f && Number(f[2]) === pgid) total += Number(f[21]) * PAGE;
    } catch {
      // The process ended between readdir and read.
    }
  }
  return total;
}

const killGroup = (pgid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
};

/**
 * Runs jobs as child processes of the backend, each in its own process group so cancel reaches everything it
 * spawned. CPU and memory limits go into a child cgroup where the backend may make one, else whole CPUs by affinity
 * and memory by a watchdog on the group's resident size (see limits.ts). Local jobs end with the backend: a
 * restart marks them lost.
 */
export class LocalLauncher implements Launcher {
  readonly kind = 'local' as const;

  async start(req: LaunchRequest, sink: LogSink): Promise<Running> {
    const { spec } = req;
    const env = { ...req.env };
    if (req.gpuIds) env.CUDA_VISIBLE_DEVICES = req.gpuIds.join(',');
    if (spec.cwd && !existsSync(spec.cwd)) throw new LaunchError('launch_error', `Cannot start the job: its working folder '${spec.cwd}' does not exist`);
    const limited = spec.resources.cpus !== undefined || spec.resources.memoryBytes !== undefined;
    if (limited && !findCommand(spec.command[0]!, spec.cwd, env.PATH ?? process.env.PATH)) {
      throw new LaunchError('launch_error', `Cannot start the job: command not found: '${spec.command[0]}'${spec.cwd ? ` (in ${spec.cwd})` : ''}`);
    }
    const limits = applyLocalLimits(req.jobId, spec.resources, { cgroups: process.env.MLOPS_LOCAL_CGROUPS !== 'off' });
    const [file, ...args] = limits.wrap(spec.command);
    const { execa } = await loadExeca();
    const child = execa(file!, args, {
      cwd: spec.cwd,
      env,
      // The service hands over the whole environment (the backend's, minus its secrets).
      extendEnv: false,
      detached: true,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      cleanup: false,
    });
    child.stdout?.on('data', (c: Buffer) => sink.write('stdout', c));
    child.stderr?.on('data', (c: Buffer) => sink.write('stderr', c));
    if (child.pid === undefined) {
      const r = await child;
      await limits.release();
      const code = (r as { code?: string }).code;
      const why = code === 'ENOENT' ? `command not found: '${file}'` : code === 'EACCES' ? `'${file}' is not executable` : r.message;
      throw new LaunchError('launch_error', `Cannot start the job: ${why}${spec.cwd ? ` (in ${spec.cwd})` : ''}`);
    }
    const pid = child.pid;
    // The job ends when its main process does, as a container ends with its PID 1: what it left running goes too,
    // and output still held open by something that escaped both group and cgroup is read for 2 s more at most.
    child.once('exit', () => {
      killGroup(pid, 'SIGKILL');
      limits.killMembers();
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 2000).unref();
    });
    let oom: string | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const limit = spec.resources.memoryBytes;
    const watchdog =
      limit && !limits.memoryEnforced
        ? setInterval(() => {
          const rss = groupRss(pid);
          if (rss > limit && !oom) {
            oom = `Out of memory: the job used ${(rss / 2 ** 20).toFixed(0)} MiB, over its ${(limit / 2 ** 20).toFixed(0)} MiB limit; the local launcher killed it`;
            killGroup(pid, 'SIGKILL');
          }
        }, WATCH_MS)
      : undefined;
    const done = child.then(async (r): Promise<ExitInfo> => {
      if (watchdog) clearInterval(watchdog);
      if (killTimer) clearTimeout(killTimer);
      // Anything the job left behind in its group goes with it.
      killGroup(pid, 'SIGKILL');
      if (!oom && limits.oomKilled()) oom = `Out of memory: the kernel killed the job at its ${((limit ?? 0) / 2 ** 20).toFixed(0)} MiB cgroup memory limit`;
      await limits.release();
      const signal = r.signal ? (({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 }) as Record<string, number>)[r.signal] : undefined;
      const exitCode = r.exitCode ?? (signal ? 128 + signal : null);
      return oom ? { exitCode, oomKilled: true, reason: 'oom', message: oom } : { exitCode, oomKilled: false };
    });
    return {
      handle: `${pid}:${startTicks(pid) ?? ''}`,
      limits: limits.applied,
      done,
      stop: async (graceS) => {
        killGroup(pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceS * 1000);
        killTimer.unref();
      },
      detach: () => {
        killGroup(pid, 'SIGKILL');
      },
    };
  }

  /** Its pipes died with the old backend, so a local job cannot be followed again: end what is left of it. */
  async reattach(job: Job): Promise<Running | null> {
    await this.cleanup(job.handle ?? '');
    return null;
  }

  async cleanup(handle: string): Promise<void> {
    const [pidText, ticks] = handle.split(':');
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 1) return;
    if (ticks && startTicks(pid) === ticks) killGroup(pid, 'SIGKILL');
  }
}
