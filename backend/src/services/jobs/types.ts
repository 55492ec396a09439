/** A training job: what to run, where, with which resources. Stored as JSON in jobs.spec. */
export interface JobSpec {
  /** Docker image (tag or sha256 id); absent for the local launcher. */
  image?: string;
  /** argv; for Docker, empty means the image's CMD. */
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  mounts: MountSpec[];
  resources: Resources;
  /** Milliseconds; default 24 h. */
  timeoutMs: number;
  /** Extra attempts after a failure (not after cancel, timeout or a missing GPU). */
  retries: number;
  experiment: string;
  runName?: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Data files or folders whose digests go into the reproducibility record. */
  data: string[];
  /** Where the code lives (git state is recorded from here); defaults to cwd. */
  codeDir?: string;
  /** Extra run to nest this job's run under (pipelines). */
  parentRunId?: string;
  /** Seconds `cancel` waits after SIGTERM before SIGKILL. */
  stopGraceS: number;
  /** Ray jobs: the cluster's dashboard URL (Jobs REST API), fixed at submission so a restarted backend finds it. */
  rayAddress?: string;
}

export interface MountSpec {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface Resources {
  /** Fractional CPUs (Docker NanoCpus). */
  cpus?: number;
  memoryBytes?: number;
  /** GPU count; -1 = all. */
  gpus?: number;
  /** Specific device ids (overrides the count). */
  gpuIds?: string[];
}

/** How one resource limit was applied, recorded with the job (never silently dropped). */
export interface AppliedLimit {
  requested: number;
  how: 'docker' | 'cgroup-v1' | 'cgroup-v2' | 'cpu-affinity' | 'watchdog' | 'ray';
  detail: string;
}

export interface AppliedLimits {
  cpus?: AppliedLimit;
  memory?: AppliedLimit;
}

export type JobStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled';
export type EndReason = 'exit' | 'oom' | 'timeout' | 'cancelled' | 'no_gpu' | 'lost' | 'launch_error';
export type LauncherKind = 'docker' | 'local' | 'ray';

export interface Job {
  job_id: string;
  run_id: string | null;
  launcher: LauncherKind;
  spec: JobSpec;
  status: JobStatus;
  reason: EndReason | null;
  message: string | null;
  exit_code: number | null;
  attempt: number;
  handle: string | null;
  gpus: string[] | null;
  /** What the launcher applied for the requested CPU and memory limits; null before the start or when none asked. */
  limits: AppliedLimits | null;
  log_file: string;
  pipeline_run_id: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogSink {
  write(stream: LogStream, chunk: Buffer | string): void;
}

/** How a process ended, as the launcher saw it. */
export interface ExitInfo {
  exitCode: number | null;
  oomKilled: boolean;
  /** Set when the launcher, not the program, decided the outcome (e.g. the local memory watchdog). */
  reason?: EndReason;
  message?: string;
}

/** A started process or container. */
export interface Running {
  /** Container id or pid, persisted so a restarted backend can find it again. */
  readonly handle: string;
  /** How CPU and memory limits were applied (launchers that decide this themselves). */
  readonly limits?: AppliedLimits;
  readonly done: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceS`. Resolves when the stop was requested, not when it ended. */
  stop(graceS: number): Promise<void>;
  /** Stops following output without touching the process (backend shutdown; Docker jobs keep running). */
  detach(): void;
}

export interface LaunchRequest {
  jobId: string;
  spec: JobSpec;
  /** Env with MLFLOW_* added. */
  env: Record<string, string>;
  gpuIds: string[] | null;
  labels: Record<string, string>;
  /** 1 for the first try; retries count up. */
  attempt?: number;
}

/** Thrown by a launcher when the job cannot start; `reason` tells the lifecycle how to record it. */
export class LaunchError extends Error {
  constructor(
    readonly reason: EndReason,
    message: string,
  ) {
    super(message);
  }
}

export interface Launcher {
  readonly kind: LauncherKind;
  start(req: LaunchRequest, sink: LogSink): Promise<Running>;
  /** Finds a job started before a restart; null when it is gone. Output already logged is not repeated. */
  reattach(job: Job, sink: LogSink): Promise<Running | null>;
  /** Removes whatever the job left (container). Never throws. */
  cleanup(handle: string): Promise<void>;
}
