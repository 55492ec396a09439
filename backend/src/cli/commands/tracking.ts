import type { Command } from 'commander';
import { withStore } from '../with-store';
import { emit, fmtTime, formatNumber, formatTable, CliError } from '../output';
import type { Run } from '../../store/types';
import { runLineage } from '../../services/lineage';
import { ApiError } from '../../util/errors';

export function registerTracking(program: Command): void {
  const exps = program.command('experiments').description('experiments in the store');
  exps
    .command('list')
    .description('list experiments')
    .option('--all', 'include deleted experiments')
    .option('--json', 'print JSON')
    .action((o: { all?: boolean; json?: boolean }) =>
      withStore(program, (ctx) => {
        const items = ctx.tracking.experiments.search({ viewType: o.all ? 'ALL' : 'ACTIVE_ONLY', maxResults: 50_000 }).items;
        const counts = new Map(
          (ctx.db.prepare("SELECT experiment_id AS id, COUNT(*) AS n FROM runs WHERE lifecycle_stage = 'active' GROUP BY experiment_id").all() as { id: number; n: number }[]).map((r) => [String(r.id), r.n]),
        );
        emit(o.json ?? false, items, () =>
          formatTable(items, [
            { header: 'ID', get: (e) => e.experiment_id, align: 'right' },
            { header: 'NAME', get: (e) => e.name },
            { header: 'RUNS', get: (e) => counts.get(e.experiment_id) ?? 0, align: 'right' },
            { header: 'STAGE', get: (e) => e.lifecycle_stage },
            { header: 'CREATED', get: (e) => fmtTime(e.creation_time) },
          ]),
        );
      }),
    );

  const runs = program.command('runs').description('runs: list, show');
  runs
    .command('list')
    .description('list runs (newest first unless --order-by)')
    .option('--experiment <name>', 'experiment name (default: all experiments)')
    .option('--filter <expr>', `MLflow filter, e.g. "metrics.rmse < 1 and params.model = 'tree'"`)
    .option('--order-by <clause...>', 'e.g. "metrics.rmse ASC"')
    .option('--max <n>', 'at most this many runs', '100')
    .option('--json', 'print JSON')
    .action((o: { experiment?: string; filter?: string; orderBy?: string[]; max: string; json?: boolean }) =>
      withStore(program, (ctx) => {
        const max = Number(o.max);
        if (!Number.isInteger(max) || max < 1 || max > 50_000) throw new CliError(`--max must be 1..50000, got ${o.max}`, 2);
        const ids = o.experiment
          ? [wrap(() => ctx.tracking.experiments.getByName(o.experiment).experiment_id)]
          : ctx.tracking.experiments.search({ maxResults: 50_000 }).items.map((e) => e.experiment_id);
        const page = wrap(() => ctx.tracking.search.search({ experimentIds: ids, filter: o.filter, orderBy: o.orderBy, maxResults: max }));
        const metricKeys = [...new Set(page.items.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort().slice(0, 4);
        emit(o.json ?? false, page.items, () =>
          formatTable(page.items, [
            { header: 'RUN ID', get: (r: Run) => r.info.run_id },
            { header: 'NAME', get: (r) => r.info.run_name },
            { header: 'STATUS', get: (r) => r.info.status },
            { header: 'STARTED', get: (r) => fmtTime(r.info.start_time) },
            ...metricKeys.map((k) => ({ header: k, align: 'right' as const, get: (r: Run) => metricOf(r, k) })),
          ]),
        );
      }),
    );
  runs
    .command('show <run>')
    .description('one run: params, latest metrics, tags, datasets and lineage')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        const run = wrap(() => ctx.tracking.runs.get(id));
        const lineage = runLineage(ctx, id);
        emit(o.json ?? false, { run, lineage }, () => showRun(run, lineage));
      }),
    );
}

function metricOf(r: Run, k: string): string {
  const m = r.data.metrics?.find((x) => x.key === k);
  return m ? formatNumber(m.value) : '';
}

function showRun(run: Run, l: ReturnType<typeof runLineage>): string {
  const i = run.info;
  const lines = [
    `Run ${i.run_id} (${i.run_name})`,
    `  experiment ${i.experiment_id}  status ${i.status}  started ${fmtTime(i.start_time)}${i.end_time ? `  ended ${fmtTime(i.end_time)}` : ''}`,
    `  artifacts  ${i.artifact_uri}`,
    '',
    'Params',
    ...(run.data.params ?? []).map((p) => `  ${p.key} = ${p.value}`),
    '',
    'Metrics (latest)',
    ...(run.data.metrics ?? []).map((m) => `  ${m.key} = ${formatNumber(m.value)} (step ${m.step})`),
    '',
    'Lineage',
    `  code commit   ${l.lineage.code_commit ?? 'unknown'}${l.lineage.code_dirty ? ' (uncommitted changes, diff ' + (l.lineage.code_diff_digest ?? '?') + ')' : l.lineage.code_dirty === false ? ' (clean)' : ''}`,
    `  source        ${l.source.name ?? 'unknown'}${l.source.type ? ` (${l.source.type})` : ''}`,
    `  image digest  ${l.lineage.image_digest ?? 'none (not run in a container)'}`,
    `  command       ${l.lineage.command ?? 'unknown'}`,
    ...(l.lineage.environment ? Object.entries(l.lineage.environment).map(([k, v]) => `  env ${k}=${v}`) : []),
    ...(l.datasets.length ? l.datasets.map((d) => `  data ${d.name} ${d.digest} (${d.source_type}: ${d.source})`) : ['  data          none recorded']),
    '',
    'Tags',
    ...(run.data.tags ?? []).map((t) => `  ${t.key} = ${t.value.length > 80 ? t.value.slice(0, 77) + '...' : t.value}`),
  ];
  return lines.join('\n');
}

/** Store errors become one-line CLI failures. */
export function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ApiError) throw new CliError(e.message);
    throw e;
  }
}
