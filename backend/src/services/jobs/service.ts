import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { newDocker } from './execa';
import type { CoreContext } from '../../context';
import { ApiError, invalid } from '../../util/errors';
import { DockerLauncher, dockerMessage } from './launchers/docker';
import { LocalLauncher } from './launchers/local';
import { RayLauncher } from './launchers/ray';
import { rayAddress } from './launchers/ray-api';
import { systemClock, type Clock } from '../../util/clock';
import { JobLogs } from './logs';
import { GpuPool, detectGpus } from './gpu';
import { JobRepo } from './repository';
import { codeState, dataDigests } from './lineage';
import { JobTokens } from './tokens';
import { maskArgv, maskEnv, maskText } from '../../util/mask';
import { createJobRun, experimentIdFor, logDataInputs, logFileIn, runArtifactDir, setLineage, setRunStatus, setRunTags } from './runs';
import type { AppliedLimits, EndReason, ExitInfo, Job, JobSpec, JobStatus, Launcher, LauncherKind, Running } from './types';
import { LaunchError } from './types';

export interface JobServiceOptions {
  /** Jobs running at once (env MLOPS_JOB_CONCURRENCY, default 2). */
  concurrency?: number;
  /** GPU device ids to hand out; default: MLOPS_GPUS or nvidia-smi. */
  gpus?: string[];
  /** Let two jobs share a GPU (default: no). */
  allowGpuSharing?: boolean;
  /** Default: from DOCKER_HOST / the local socket, like the docker CLI. */
  docker?: Docker;
  /** Where jobs send their MLflow calls; null when the backend is not listening. Each job gets a token of its own. */
  endpoint: () => { url: string } | null;
  /** Secret values the backend knows (its token, sync secrets): masked in logs and lineage, kept from local jobs' env. */
  secrets?: () => readonly string[];
  /** Paces the Ray launcher's status and log polls (default: the system clock). */
  clock?: Clock;
}

interface Outcome {
  status: Exclude<JobStatus, 'queued' | 'running'>;
  reason: EndReason;
  message: string;
  exitCode: number | null;
}

/** What the service holds for a job between admission and its end. */
interface Active {
  running?: Running;
  cancel: boolean;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
  gpus: string[];
}

/** Docker applies what it is given (its daemon refuses what it cannot do), so the record is the request. */
function dockerLimits(job: Job): AppliedLimits | null {
  const r = job.spec.resources;
  if (job.launcher !== 'docker' || (!r.cpus && !r.memoryBytes)) return null;
  const out: AppliedLimits = {};
  if (r.cpus) out.cpus = { requested: r.cpus, how: 'docker', detail: `HostConfig.NanoCpus=${Math.round(r.cpus * 1e9)}` };
  if (r.memoryBytes) out.memory = { requested: r.memoryBytes, how: 'docker', detail: `HostConfig.Memory=MemorySwap=${r.memoryBytes}` };
  return out;
}

const RUN_STATUS = { finished: 'FINISHED', failed: 'FAILED', cancelled: 'KILLED' } as const;
const RETRYABLE: ReadonlySet<EndReason> = new Set(['exit', 'oom', 'lost']);

/**
 * The training orchestrator: a persistent queue of jobs run by the Docker or the local launcher, each with its
 * own MLflow run, live logs, a timeout, retries, GPU-aware admission, and reattachment after a restart.
 */
export class JobService {
  readonly repo: JobRepo;
  readonly logs: JobLogs;
  readonly tokens: JobTokens;
  /** Set by init(). */
  docker!: Docker;
  private launchers!: Record<LauncherKind, Launcher>;
  private readonly active = new Map<string, Active>();
  private readonly waiters = new Map<string, ((j: Job) => void)[]>();
  private gpus = new GpuPool([]);
  private readonly concurrency: number;
  private closed = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly opts: JobServiceOptions,
  ) {
    this.repo = new JobRepo(ctx.db);
    this.tokens = new JobTokens(ctx.db);
    this.logs = new JobLogs((text) => maskText(text, this.secrets()));
    this.concurrency = opts.concurrency ?? (Number(process.env.MLOPS_JOB_CONCURRENCY) || 2);
  }

  /** Finds the GPUs, reattaches jobs that were running before a restart (or marks them lost), starts the queue. */
  async init(): Promise<void> {
    this.docker = this.opts.docker ?? (await newDocker());
    const homeLabel = createHash('sha256').update(this.ctx.home).digest('hex').slice(0, 16);
    this.launchers = {
      docker: new DockerLauncher(this.docker, homeLabel),
      local: new LocalLauncher(),
      ray: new RayLauncher({ clock: this.opts.clock ?? systemClock, stateDir: join(this.ctx.home, 'jobs', 'ray') }),
    };
    this.gpus = new GpuPool(this.opts.gpus ?? (await detectGpus()), this.opts.allowGpuSharing ?? false);
    for (const job of this.repo.running()) await this.reattach(job);
    this.tokens.revokeEnded();
    await this.removeOrphans();
    this.pump();
  }

  /** Validates, records the run and its reproducibility data, and queues the job. */
  async submit(launcher: LauncherKind, spec: JobSpec, o: { pipelineRunId?: string } = {}): Promise<Job> {
    if (this.closed) throw new ApiError('TEMPORARILY_UNAVAILABLE', 'The backend is shutting down');
    // A Ray job keeps the cluster it was sent to, so a restarted backend follows it there.
    if (launcher === 'ray') spec = { ...spec, rayAddress: rayAddress(spec.rayAddress) };
    const digests = await dataDigests(spec.data).catch((err: Error) => {
      throw invalid(err.message);
    });
    const code = await codeState(spec.codeDir ?? (launcher !== 'docker' ? spec.cwd : undefined));
    const jobId = randomBytes(8).toString('hex');
    const tags: Record<string, string> = { ...spec.tags, 'mlops.job_id': jobId, 'mlops.launcher': launcher };
    if (spec.image) tags['mlops.image'] = spec.image;
    if (spec.rayAddress) tags['mlops.ray.address'] = spec.rayAddress;
    if (code.commit) tags['mlflow.source.git.commit'] = code.commit;
    if (Object.keys(digests).length) tags['mlops.data_digests'] = JSON.stringify(digests);
    const run = createJobRun(this.ctx, { experiment: spec.experiment, tags, params: spec.params, ...(spec.runName ? { runName: spec.runName } : {}), ...(spec.parentRunId ? { parentRunId: spec.parentRunId } : {}) });
    logDataInputs(this.ctx, run.runId, digests);
    setLineage(this.ctx, run.runId, {
      code_commit: code.commit,
      code_dirty: code.dirty,
      code_diff_digest: code.diffDigest,
      command: JSON.stringify(maskArgv(spec.command, this.secrets())),
      environment: maskEnv(spec.env, this.secrets()),
    });
    const dir = runArtifactDir(this.ctx, run.artifactUri);
    const logFile = dir ? logFileIn(dir) : join(this.ctx.home, 'jobs', `${jobId}.log`);
    this.repo.insert({ job_id: jobId, run_id: run.runId, launcher, spec, log_file: logFile, pipeline_run_id: o.pipelineRunId ?? null, created_at: Date.now() });
    this.pump();
    return this.repo.get(jobId);
  }

  get(idOrPrefix: string): Job {
    return this.repo.find(idOrPrefix);
  }

  list(o: { status?: JobStatus; limit?: number; pipelineRunId?: string } = {}): Job[] {
    return this.repo.list(o);
  }

  /** Queued: ends at once. Running: SIGTERM, then SIGKILL after the job's grace period. Recorded in the audit log. */
  async cancel(idOrPrefix: string, who: { actor?: string; reason?: string } = {}): Promise<Job> {
    const job = this.repo.find(idOrPrefix);
    const audit = () =>
      this.ctx.audit.append({ actor: who.actor ?? this.ctx.defaultActor, action: 'job.cancel', objectType: 'job', objectId: job.job_id, before: { status: job.status }, after: { status: 'cancelled' }, reason: who.reason ?? null });
    if (job.status === 'queued' && !this.active.has(job.job_id)) {
      audit();
      this.finish(job, { status: 'cancelled', reason: 'cancelled', message: 'Cancelled while queued', exitCode: null });
      return this.repo.get(job.job_id);
    }
    const a = this.active.get(job.job_id);
    if (!a) throw new ApiError('INVALID_STATE', `Job ${job.job_id} already ended (${job.status})`);
    if (!a.cancel) audit();
    a.cancel = true;
    await a.running?.stop(job.spec.stopGraceS);
    return this.repo.get(job.job_id);
  }

  /** Resolves with the job once it has ended (finished, failed or cancelled). */
  waitFor(jobId: string): Promise<Job> {
    const job = this.repo.get(jobId);
    if (job.status !== 'queued' && job.status !== 'running') return Promise.resolve(job);
    return new Promise((done) => this.waiters.set(jobId, [...(this.waiters.get(jobId) ?? []), done]));
  }

  /** Backend shutdown: Docker and Ray jobs keep running and are reattached by the next backend; local jobs end. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [id, a] of this.active) {
      if (a.timer) clearTimeout(a.timer);
      a.running?.detach();
      const job = this.repo.get(id);
      if (job.launcher === 'local' && job.status === 'running') {
        this.finish(job, { status: 'failed', reason: 'lost', message: 'The backend stopped while the job ran; local jobs end with it', exitCode: null });
      }
    }
    this.active.clear();
    this.logs.closeAll();
  }

  /** Starts queued jobs while there is room, oldest first; a job whose GPUs are busy waits without blocking others. */
  private pump(): void {
    if (this.closed) return;
    for (const job of this.repo.queued()) {
      if (this.active.size >= this.concurrency) return;
      if (this.active.has(job.job_id) || this.repo.get(job.job_id).status !== 'queued') continue;
      const gpus = this.admitGpus(job);
      if (gpus === null) continue;
      const a: Active = { cancel: false, timedOut: false, gpus };
      this.active.set(job.job_id, a);
      this.launch(job, a).catch((err: unknown) => {
        try {
          this.finish(this.repo.get(job.job_id), { status: 'failed', reason: 'launch_error', message: `Internal error starting the job: ${String(err)}`, exitCode: null });
        } catch (again) {
          process.stderr.write(`mlops: could not record the failed start of job ${job.job_id}: ${String(again)}\n`);
        }
      });
    }
  }

  /** GPU ids for the job: [] when it asks for none, null when it must wait. A request that can never fit fails now. */
  private admitGpus(job: Job): string[] | null {
    const r = job.spec.resources;
    const want = r.gpuIds?.length ? r.gpuIds.length : (r.gpus ?? 0);
    if (!want) return [];
    // The Ray cluster schedules its own GPUs (entrypoint_num_gpus); this host's inventory says nothing about it.
    if (job.launcher === 'ray') return [];
    if (this.gpus.ids.length === 0) {
      // Unknown inventory: Docker's daemon decides (a remote host may have GPUs); locally there are none.
      if (job.launcher === 'docker') return [];
      this.finish(job, { status: 'failed', reason: 'no_gpu', message: 'No GPU available: the job asks for a GPU and this host has none (nvidia-smi found no device; set MLOPS_GPUS to declare them)', exitCode: null });
      return null;
    }
    const never = this.gpus.impossible(want, r.gpuIds);
    if (never) {
      this.finish(job, { status: 'failed', reason: 'no_gpu', message: `No GPU available: ${never}`, exitCode: null });
      return null;
    }
    return this.gpus.take(want, r.gpuIds);
  }

  private secrets(): readonly string[] {
    return this.opts.secrets?.() ?? [];
  }

  /**
   * The job's environment: its own token for its run (never the backend's), and for a local job the backend's
   * environment without the backend's secrets and MLflow credentials (the job's client must use its token).
   */
  private env(job: Job): Record<string, string> {
    const ep = this.opts.endpoint();
    const env: Record<string, string> = job.launcher === 'local' ? inheritedEnv(this.secrets()) : {};
    Object.assign(env, job.spec.env, { MLOPS_JOB_ID: job.job_id, MLFLOW_EXPERIMENT_NAME: job.spec.experiment });
    if (job.run_id) env.MLFLOW_RUN_ID = job.run_id;
    if (ep) {
      env.MLFLOW_TRACKING_URI = process.env.MLOPS_JOB_TRACKING_URI || ep.url;
      env.MLFLOW_TRACKING_TOKEN = this.tokens.issue(job.job_id, this.experimentOf(job), job.run_id);
    }
    return env;
  }

  private experimentOf(job: Job): string {
    try {
      if (job.run_id) return this.ctx.tracking.runs.get(job.run_id).info.experiment_id;
    } catch {
      // The run was deleted: the token still names the job's experiment.
    }
    return experimentIdFor(this.ctx, job.spec.experiment);
  }

  private async launch(job: Job, a: Active): Promise<void> {
    const attempt = job.attempt + 1;
    const started = Date.now();
    this.repo.update(job.job_id, { status: 'running', attempt, started_at: started, gpus: a.gpus.length ? a.gpus : null, reason: null, message: null });
    if (job.run_id) setRunStatus(this.ctx, job.run_id, 'RUNNING', false);
    const sink = this.logs.sink(job.job_id, job.log_file);
    if (attempt > 1) this.logs.system(job.job_id, job.log_file, `attempt ${attempt} of ${job.spec.retries + 1}`);
    const launcher = this.launchers[job.launcher];
    let running: Running;
    try {
      if (job.launcher === 'docker') await this.recordImage(job);
      running = await launcher.start({ jobId: job.job_id, spec: job.spec, env: this.env(job), gpuIds: a.gpus.length ? a.gpus : null, labels: { 'mlops.run': job.run_id ?? '' }, attempt }, sink);
    } catch (err) {
      const e = err instanceof LaunchError ? err : new LaunchError('launch_error', String((err as Error).message ?? err));
      this.finish(this.repo.get(job.job_id), { status: 'failed', reason: e.reason, message: e.message, exitCode: null });
      return;
    }
    this.repo.update(job.job_id, { handle: running.handle, limits: running.limits ?? dockerLimits(job) });
    this.follow(this.repo.get(job.job_id), a, running, started);
    if (a.cancel) await running.stop(job.spec.stopGraceS);
  }

  private follow(job: Job, a: Active, running: Running, started: number): void {
    a.running = running;
    const left = Math.max(0, job.spec.timeoutMs - (Date.now() - started));
    a.timer = setTimeout(() => {
      a.timedOut = true;
      this.logs.system(job.job_id, job.log_file, `timed out after ${job.spec.timeoutMs / 1000}s; stopping`);
      running.stop(job.spec.stopGraceS).catch(() => undefined);
    }, Math.min(left, 2 ** 31 - 1));
    running.done
      .then(
        async (exit) => {
          if (this.closed || this.active.get(job.job_id) !== a) return;
          // Remove the container before the job reads as ended: whoever sees the end sees nothing left behind.
          await this.launchers[job.launcher].cleanup(running.handle);
          if (this.closed || this.active.get(job.job_id) !== a) return;
          this.finish(this.repo.get(job.job_id), this.outcome(job, a, exit));
        },
        (err: unknown) => {
          if (this.closed) return;
          this.finish(this.repo.get(job.job_id), { status: 'failed', reason: 'lost', message: `Lost track of the job: ${dockerMessage(err)}`, exitCode: null });
        },
      )
      .catch((err: unknown) => {
        // Recording the end failed (the store's disk is full?): the next backend start finds the job and settles it.
        process.stderr.write(`mlops: could not record the end of job ${job.job_id}: ${String(err)}\n`);
      });
  }

  private outcome(job: Job, a: Active, exit: ExitInfo): Outcome {
    const code = exit.exitCode;
    if (a.cancel) return { status: 'cancelled', reason: 'cancelled', message: `Cancelled (exit code ${code})`, exitCode: code };
    if (a.timedOut) return { status: 'failed', reason: 'timeout', message: `Timed out after ${job.spec.timeoutMs / 1000}s`, exitCode: code };
    // Stopped by someone else (a Ray job stopped on its cluster): cancelled, but not by us.
    if (exit.reason === 'cancelled') return { status: 'cancelled', reason: 'cancelled', message: exit.message ?? 'Cancelled', exitCode: code };
    if (exit.oomKilled) {
      const limit = job.spec.resources.memoryBytes;
      return { status: 'failed', reason: 'oom', message: exit.message ?? `Out of memory: killed at its ${limit ? `${(limit / 2 ** 20).toFixed(0)} MiB ` : ''}memory limit`, exitCode: code };
    }
    if (code === 0) return { status: 'finished', reason: 'exit', message: 'Exited with code 0', exitCode: 0 };
    const hint = code === 127 ? ` (command not found: '${job.spec.command[0] ?? 'CMD'}')` : code === 126 ? ` (not executable: '${job.spec.command[0] ?? 'CMD'}')` : '';
    return { status: 'failed', reason: exit.reason ?? 'exit', message: exit.message ?? `Exited with code ${code}${hint}`, exitCode: code };
  }

  private finish(job: Job, o: Outcome): void {
    // The attempt is over: its token dies now (a retry gets a new one).
    this.tokens.revokeJob(job.job_id);
    const a = this.active.get(job.job_id);
    if (a?.timer) clearTimeout(a.timer);
    if (a) this.gpus.give(a.gpus);
    this.active.delete(job.job_id);
    if (job.handle) void this.launchers[job.launcher].cleanup(job.handle);
    const retry = o.status === 'failed' && RETRYABLE.has(o.reason) && !a?.cancel && job.attempt <= job.spec.retries && job.attempt > 0;
    if (retry && !this.closed) {
      this.logs.system(job.job_id, job.log_file, `attempt ${job.attempt} failed (${o.message}); retrying`);
      this.repo.update(job.job_id, { status: 'queued', reason: o.reason, message: o.message, exit_code: o.exitCode, handle: null, gpus: null });
      this.pump();
      return;
    }
    this.repo.update(job.job_id, { status: o.status, reason: o.reason, message: o.message, exit_code: o.exitCode, ended_at: Date.now() });
    if (job.run_id) {
      try {
        setRunTags(this.ctx, job.run_id, { 'mlops.job.status': o.status, 'mlops.job.reason': o.reason, 'mlops.job.exit_code': String(o.exitCode ?? '') });
        setRunStatus(this.ctx, job.run_id, RUN_STATUS[o.status], true);
      } catch {
        // The run was deleted meanwhile; the job record still tells the story.
      }
    }
    this.logs.system(job.job_id, job.log_file, `${o.status}: ${o.message}`);
    this.logs.end(job.job_id, { type: 'end', status: o.status, reason: o.reason, exit_code: o.exitCode });
    const done = this.repo.get(job.job_id);
    for (const w of this.waiters.get(job.job_id) ?? []) w(done);
    this.waiters.delete(job.job_id);
    this.pump();
  }

  private async recordImage(job: Job): Promise<void> {
    const img = await this.docker
      .getImage(job.spec.image!)
      .inspect()
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode === 404) throw new LaunchError('launch_error', `Image '${job.spec.image}' does not exist on the Docker host; build it (mlops train --build DIR) or pull it`);
        throw new LaunchError('launch_error', `Cannot reach the Docker daemon: ${dockerMessage(err)}; is dockerd running, or is DOCKER_HOST set right?`);
      });
    if (job.run_id) {
      setLineage(this.ctx, job.run_id, { image_digest: img.RepoDigests?.[0] ?? img.Id });
      setRunTags(this.ctx, job.run_id, { 'mlops.image_id': img.Id });
    }
  }

  private async reattach(job: Job): Promise<void> {
    const launcher = this.launchers[job.launcher];
    const sink = this.logs.sink(job.job_id, job.log_file);
    let running: Running | null = null;
    let why = { local: 'local jobs end with the backend', docker: 'its container is gone', ray: 'the Ray cluster no longer knows the job' }[job.launcher];
    try {
      running = await launcher.reattach(job, sink);
    } catch (err) {
      why = `${job.launcher === 'ray' ? 'Ray' : 'Docker'} did not answer: ${dockerMessage(err)}`;
    }
    if (!running) {
      const a: Active = { cancel: false, timedOut: false, gpus: [] };
      this.active.set(job.job_id, a);
      this.finish(job, { status: 'failed', reason: 'lost', message: `Lost after a backend restart: ${why}`, exitCode: null });
      return;
    }
    this.logs.system(job.job_id, job.log_file, 'backend restarted; reattached to the running job');
    const gpus = job.gpus ?? [];
    if (gpus.length) this.gpus.take(gpus.length, gpus);
    const a: Active = { cancel: false, timedOut: false, gpus };
    this.active.set(job.job_id, a);
    this.follow(job, a, running, job.started_at ?? Date.now());
  }

  /** Containers labelled for this home whose job is not running (a crash between start and record): removed. */
  private async removeOrphans(): Promise<void> {
    const docker = this.launchers.docker as DockerLauncher;
    const own = await docker.ownContainers().catch(() => []);
    for (const c of own) {
      if (this.active.has(c.jobId)) continue;
      await docker.cleanup(c.id);
    }
  }
}

/** The backend's environment as a local job inherits it: no backend token, no known secret, no MLflow credentials. */
function inheritedEnv(secrets: readonly string[]): Record<string, string> {
  const known = new Set(secrets);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || known.has(v) || k === 'MLOPS_TOKEN' || k.startsWith('MLFLOW_TRACKING_')) continue;
    out[k] = v;
  }
  return out;
}
