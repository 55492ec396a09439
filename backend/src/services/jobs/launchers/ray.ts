import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../../util/clock';
import type { AppliedLimits, ExitInfo, Job, Launcher, LaunchRequest, LogSink, Running } from '../types';
import { LaunchError } from '../types';
import { RAY_TERMINAL, RayClient, rayAddress, shellQuote, type RayJobInfo } from './ray-api';

/** Status and log polls of a running Ray job. */
const POLL_MS = 1000;
/** Polls in a row that may fail (the dashboard restarting, a slow answer) before the job counts as lost. */
const MAX_FAILED_POLLS = 30;

export interface RayLauncherOptions {
  clock: Clock;
  /** Where the launcher keeps how much of each job's Ray log it has copied (so a reattach repeats none). */
  stateDir: string;
  pollMs?: number;
}

/** Ray's submission id: our job id, with the attempt after the first (Ray refuses a submission id twice). */
export const submissionId = (jobId: string, attempt = 1): string => (attempt > 1 ? `${jobId}-${attempt}` : jobId);

/** What Ray reserves for the entrypoint: scheduling resources, not hard limits (recorded so). */
function rayLimits(req: LaunchRequest): AppliedLimits | undefined {
  const r = req.spec.resources;
  const out: AppliedLimits = {};
  if (r.cpus) out.cpus = { requested: r.cpus, how: 'ray', detail: `entrypoint_num_cpus=${r.cpus} (reserved on the Ray cluster for scheduling, not a hard limit)` };
  if (r.memoryBytes) out.memory = { requested: r.memoryBytes, how: 'ray', detail: `entrypoint_memory=${r.memoryBytes} (reserved on the Ray cluster for scheduling, not a hard limit)` };
  return out.cpus || out.memory ? out : undefined;
}

/** A signal's negative return code (Python's Popen) as a shell would show it: 128 + signal. */
const shellCode = (code: number): number => (code < 0 ? 128 - code : code);

/** How a job Ray reports ended maps onto our lifecycle (the service adds our own cancel and timeout). */
export function rayExit(info: RayJobInfo): ExitInfo {
  const first = (info.message ?? '').split(/, last available logs|\n/)[0]!.trim();
  const driver = typeof info.driver_exit_code === 'number' ? shellCode(info.driver_exit_code) : null;
  if (info.status === 'SUCCEEDED') return { exitCode: driver ?? 0, oomKilled: false };
  if (info.status === 'STOPPED') return { exitCode: driver, oomKilled: false, reason: 'cancelled', message: `Stopped on the Ray cluster${first ? `: ${first}` : ''}` };
  const fromMessage = /exit code (-?\d+)/.exec(first);
  const code = driver ?? (fromMessage ? shellCode(Number(fromMessage[1])) : null);
  const what = `Ray job FAILED${info.error_type ? ` (${info.error_type})` : ''}${first ? `: ${first}` : ''}`;
  return { exitCode: code, oomKilled: false, ...(code === null ? { reason: 'launch_error' } : {}), message: what };
}

/**
 * Runs jobs on a Ray cluster through its Jobs REST API: the job's folder is uploaded as the working_dir, the
 * argv becomes a shell-quoted entrypoint, the env (MLFLOW_* included) goes in runtime_env.env_vars, CPUs, GPUs
 * and memory become entrypoint resources. Status and log are polled; like Docker jobs, Ray jobs outlive the
 * backend and are followed again after a restart.
 */
export class RayLauncher implements Launcher {
  readonly kind = 'ray' as const;
  private readonly pollMs: number;

  constructor(private readonly o: RayLauncherOptions) {
    this.pollMs = o.pollMs ?? (Number(process.env.MLOPS_RAY_POLL_MS) || POLL_MS);
  }

  async start(req: LaunchRequest, sink: LogSink): Promise<Running> {
    const { spec } = req;
    const client = new RayClient(spec.rayAddress ?? rayAddress());
    if (spec.cwd && !(existsSync(spec.cwd) && statSync(spec.cwd).isDirectory())) {
      throw new LaunchError('launch_error', `Cannot start the job: its working folder '${spec.cwd}' does not exist`);
    }
    const r = spec.resources;
    const id = submissionId(req.jobId, req.attempt);
    try {
      const workingDir = spec.cwd ? await client.uploadDir(spec.cwd) : undefined;
      await client.submit({
        submission_id: id,
        entrypoint: shellQuote(spec.command),
        runtime_env: { ...(workingDir ? { working_dir: workingDir } : {}), env_vars: req.env },
        metadata: { 'mlops.job_id': req.jobId, ...req.labels },
        ...(r.cpus ? { entrypoint_num_cpus: r.cpus } : {}),
        ...(r.gpus ? { entrypoint_num_gpus: r.gpus } : {}),
        ...(r.memoryBytes ? { entrypoint_memory: r.memoryBytes } : {}),
      });
    } catch (err) {
      throw new LaunchError('launch_error', `Cannot start the job on Ray: ${(err as Error).message}`);
    }
    sink.write('system', `[mlops] submitted to the Ray cluster at ${client.address} as ${id}\n`);
    return this.follow(client, id, sink, 0, rayLimits(req));
  }

  async reattach(job: Job, sink: LogSink): Promise<Running | null> {
    const client = new RayClient(job.spec.rayAddress ?? rayAddress());
    const id = job.handle ?? submissionId(job.job_id, job.attempt);
    if (!(await client.info(id))) return null;
    return this.follow(client, id, sink, this.copied(id));
  }

  async cleanup(handle: string): Promise<void> {
    // Ray keeps the job's record and log (as for any job submitted to it); only our bookkeeping goes.
    rmSync(this.offsetFile(handle), { force: true });
  }

  private follow(client: RayClient, id: string, sink: LogSink, from: number, limits?: AppliedLimits): Running {
    let seen = from;
    let detached = false;
    let cancelTimer: (() => void) | undefined;
    let failures = 0;
    let last = '';
    const copyLogs = async (): Promise<void> => {
      const text = await client.logs(id);
      if (text.length <= seen) return;
      sink.write('stdout', text.slice(seen));
      seen = text.length;
      this.remember(id, seen);
    };
    const done = new Promise<ExitInfo>((resolve, reject) => {
      const tick = async (): Promise<void> => {
        if (detached) return;
        try {
          const info = await client.info(id);
          if (!info) return reject(new Error(`the Ray cluster at ${client.address} no longer knows job ${id}`));
          await copyLogs();
          failures = 0;
          if (info.status !== last && info.status === 'PENDING') sink.write('system', '[mlops] Ray: the job is pending (runtime env setup, or waiting for the CPUs/GPUs it asks for)\n');
          last = info.status;
          if (RAY_TERMINAL.has(info.status)) return resolve(rayExit(info));
        } catch (err) {
          if (++failures >= MAX_FAILED_POLLS) return reject(new Error(`Ray stopped answering: ${(err as Error).message}`));
        }
        if (!detached) cancelTimer = this.o.clock.setTimer(() => void tick(), this.pollMs);
      };
      void tick();
    });
    return {
      handle: id,
      ...(limits ? { limits } : {}),
      done,
      stop: async () => {
        await client.stop(id).catch((err: unknown) => {
          throw new Error(`Could not stop the Ray job ${id}: ${(err as Error).message}`);
        });
      },
      detach: () => {
        detached = true;
        cancelTimer?.();
      },
    };
  }

  private offsetFile(id: string): string {
    return join(this.o.stateDir, `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.log-offset`);
  }

  private copied(id: string): number {
    try {
      return Number(readFileSync(this.offsetFile(id), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  private remember(id: string, n: number): void {
    try {
      mkdirSync(this.o.stateDir, { recursive: true });
      writeFileSync(this.offsetFile(id), String(n));
    } catch {
      // Not kept: a reattach after a restart would copy some lines again, nothing worse.
    }
  }
}
