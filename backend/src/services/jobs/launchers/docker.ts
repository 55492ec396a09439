import { statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { Job, Launcher, LaunchRequest, LogSink, Running, ExitInfo } from '../types';
import { LaunchError } from '../types';

export const JOB_LABEL = 'mlops.job';
export const HOME_LABEL = 'mlops.home';

interface DockerError {
  statusCode?: number;
  json?: { message?: string };
  message?: string;
  code?: string;
}

export const dockerMessage = (err: unknown): string => {
  const e = err as DockerError;
  return (e.json?.message ?? e.message ?? String(err)).trim();
};

/** A friendly sentence for the errors users actually hit: no daemon, no image, no GPU runtime, bad mount. */
export function launchErrorOf(err: unknown, image: string | undefined): LaunchError {
  const e = err as DockerError;
  const msg = dockerMessage(err);
  if (/could not select device driver "nvidia"|nvidia-container-cli|unknown or invalid runtime name: nvidia/i.test(msg)) {
    return new LaunchError('no_gpu', `No GPU available: the Docker host has no NVIDIA runtime or device (${msg})`);
  }
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES') {
    return new LaunchError('launch_error', `Cannot reach the Docker daemon (${e.code}); is dockerd running, or is DOCKER_HOST set right?`);
  }
  if (e.statusCode === 404 && /no such image/i.test(msg)) {
    return new LaunchError('launch_error', `Image '${image}' does not exist on the Docker host; build it (mlops train --build DIR) or pull it`);
  }
  if (/bind source path does not exist|invalid mount config/i.test(msg)) {
    return new LaunchError('launch_error', `A mount's source folder does not exist: ${msg}`);
  }
  if (/no space left on device/i.test(msg)) return new LaunchError('launch_error', `The Docker host's disk is full: ${msg}`);
  return new LaunchError('launch_error', `Docker refused the job: ${msg}`);
}

function pipeLogs(docker: Docker, stream: NodeJS.ReadableStream, sink: LogSink): Promise<void> {
  const out = new PassThrough();
  const err = new PassThrough();
  out.on('data', (c: Buffer) => sink.write('stdout', c));
  err.on('data', (c: Buffer) => sink.write('stderr', c));
  docker.modem.demuxStream(stream, out, err);
  return new Promise((done) => {
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', () => done());
  });
}

/** Waits for the log stream to drain after exit, but never longer than `ms` (a stuck stream must not hang a job). */
const settle = (p: Promise<void>, ms: number): Promise<void> => Promise.race([p, new Promise<void>((r) => setTimeout(r, ms).unref())]);

/** Runs jobs as containers: host networking (the only network here is loopback), docker-init as PID 1. */
export class DockerLauncher implements Launcher {
  readonly kind = 'docker' as const;

  constructor(
    readonly docker: Docker,
    private readonly homeLabel: string,
  ) {}

  async start(req: LaunchRequest, sink: LogSink): Promise<Running> {
    const { spec } = req;
    const r = spec.resources;
    const gpuRequest = req.gpuIds?.length || r.gpus || r.gpuIds?.length;
    const hostConfig: Docker.HostConfig = {
      NetworkMode: 'host',
      // docker-init forwards SIGTERM: a Python PID 1 without a handler would otherwise ignore `stop`.
      Init: true,
      Mounts: spec.mounts.map((m) => ({ Type: 'bind' as const, Source: m.source, Target: m.target, ReadOnly: m.readOnly })),
    };
    if (r.cpus) hostConfig.NanoCpus = Math.round(r.cpus * 1e9);
    if (r.memoryBytes) {
      hostConfig.Memory = r.memoryBytes;
      hostConfig.MemorySwap = r.memoryBytes;
    }
    if (gpuRequest) {
      const ids = req.gpuIds?.length ? req.gpuIds : r.gpuIds;
      hostConfig.DeviceRequests = [
        ids?.length ? { Driver: 'nvidia', DeviceIDs: ids, Capabilities: [['gpu']] } : { Driver: 'nvidia', Count: r.gpus ?? -1, Capabilities: [['gpu']] },
      ];
    }
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        Image: spec.image,
        ...(spec.command.length ? { Cmd: spec.command } : {}),
        Env: Object.entries(req.env).map(([k, v]) => `${k}=${v}`),
        ...(spec.cwd ? { WorkingDir: spec.cwd } : {}),
        Labels: { ...req.labels, [JOB_LABEL]: req.jobId, [HOME_LABEL]: this.homeLabel },
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        HostConfig: hostConfig,
      });
    } catch (err) {
      throw launchErrorOf(err, spec.image);
    }
    try {
      // Attach before start and wait for the next exit (a plain wait returns at once on a created container).
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const drained = pipeLogs(this.docker, stream, sink);
      const abort = new AbortController();
      const exited = container.wait({ condition: 'next-exit', abortSignal: abort.signal } as Docker.ContainerWaitOptions) as Promise<{ StatusCode: number }>;
      await container.start();
      return this.running(container, exited, drained, abort, stream);
    } catch (err) {
      await this.cleanup(container.id);
      throw launchErrorOf(err, spec.image);
    }
  }

  private running(container: Docker.Container, exited: Promise<{ StatusCode: number }>, drained: Promise<void>, abort: AbortController, stream?: NodeJS.ReadableStream): Running {
    const done = exited.then(async (w): Promise<ExitInfo> => {
      await settle(drained, 2000);
      const info = await container.inspect().catch(() => null);
      return { exitCode: w.StatusCode ?? info?.State.ExitCode ?? null, oomKilled: info?.State.OOMKilled ?? false };
    });
    return {
      handle: container.id,
      done,
      stop: async (graceS) => {
        await container.stop({ t: Math.round(graceS) }).catch((err: DockerError) => {
          if (err.statusCode !== 304 && err.statusCode !== 404) throw err;
        });
      },
      detach: () => {
        // The wait is a long-poll on the daemon: left open it would keep a stopping backend alive until the job ends.
        abort.abort();
        (stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined)?.destroy?.();
      },
    };
  }

  async reattach(job: Job, sink: LogSink): Promise<Running | null> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [`${JOB_LABEL}=${job.job_id}`] } });
    const c = found[0];
    if (!c) return null;
    const container = this.docker.getContainer(c.Id);
    // Output written before the restart is already in the log file; ask Docker only for what came after.
    const since = logMtime(job.log_file);
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true, since })) as NodeJS.ReadableStream;
    const drained = pipeLogs(this.docker, stream, sink);
    const abort = new AbortController();
    const exited = container.wait({ abortSignal: abort.signal } as Docker.ContainerWaitOptions) as Promise<{ StatusCode: number }>;
    return this.running(container, exited, drained, abort, stream);
  }

  async cleanup(handle: string): Promise<void> {
    await this.docker
      .getContainer(handle)
      .remove({ force: true })
      .catch(() => undefined);
  }

  /** Containers this backend started, running or not: what a restart reattaches or cleans up. */
  async ownContainers(): Promise<{ id: string; jobId: string; state: string }[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [`${HOME_LABEL}=${this.homeLabel}`] } });
    return list.map((c) => ({ id: c.Id, jobId: c.Labels[JOB_LABEL] ?? '', state: c.State }));
  }
}

function logMtime(file: string): number {
  try {
    return Math.floor(statSync(file).mtimeMs / 1000);
  } catch {
    return 0;
  }
}
