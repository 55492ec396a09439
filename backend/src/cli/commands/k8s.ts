import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import { CliError } from '../output';
import { withStore } from '../with-store';
import { ApiError } from '../../util/errors';
import { PipelineError, parsePipeline } from '../../services/pipelines/spec';
import { parseSchema, validateCsv } from '../../services/pipelines/validate';
import { parseModelRef } from '../../services/serving/ref';
import { RegistryResolver } from '../../services/serving/resolver';
import { ManifestError, type Manifest } from '../../services/k8s/common';
import { argoCronWorkflow, argoWorkflow } from '../../services/k8s/argo';
import { analysisTemplate, inferenceService, trainJob, type TrainJobOptions } from '../../services/k8s/manifests';
import { ApplyError, applyManifests, kubeServer, named } from '../../services/k8s/apply';

/**
 * Kubernetes manifests: `mlops pipeline export`, the `--k8s-manifest` of `mlops train`, `mlops export --format
 * kserve|argo-rollouts` (printed, or with `--apply` sent to an API server), and `mlops data validate`, which the
 * exported validate steps run.
 */
export function registerK8s(program: Command): void {
  const pipeline = program.commands.find((c) => c.name() === 'pipeline') ?? program.command('pipeline');
  const exportCmd = pipeline
    .command('export [file]')
    .description('write the pipeline (default ./mlops.yaml) as an Argo Workflow, or a CronWorkflow for a scheduled retrain')
    .requiredOption('--format <format>', 'argo | argo-cron')
    .option('--schedule <cron>', 'with argo-cron: when to run, e.g. "0 3 * * 1"')
    .option('--timezone <tz>', 'with argo-cron: the schedule time zone, e.g. Europe/Paris')
    .option('--image <image>', 'image for steps that name none (must hold the pipeline folder as working directory)')
    .option('--mlops-image <image>', 'image with the mlops CLI, for validate steps', 'mlops-studio:0.1.0')
    .option('--namespace <ns>', 'metadata.namespace')
    .option('--secret <name>', 'Secret with MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN', 'mlops-mlflow')
    .option('-o, --output <file>', 'write here instead of stdout');
  addApplyOptions(exportCmd).action(async (fileArg: string | undefined, o: ApplyCliOptions & { format: string; schedule?: string; timezone?: string; image?: string; mlopsImage: string; secret: string }) => {
    const file = resolve(fileArg ?? 'mlops.yaml');
    const text = readOrFail(file);
    const def = manifestErrors(() => parsePipeline(text, file));
    const raw = (parseYaml(text) as { steps: Record<string, { validate?: { schema?: unknown } }> }).steps;
    const rawSchemas = Object.fromEntries(Object.entries(raw).filter(([, s]) => s?.validate).map(([n, s]) => [n, s.validate!.schema]));
    const base = { ...(o.image ? { image: o.image } : {}), mlopsImage: o.mlopsImage, ...(o.namespace ? { namespace: o.namespace } : {}), secret: secretRef(o.secret), rawSchemas };
    if (o.format === 'argo') return deliver(manifestErrors(() => argoWorkflow(def, base)), o);
    if (o.format !== 'argo-cron') throw new CliError(`--format must be argo or argo-cron, got '${o.format}'`, 2);
    if (!o.schedule) throw new CliError('--format argo-cron needs --schedule "MIN HOUR DOM MON DOW"', 2);
    return deliver(manifestErrors(() => argoCronWorkflow(def, { ...base, schedule: o.schedule!, ...(o.timezone ? { timezone: o.timezone } : {}) })), o);
  });

  const data = program.commands.find((c) => c.name() === 'data') ?? program.command('data').description('data files');
  data
    .command('validate <csv>')
    .description('check a CSV file against a data schema (the JSON of a pipeline validate step); writes report.json and outputs.json to $MLOPS_OUTPUT_DIR when set; exit 1 when a check fails')
    .requiredOption('--schema <json>', 'the schema as JSON: {"rows": {"min": 100}, "columns": {...}}')
    .action((csv: string, o: { schema: string }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(o.schema);
      } catch (err) {
        throw new CliError(`--schema is not JSON: ${(err as Error).message}`, 2);
      }
      const report = manifestErrors(() => validateCsv(resolve(csv), parseSchema(raw, process.cwd())));
      const out = process.env.MLOPS_OUTPUT_DIR;
      if (out) {
        writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2));
        writeFileSync(join(out, 'outputs.json'), JSON.stringify({ rows: report.rows, ok: report.ok, failed_checks: report.failures.length }));
      }
      process.stdout.write(`${report.ok ? 'ok' : 'FAILED'}: ${report.rows} rows${report.failures.length ? `\n${report.failures.map((f) => `  ${JSON.stringify(f)}`).join('\n')}` : ''}\n`);
      if (!report.ok) throw new CliError(`${csv} failed ${report.failures.length} check(s)`);
    });
}

/** The options `mlops export` takes for its Kubernetes formats (see serving.ts). */
export function addK8sExportOptions(cmd: Command): Command {
  cmd
    .option('--format <format>', 'bundle (default: the edge bundle in --out) | kserve | argo-rollouts')
    .option('--storage-uri <uri>', 'kserve: where the cluster reads the model folder (s3://, gs://, pvc://)')
    .option('--canary-percent <n>', 'kserve: canaryTrafficPercent for this version')
    .option('--endpoint <name>', 'the endpoint / InferenceService name (default: the model name)')
    .option('--namespace <ns>', 'metadata.namespace')
    .option('--provider <p>', 'argo-rollouts: prometheus | web', 'prometheus')
    .option('--address <url>', 'argo-rollouts: Prometheus address, or the backend URL for web', 'http://prometheus.monitoring.svc:9090')
    .option('--max-error-rate <r>', 'argo-rollouts: the canary fails above this error rate', '0.05')
    .option('--max-p99-ms <ms>', 'argo-rollouts: the canary fails above this p99 latency', '100')
    .option('-o, --output <file>', 'write the manifest here instead of stdout');
  return addApplyOptions(cmd);
}

export interface K8sExportOptions extends ApplyCliOptions {
  format: string;
  storageUri?: string;
  canaryPercent?: string;
  endpoint?: string;
  provider: string;
  address: string;
  maxErrorRate: string;
  maxP99Ms: string;
}

export async function exportK8s(program: Command, model: string, o: K8sExportOptions): Promise<void> {
  const resolved = await withStore(program, async (ctx) => {
    try {
      return await new RegistryResolver(ctx).resolve(parseModelRef(model));
    } catch (err) {
      if (err instanceof ApiError) throw new CliError(err.message);
      throw err;
    }
  });
  const endpoint = o.endpoint ?? resolved.name;
  const ns = o.namespace ? { namespace: o.namespace } : {};
  if (o.format === 'kserve') {
    if (!o.storageUri) throw new CliError(`--format kserve needs --storage-uri: where the cluster reads ${resolved.name}/${resolved.version} (copy ${resolved.dir} there)`, 2);
    const canary = o.canaryPercent === undefined ? {} : { canaryPercent: numberOpt(o.canaryPercent, '--canary-percent') };
    return deliver(manifestErrors(() => inferenceService({ endpoint, modelName: resolved.name, modelVersion: resolved.version, storageUri: o.storageUri!, ...canary, ...ns })), o);
  }
  if (o.format !== 'argo-rollouts') throw new CliError(`--format must be bundle, kserve or argo-rollouts, got '${o.format}'`, 2);
  if (o.provider !== 'prometheus' && o.provider !== 'web') throw new CliError(`--provider must be prometheus or web, got '${o.provider}'`, 2);
  return deliver(analysisTemplate({ endpoint, provider: o.provider, address: o.address, maxErrorRate: numberOpt(o.maxErrorRate, '--max-error-rate'), maxP99Ms: numberOpt(o.maxP99Ms, '--max-p99-ms'), ...ns }), o);
}

/** `mlops train --k8s-manifest`: the Job instead of running anything. */
export async function printTrainJob(o: Omit<TrainJobOptions, 'secret'>, cli: ApplyCliOptions): Promise<void> {
  if (!o.image) throw new CliError('--k8s-manifest needs --image: an image your cluster can pull (a --build image exists only on this machine)', 2);
  await deliver(manifestErrors(() => trainJob(o)), cli);
}

/** `--apply` and its options, on every command that writes a manifest. */
export interface ApplyCliOptions {
  apply?: boolean;
  server?: string;
  tokenEnv: string;
  dryRun?: boolean;
  requestTimeout: string;
  namespace?: string;
  output?: string;
}

export function addApplyOptions(cmd: Command): Command {
  return cmd
    .option('--apply', 'send the manifest to a Kubernetes API server (server-side apply) instead of printing it')
    .option('--server <url>', 'with --apply: the API server, e.g. https://10.0.0.1:6443 or a `kubectl proxy` (default: env MLOPS_KUBE_SERVER)')
    .option('--token-env <VAR>', 'with --apply: environment variable holding the bearer token', 'MLOPS_KUBE_TOKEN')
    .option('--dry-run', 'with --apply: the server checks and answers but stores nothing (dryRun=All)')
    .option('--request-timeout <seconds>', 'with --apply: give up on an API request after this long', '30');
}

/** Prints (or writes) the manifest, or with --apply sends it and prints what the API server created or updated. */
async function deliver(manifest: Manifest, o: ApplyCliOptions): Promise<void> {
  if (!o.apply) {
    if (o.server || o.dryRun) throw new CliError('--server and --dry-run go with --apply', 2);
    return write(manifest, o.output);
  }
  const raw = o.server ?? process.env.MLOPS_KUBE_SERVER;
  if (!raw) throw new CliError('--apply needs --server URL or MLOPS_KUBE_SERVER (kubeconfig files are not read; `kubectl proxy` serves one on 127.0.0.1:8001)', 2);
  let server: string;
  try {
    server = kubeServer(raw);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const timeoutMs = numberOpt(o.requestTimeout, '--request-timeout') * 1000;
  if (!(timeoutMs > 0)) throw new CliError('--request-timeout must be more than 0 seconds', 2);
  try {
    const m = named(manifest);
    if (o.output) write(m, o.output);
    const token = process.env[o.tokenEnv] || undefined;
    for (const a of await applyManifests([m], { server, token, tokenSource: o.tokenEnv, namespace: o.namespace, dryRun: o.dryRun ?? false, timeoutMs })) {
      process.stdout.write(`${a.ref} ${a.action} in namespace ${a.namespace}${a.dryRun ? ' (dry run: nothing stored)' : ''}\n`);
    }
  } catch (err) {
    if (err instanceof ApplyError) throw new CliError(err.message);
    throw err;
  }
}

function write(m: Manifest, output: string | undefined): void {
  const text = toYaml(m, { lineWidth: 0, aliasDuplicateObjects: false });
  if (output) writeFileSync(output, text);
  else process.stdout.write(text);
}

function readOrFail(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`no pipeline file at ${file}`);
  }
}

function manifestErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ManifestError || err instanceof PipelineError || err instanceof ApiError) throw new CliError(err.message);
    throw err;
  }
}

const secretRef = (name: string) => ({ name, uriKey: 'MLFLOW_TRACKING_URI', tokenKey: 'MLFLOW_TRACKING_TOKEN' });

function numberOpt(v: string, flag: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} must be a number, got '${v}'`, 2);
  return n;
}
