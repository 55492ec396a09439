import type { Command } from 'commander';
import { backendCaller, ClientError } from '../../util/http-client';
import { resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { readHandshake } from '../../server';
import { ApiError } from '../../util/errors';
import { CliError, emit, fmtTime, formatNumber, formatTable } from '../output';
import { withStore } from '../with-store';
import { predictCsv } from '../../services/serving/batch';
import { DEFAULT_MAX_BUNDLE_BYTES, exportBundle, fmtBytes, parseSize } from '../../services/serving/bundle';
import { LoadedModel } from '../../services/serving/model';
import { parseModelRef } from '../../services/serving/ref';
import { RegistryResolver } from '../../services/serving/resolver';
import type { EndpointView, RollbackRecord } from '../../services/serving/endpoint';
import { addK8sExportOptions, exportK8s, type K8sExportOptions } from './k8s';

/** `mlops deploy|endpoints|rollback` talk to the running backend (it holds the endpoints); `predict` and `export` work on the store directly. */
export function registerServing(program: Command): void {
  const home = () => program.opts<{ home: string }>().home;
  program
    .command('deploy')
    .description('deploy a registered model version (NAME/VERSION or NAME@ALIAS) to an endpoint of the running backend')
    .argument('<model>', 'NAME/VERSION or NAME@ALIAS')
    .requiredOption('--endpoint <name>', 'endpoint name')
    .option('--strategy <s>', 'replace | ab | canary | shadow', 'replace')
    .option('--weight <n>', 'ab: the new version\'s share in percent (default 50); shadow: the mirrored share (default 100)')
    .option('--steps <list>', 'canary ramp in percent (default 1,5,10,25,50,100)')
    .option('--interval <seconds>', 'canary: seconds between steps (default 60)')
    .option('--max-error-rate <r>', 'guardrail: roll back when the candidate\'s error rate exceeds r (default 0.05)')
    .option('--max-p99-ms <ms>', 'guardrail: roll back when the candidate\'s p99 latency exceeds this (default 100)')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { endpoint: string; strategy: string; weight?: string; steps?: string; interval?: string; maxErrorRate?: string; maxP99Ms?: string; json?: boolean }) => {
      const body: Record<string, unknown> = { model, strategy: o.strategy };
      if (o.weight !== undefined) body.weight = num(o.weight, '--weight');
      if (o.steps !== undefined) body.steps = o.steps.split(',').map((s) => num(s, '--steps'));
      if (o.interval !== undefined) body.step_interval_s = num(o.interval, '--interval');
      const guardrails: Record<string, number> = {};
      if (o.maxErrorRate !== undefined) guardrails.max_error_rate = num(o.maxErrorRate, '--max-error-rate');
      if (o.maxP99Ms !== undefined) guardrails.max_p99_ms = num(o.maxP99Ms, '--max-p99-ms');
      if (Object.keys(guardrails).length) body.guardrails = guardrails;
      const view = await backend<EndpointView>(home(), 'POST', `/endpoints/${encodeURIComponent(o.endpoint)}/deploy`, body);
      emit(o.json ?? false, view, () => endpointTable(view));
    });

  const endpoints = program.command('endpoints').description('serving endpoints of the running backend');
  endpoints
    .command('list')
    .description('list endpoints with their variants, roles and weights')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { endpoints: list } = await backend<{ endpoints: EndpointView[] }>(home(), 'GET', '/endpoints');
      const rows = list.flatMap((e) => e.variants.map((v) => ({ e, v })));
      emit(o.json ?? false, list, () =>
        rows.length === 0
          ? 'no endpoints (deploy one with: mlops deploy NAME/VERSION --endpoint E)'
          : formatTable(rows, [
              { header: 'ENDPOINT', get: (r) => r.e.name },
              { header: 'STATUS', get: (r) => r.e.status },
              { header: 'VARIANT', get: (r) => r.v.id },
              { header: 'ROLE', get: (r) => r.v.role },
              { header: 'WEIGHT %', get: (r) => r.v.weight, align: 'right' },
              { header: 'REQUESTS', get: (r) => r.v.requests_total, align: 'right' },
              { header: 'ERRORS', get: (r) => r.v.errors_total, align: 'right' },
              { header: 'P99 MS', get: (r) => (r.v.window.p99Ms === null ? '' : formatNumber(r.v.window.p99Ms)), align: 'right' },
            ]),
      );
    });
  endpoints
    .command('show')
    .argument('<endpoint>')
    .description('one endpoint: status, variants, weights, canary and guardrails')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const view = await backend<EndpointView>(home(), 'GET', `/endpoints/${encodeURIComponent(name)}`);
      emit(o.json ?? false, view, () => endpointTable(view));
    });
  endpoints
    .command('promote')
    .argument('<endpoint>')
    .description('make the candidate (or shadow) the stable variant now')
    .action(async (name: string) => {
      const view = await backend<EndpointView>(home(), 'POST', `/endpoints/${encodeURIComponent(name)}/promote`, {});
      process.stdout.write(endpointTable(view) + '\n');
    });
  endpoints
    .command('delete')
    .argument('<endpoint>')
    .description('stop serving an endpoint (requests in flight finish first)')
    .action(async (name: string) => {
      await backend(home(), 'DELETE', `/endpoints/${encodeURIComponent(name)}`);
      process.stdout.write(`deleted endpoint ${name}\n`);
    });

  program
    .command('rollback')
    .description('send all traffic of an endpoint back to its stable (or previous) variant')
    .argument('<endpoint>')
    .option('--reason <text>', 'why (written to the audit log)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { reason?: string; json?: boolean }) => {
      const r = await backend<{ endpoint: EndpointView; rollback: RollbackRecord }>(home(), 'POST', `/endpoints/${encodeURIComponent(name)}/rollback`, o.reason ? { reason: o.reason } : {});
      emit(o.json ?? false, r, () => `rolled back ${name}: ${r.rollback.from} → ${r.rollback.to} in ${formatNumber(r.rollback.durationMs)} ms\n${endpointTable(r.endpoint)}`);
    });

  program
    .command('predict')
    .description('batch inference: score a CSV file of any size with a registered model version')
    .argument('<model>', 'NAME/VERSION or NAME@ALIAS')
    .requiredOption('--input <csv>', 'CSV with a header row of feature names')
    .requiredOption('--output <csv>', 'where to write the input columns plus a prediction column')
    .option('--batch-size <n>', 'rows per model call', '1024')
    .option('--no-progress', 'no progress bar')
    .action(async (model: string, o: { input: string; output: string; batchSize: string; progress: boolean }) => {
      const batchSize = num(o.batchSize, '--batch-size');
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError('--batch-size must be a positive integer', 2);
      await withStore(program, async (ctx) => {
        const loaded = await cliErrors(async () => LoadedModel.load(await new RegistryResolver(ctx).resolve(parseModelRef(model))));
        const bar = o.progress && process.stderr.isTTY ? new SingleBar({ format: 'predict [{bar}] {percentage}% | {rows} rows | {eta_formatted} left', stream: process.stderr }, Presets.shades_classic) : null;
        bar?.start(100, 0, { rows: 0 });
        try {
          const r = await cliErrors(() =>
            predictCsv(loaded, resolve(o.input), resolve(o.output), {
              batchSize,
              onProgress: (p) => bar?.update(p.totalBytes ? Math.round((100 * p.bytesRead) / p.totalBytes) : 100, { rows: p.rows }),
            }),
          );
          bar?.update(100, { rows: r.rows });
          bar?.stop();
          process.stdout.write(`${r.rows} rows scored with ${loaded.id} in ${formatNumber(r.seconds)} s → ${o.output}\n`);
        } finally {
          bar?.stop();
          await loaded.dispose();
        }
      });
    });

  addK8sExportOptions(program.command('export'))
    .description('write an edge bundle (ONNX, signature, metadata, model card, SHA256SUMS), or with --format a KServe InferenceService or an Argo Rollouts AnalysisTemplate')
    .argument('<model>', 'NAME/VERSION or NAME@ALIAS')
    .option('--out <dir>', 'bundle folder (created; must be empty)')
    .option('--max-size <size>', 'refuse models larger than this', fmtBytes(DEFAULT_MAX_BUNDLE_BYTES).replace(' ', ''))
    .option('--json', 'print JSON')
    .action(async (model: string, o: K8sExportOptions & { out?: string; maxSize: string; json?: boolean }) => {
      if (o.format && o.format !== 'bundle') return exportK8s(program, model, o);
      if (o.apply || o.server || o.dryRun) throw new CliError('--apply, --server and --dry-run go with --format kserve or argo-rollouts', 2);
      if (!o.out) throw new CliError("required option '--out <dir>' not specified", 2);
      const out = o.out;
      const max = cliErrorsSync(() => parseSize(o.maxSize));
      await withStore(program, async (ctx) => {
        const r = await cliErrors(async () => exportBundle(await new RegistryResolver(ctx).resolve(parseModelRef(model)), resolve(out), max));
        emit(o.json ?? false, r, () => `${formatTable(r.files, [{ header: 'FILE', get: (f) => f.path }, { header: 'BYTES', get: (f) => f.bytes, align: 'right' }, { header: 'SHA256', get: (f) => f.sha256.slice(0, 16) }])}\nbundle written to ${r.dir}`);
      });
    });
}

function endpointTable(v: EndpointView): string {
  const head = `endpoint ${v.name}: ${v.status} (${v.health})${v.canary ? `, canary step ${v.canary.step + 1}/${v.canary.steps.length} at ${v.canary.percent} %` : ''}`;
  const last = v.last_rollback ? `\nlast rollback ${fmtTime(v.last_rollback.at)}: ${v.last_rollback.from} → ${v.last_rollback.to} (${v.last_rollback.reason})` : '';
  if (v.variants.length === 0) return head + last;
  return `${head}\n${formatTable(v.variants, [
    { header: 'VARIANT', get: (x) => x.id },
    { header: 'ROLE', get: (x) => x.role },
    { header: 'WEIGHT %', get: (x) => x.weight, align: 'right' },
    { header: 'REQUESTS', get: (x) => x.requests_total, align: 'right' },
    { header: 'ERROR RATE', get: (x) => formatNumber(x.window.errorRate), align: 'right' },
  ])}${last}`;
}

function num(s: string, flag: string): number {
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} must be a number, got '${s}'`, 2);
  return n;
}

async function cliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(err.message);
    throw err;
  }
}

function cliErrorsSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(err.message, 2);
    throw err;
  }
}

/** One call to the backend serving `home`, found through its handshake file. */
/** One call to the running backend of `home` (its handshake file gives the URL and token); errors become CLI errors. */
export async function backend<T>(home: string, method: string, path: string, body?: unknown): Promise<T> {
  const h = readHandshake(home);
  if (!h) throw new CliError(`no backend is running for ${resolve(home)}; start one with 'mlops serve' (endpoints live in the backend)`);
  try {
    return await backendCaller(h.url, h.token)<T>(method, path, body);
  } catch (err) {
    if (err instanceof ClientError) throw new CliError(err.message);
    throw err;
  }
}
