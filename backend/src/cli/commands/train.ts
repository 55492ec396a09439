import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CliError } from '../output';
import { connectBackend, followJobLogs, type BackendClient } from '../../services/jobs/client';
import { buildImage } from '../../services/jobs/images';
import { newDocker } from '../../services/jobs/execa';
import type { Job } from '../../services/jobs/types';
import type { ReproducePlan } from '../../services/jobs/reproduce';
import { addApplyOptions, printTrainJob, type ApplyCliOptions } from './k8s';

interface TrainOptions extends ApplyCliOptions {
  image?: string;
  build?: string;
  buildArg: string[];
  local?: boolean;
  ray?: boolean;
  address?: string;
  gpus?: string;
  cpus?: string;
  memory?: string;
  experiment?: string;
  name?: string;
  param: string[];
  env: string[];
  mount: string[];
  data: string[];
  timeout?: string;
  retries?: string;
  detach?: boolean;
  json?: boolean;
  k8sManifest?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new CliError(`${flag} expects KEY=VALUE, got '${kv}'`, 2);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

function mounts(list: string[]): { source: string; target: string; read_only: boolean }[] {
  return list.map((m) => {
    const [source, target, mode] = m.split(':');
    if (!source || !target || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw new CliError(`--mount expects SRC:DEST[:ro], got '${m}'`, 2);
    return { source: resolve(source), target, read_only: mode === 'ro' };
  });
}

const number = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${flag} expects a number, got '${v}'`, 2);
  return n;
};

function cpuCount(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--cpus expects a positive number of CPUs such as 2 or 0.5, got '${v}'`, 2);
  return n;
}

/** Streams the job's output to this terminal and returns the exit code `mlops train` ends with. */
export async function attach(c: BackendClient, job: Job): Promise<number> {
  const onInt = () => {
    process.stderr.write(`\nmlops: cancelling job ${job.job_id}...\n`);
    c.call('POST', `/api/v1/jobs/${job.job_id}/cancel`).catch(() => undefined);
  };
  process.once('SIGINT', onInt);
  try {
    const end = await followJobLogs(c, job.job_id, (chunk) => (chunk.stream === 'stdout' || chunk.stream === 'backlog' ? process.stdout : process.stderr).write(chunk.text));
    const done = await c.call<Job>('GET', `/api/v1/jobs/${job.job_id}`);
    if (end.status !== 'finished') process.stderr.write(`mlops: job ${job.job_id} ${done.status} (${done.reason}): ${done.message}\n`);
    process.stderr.write(`mlops: run ${done.run_id} in experiment '${done.spec.experiment}'\n`);
    if (done.status === 'finished') return 0;
    return done.exit_code && done.exit_code > 0 ? done.exit_code : 1;
  } finally {
    process.off('SIGINT', onInt);
  }
}

export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .description('run a training command as a job (Docker image, image built from a Dockerfile, or local process) with its own MLflow run')
    .argument('[command...]', 'the command, after --')
    .option('--image <image>', 'run in this Docker image')
    .option('--build <dir>', 'build the Dockerfile in DIR and run in that image')
    .option('--build-arg <k=v>', 'a build argument for --build (repeatable)', collect, [])
    .option('--local', 'run as a local process (the default without --image/--build)')
    .option('--ray', "run on a Ray cluster through its Jobs API (this folder is uploaded as the job's working_dir)")
    .option('--address <url>', 'with --ray: the Ray dashboard (default: env MLOPS_RAY_ADDRESS, else http://127.0.0.1:8265)')
    .option('--gpus <n>', "GPUs: a count or 'all'")
    .option('--cpus <n>', 'CPU limit, e.g. 2 or 0.5 (local jobs: a cgroup, else whole CPUs pinned; recorded with the job)')
    .option('--memory <size>', 'memory limit, e.g. 4g')
    .option('--experiment <name>', 'MLflow experiment (default: Default)')
    .option('--name <run>', 'run name')
    .option('--param <k=v>', 'a run parameter (repeatable)', collect, [])
    .option('--env <k=v>', 'an environment variable (repeatable)', collect, [])
    .option('--mount <src:dst[:ro]>', 'bind-mount a folder into the container (repeatable)', collect, [])
    .option('--data <path>', 'a data file or folder whose digest is recorded (repeatable)', collect, [])
    .option('--timeout <duration>', 'stop after this long (default 24h)')
    .option('--retries <n>', 'attempts after a failure')
    .option('-d, --detach', 'queue the job and return its id')
    .option('--json', 'print the job as JSON (with --detach)')
    .option('--k8s-manifest', 'print a Kubernetes batch Job for this training (needs --image) instead of running it')
    .option('--namespace <ns>', 'with --k8s-manifest: metadata.namespace')
    .option('-o, --output <file>', 'with --k8s-manifest: write the Job here instead of stdout');
  addApplyOptions(train)
    .action(async (command: string[], o: TrainOptions) => {
      if (o.k8sManifest) return k8sJob(command, o);
      if (o.apply || o.server || o.dryRun) throw new CliError('--apply, --server and --dry-run go with --k8s-manifest', 2);
      const modes = [o.image, o.build, o.local, o.ray].filter(Boolean).length;
      if (modes > 1) throw new CliError('use only one of --image, --build, --local and --ray', 2);
      if (o.address && !o.ray) throw new CliError('--address is the Ray dashboard: use it with --ray', 2);
      if (o.ray && command.length === 0) throw new CliError('nothing to run: give a command after --, e.g. mlops train --ray -- python train.py', 2);
      if (!o.image && !o.build && command.length === 0) throw new CliError('nothing to run: give a command after --, e.g. mlops train -- python train.py', 2);
      const home = program.opts<{ home: string }>().home;
      let image = o.image;
      const tags: Record<string, string> = {};
      if (o.build) {
        const built = await buildImage(await newDocker(), o.build, { buildArgs: keyValues(o.buildArg, '--build-arg'), onOutput: (l) => process.stderr.write(l) }).catch((err: Error) => {
          throw new CliError(err.message);
        });
        image = built.tag;
        tags['mlops.build.dir'] = resolve(o.build);
        tags['mlops.build.context_digest'] = built.contextDigest;
        process.stderr.write(`mlops: built ${built.tag} (${built.id.slice(0, 19)})\n`);
      }
      const gpus = o.gpus === undefined ? undefined : o.gpus === 'all' ? 'all' : number(o.gpus, '--gpus');
      const body = {
        launcher: image ? 'docker' : o.ray ? 'ray' : 'local',
        ...(o.address ? { ray_address: o.address } : {}),
        ...(image ? { image } : {}),
        command,
        env: keyValues(o.env, '--env'),
        mounts: mounts(o.mount),
        ...(o.cpus !== undefined ? { cpus: cpuCount(o.cpus) } : {}),
        ...(o.memory ? { memory: o.memory } : {}),
        ...(gpus !== undefined ? { gpus } : {}),
        ...(o.timeout ? { timeout: o.timeout } : {}),
        ...(o.retries ? { retries: number(o.retries, '--retries') } : {}),
        ...(o.experiment ? { experiment: o.experiment } : {}),
        ...(o.name ? { run_name: o.name } : {}),
        params: keyValues(o.param, '--param'),
        tags,
        data: o.data,
        base_dir: process.cwd(),
        code_dir: o.build ? resolve(o.build) : process.cwd(),
      };
      const c = await connectBackend(home);
      try {
        const job = await c.call<Job>('POST', '/api/v1/jobs', body).catch((err: Error) => {
          throw new CliError(err.message);
        });
        if (o.detach) {
          if (c.embedded) process.stderr.write('mlops: no backend was running; the job runs only while this command does (start one with mlops serve)\n');
          process.stdout.write(o.json ? JSON.stringify(job, null, 2) + '\n' : `${job.job_id}\n`);
          if (!c.embedded) return;
        }
        const where = image ? ` ${image}` : job.spec.rayAddress ? ` ${job.spec.rayAddress}` : '';
        process.stderr.write(`mlops: job ${job.job_id} (${job.launcher}${where}), run ${job.run_id}\n`);
        const code = await attach(c, job);
        if (code !== 0) throw new CliError(`job ${job.job_id} did not finish (exit ${code})`, code);
      } finally {
        await c.close();
      }
    });
  registerReproduce(program);
}

function k8sJob(command: string[], o: TrainOptions): Promise<void> {
  if (o.build || o.local) throw new CliError('--k8s-manifest runs in the cluster: use --image, not --build or --local', 2);
  const gpus = o.gpus === undefined ? undefined : o.gpus === 'all' ? 'all' : number(o.gpus, '--gpus');
  return printTrainJob({
    image: o.image ?? '',
    command,
    env: keyValues(o.env, '--env'),
    params: keyValues(o.param, '--param'),
    ...(o.cpus !== undefined ? { cpus: cpuCount(o.cpus) } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
    ...(gpus !== undefined ? { gpus } : {}),
    ...(o.experiment ? { experiment: o.experiment } : {}),
    ...(o.name ? { runName: o.name } : {}),
    ...(o.timeout ? { timeout: o.timeout } : {}),
    ...(o.retries ? { retries: number(o.retries, '--retries')! } : {}),
    ...(o.namespace ? { namespace: o.namespace } : {}),
  }, o);
}

/** `mlops runs reproduce RUN`, added to the tracking commands' `runs` group. */
function registerReproduce(program: Command): void {
  const runs = program.commands.find((c) => c.name() === 'runs') ?? program.command('runs').description('runs');
  runs
    .command('reproduce <run>')
    .description('re-launch the job behind a run exactly (same image digest, command, env, params), or say what differs')
    .option('--force', 'launch even though the code, data or image differ')
    .option('-d, --detach', 'do not wait for the job')
    .action(async (runId: string, o: { force?: boolean; detach?: boolean }) => {
      const c = await connectBackend(program.opts<{ home: string }>().home);
      try {
        const plan = await c.call<ReproducePlan>('POST', `/api/v1/runs/${encodeURIComponent(runId)}/reproduce`, { force: o.force ?? false }).catch((err: Error) => {
          throw new CliError(err.message);
        });
        for (const d of plan.differences) process.stderr.write(`mlops: ${d}\n`);
        if (!plan.job) throw new CliError(`run ${runId} cannot be reproduced exactly (see above); pass --force to run it anyway`);
        process.stderr.write(`mlops: reproducing run ${runId} as job ${plan.job.job_id}, run ${plan.job.run_id}\n`);
        if (o.detach) return;
        const code = await attach(c, plan.job);
        if (code !== 0) throw new CliError(`job ${plan.job.job_id} did not finish (exit ${code})`, code);
      } finally {
        await c.close();
      }
    });
}
