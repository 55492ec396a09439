import type { Command } from 'commander';
import type { ExperimentDetail, ExperimentView } from '../../api/v1/contract-experiments';
import { CliError, emit, fmtTime, formatTable } from '../output';
import { backend } from './serving';

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`);
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}`;

const table = (es: readonly ExperimentView[]) =>
  formatTable(es, [
    { header: 'id', get: (e) => `#${e.id}` },
    { header: 'endpoint', get: (e) => e.endpoint },
    { header: 'champion', get: (e) => e.control },
    { header: 'challenger', get: (e) => e.treatment },
    { header: 'status', get: (e) => e.status },
    { header: 'labelled', get: (e) => (e.analysis ? `${e.analysis.control.labelled} / ${e.analysis.treatment.labelled}` : '-') },
    { header: 'started', get: (e) => fmtTime(e.started_at) },
  ]);

function show(e: ExperimentDetail): string {
  const a = e.analysis;
  const ci = a?.running_interval ? `${pts(a.running_interval[0])} to ${pts(a.running_interval[1])} pts` : 'not yet';
  return [
    `experiment #${e.id} on ${e.endpoint}: ${e.status}${e.retrain_id ? ` (retrain #${e.retrain_id})` : ''}`,
    `arms       champion ${e.control} vs challenger ${e.treatment}`,
    `rule       ${e.config.metric}, ${e.config.require}${e.config.require === 'non_inferior' ? ` within ${e.config.margin}` : ''}, α ${e.config.alpha}, ≥ ${e.config.min_samples} labelled per arm, inconclusive → ${e.config.on_inconclusive}`,
    `time       started ${fmtTime(e.started_at)}, deadline ${fmtTime(e.deadline)}${e.ended_at ? `, ended ${fmtTime(e.ended_at)}` : ''}`,
    ...(a
      ? [
          `champion   ${a.control.requests} requests, ${a.control.labelled} labelled, accuracy ${pct(a.control.accuracy)}, p99 ${a.control.p99_ms?.toFixed(1) ?? '-'} ms`,
          `challenger ${a.treatment.requests} requests, ${a.treatment.labelled} labelled, accuracy ${pct(a.treatment.accuracy)}, p99 ${a.treatment.p99_ms?.toFixed(1) ?? '-'} ms`,
          `difference ${pts(a.difference)} pts; confidence sequence ${ci}; always-valid p ${a.p_value.toPrecision(3)}${a.srm ? `; SRM p ${a.srm.p_value.toPrecision(3)}${a.srm.mismatch ? ' (MISMATCH)' : ''}` : ''}`,
        ]
      : []),
    `reason     ${e.reason}`,
    `looks      ${e.looks.length}`,
  ].join('\n');
}

const durationS = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new CliError(`a duration is a number with s, m, h or d (e.g. 7d); got '${s}'`, 2);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
};
const id = (s: string) => {
  const n = Number(s.replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw new CliError(`an experiment id is a positive integer, got '${s}'`, 2);
  return n;
};
const num = (what: string) => (s: string) => {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new CliError(`${what} must be a number, got '${s}'`, 2);
  return n;
};

/** `mlops ab start|list|show|look|stop`: online experiments in the running backend (the sequential test decides). */
export function registerLiveAb(ab: Command, home: () => string): void {
  ab.command('start')
    .description('start an online experiment on an endpoint that runs an A/B split: the sequential test promotes or rejects the challenger')
    .argument('<endpoint>')
    .option('--min-samples <n>', 'labelled predictions per arm before a verdict (default 1000)', num('--min-samples'))
    .option('--alpha <a>', 'level of the always-valid test (default 0.05)', num('--alpha'))
    .option('--max-duration <d>', 'inconclusive after this long, e.g. 7d (default 7d)', durationS)
    .option('--require <r>', 'better | non_inferior (default non_inferior)')
    .option('--margin <m>', 'non-inferiority margin in accuracy (default 0.01)', num('--margin'))
    .option('--on-inconclusive <w>', 'keep_champion | promote (default keep_champion)')
    .option('--json', 'print JSON')
    .action(async (endpoint: string, o: { minSamples?: number; alpha?: number; maxDuration?: number; require?: string; margin?: number; onInconclusive?: string; json?: boolean }) => {
      const body = {
        endpoint,
        ...(o.minSamples !== undefined ? { min_samples: o.minSamples } : {}),
        ...(o.alpha !== undefined ? { alpha: o.alpha } : {}),
        ...(o.maxDuration !== undefined ? { max_duration_s: o.maxDuration } : {}),
        ...(o.require ? { require: o.require } : {}),
        ...(o.margin !== undefined ? { margin: o.margin } : {}),
        ...(o.onInconclusive ? { on_inconclusive: o.onInconclusive } : {}),
      };
      const e = await backend<ExperimentView>(home(), 'POST', '/api/v1/experiments', body);
      emit(o.json ?? false, e, () => `experiment #${e.id} started: ${e.reason}`);
    });
  ab.command('list')
    .description('online experiments, newest first')
    .option('--endpoint <name>')
    .option('--status <s>', 'running, promoted, rejected, inconclusive or stopped')
    .option('--json', 'print JSON')
    .action(async (o: { endpoint?: string; status?: string; json?: boolean }) => {
      const q = new URLSearchParams({ ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.status ? { status: o.status } : {}) });
      const r = await backend<{ experiments: ExperimentView[] }>(home(), 'GET', `/api/v1/experiments${q.size ? `?${q}` : ''}`);
      emit(o.json ?? false, r, () => (r.experiments.length ? table(r.experiments) : 'no experiments'));
    });
  for (const [name, method, what] of [
    ['show', 'GET', 'an experiment: arms, the confidence sequence, the verdict'],
    ['look', 'POST', 'look now (the backend looks every minute): a verdict acts at once'],
  ] as const) {
    ab.command(name)
      .description(what)
      .argument('<id>')
      .option('--json', 'print JSON')
      .action(async (s: string, o: { json?: boolean }) => {
        const e = await backend<ExperimentDetail>(home(), method, `/api/v1/experiments/${id(s)}${name === 'look' ? '/look' : ''}`);
        emit(o.json ?? false, e, () => show(e));
      });
  }
  ab.command('stop')
    .description('end the analysis (traffic stays as it is)')
    .argument('<id>')
    .option('--reason <text>')
    .action(async (s: string, o: { reason?: string }) => {
      const e = await backend<ExperimentView>(home(), 'POST', `/api/v1/experiments/${id(s)}/stop`, o.reason ? { reason: o.reason } : {});
      process.stdout.write(`experiment #${e.id} ${e.status}: ${e.reason}\n`);
    });
}
