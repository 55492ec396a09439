import type { Command } from 'commander';
import { withStore } from '../with-store';
import { emit, fmtTime, formatTable, CliError } from '../output';
import { wrap } from './tracking';
import { DATA_VALIDATION_RULES, formatMetric, formatTag, parseMetricCondition, parseTagCondition, type DataValidationRule } from '../../services/gates/conditions';
import type { GateCheck } from '../../services/gates/service';
import { compareModels } from '../../services/gates/compare';
import { ComparisonRepo, type StoredComparison } from '../../services/gates/repository';
import { resolve } from 'node:path';
import { formatNumber } from '../output';
import { ApiError } from '../../util/errors';

const collect = (v: string, all: string[]): string[] => [...all, v];

/** `mlops models gate set|show|clear`: the promotion gate @champion must pass (the store directly, like `models alias`). */
export function registerGateCommands(program: Command, models: Command, actor: () => string): void {
  const gate = models.command('gate').description('promotion gates: what a version must show before @champion may point at it');
  gate
    .command('set <name>')
    .description('replace the gate of a registered model (audited as gate.set)')
    .option('--metric <condition>', "a condition on the version's run, e.g. 'accuracy >= 0.9' (repeatable)", collect, [])
    .option('--tag <tag>', "a version tag that must be present ('validated') or equal a value ('stage=qa') (repeatable)", collect, [])
    .option('--data-validation <rule>', `the run's pipeline validate step: ${DATA_VALIDATION_RULES.join(', ')}`, 'if_recorded')
    .option('--reason <text>', 'why (kept in the audit log)')
    .option('--json', 'print JSON')
    .action((name: string, o: { metric: string[]; tag: string[]; dataValidation: string; reason?: string; json?: boolean }) =>
      withStore(program, (ctx) => {
        if (!DATA_VALIDATION_RULES.includes(o.dataValidation as DataValidationRule)) throw new CliError(`--data-validation must be one of ${DATA_VALIDATION_RULES.join(', ')}`, 2);
        const g = wrap(() =>
          ctx.gates.set(name, { metrics: o.metric.map(parseMetricCondition), tags: o.tag.map(parseTagCondition), data_validation: o.dataValidation as DataValidationRule }, { actor: actor(), reason: o.reason ?? null }),
        );
        emit(o.json ?? false, g, () => `gate of ${name}: ${describe(g)}`);
      }),
    );
  gate
    .command('show <name> [version]')
    .description('show the gate; with VERSION, check that version against it (exit 1 when it fails)')
    .option('--json', 'print JSON')
    .action((name: string, version: string | undefined, o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        if (version === undefined) {
          const g = wrap(() => ctx.gates.get(name));
          emit(o.json ?? false, g ?? { name, configured: false }, () => (g ? `gate of ${name}: ${describe(g)}\nset ${fmtTime(g.updated_at)} by ${g.updated_by}` : `${name} has no promotion gate`));
          return;
        }
        const c = wrap(() => ctx.gates.check(name, version));
        emit(o.json ?? false, c, () => checkTable(c));
        if (!c.passed) throw new CliError(`${c.name}/${c.version} fails the promotion gate of ${c.name}`);
      }),
    );
  gate
    .command('clear <name>')
    .description('remove the gate of a registered model (audited as gate.clear)')
    .option('--reason <text>', 'why (kept in the audit log)')
    .action((name: string, o: { reason?: string }) =>
      withStore(program, (ctx) => {
        const had = wrap(() => ctx.gates.clear(name, { actor: actor(), reason: o.reason ?? null }));
        process.stdout.write(had ? `gate of ${name} removed\n` : `${name} had no promotion gate\n`);
      }),
    );
}

/** `mlops models compare A B --data holdout.csv`: the offline evaluator, on the store directly (like `mlops predict`). */
export function registerCompareCommand(program: Command, models: Command, actor: () => string): void {
  models
    .command('compare <champion> <challenger>')
    .description('score two versions (NAME/VERSION or NAME@ALIAS) on a labelled CSV: accuracies, McNemar, a paired bootstrap interval, a verdict')
    .requiredOption('--data <csv>', 'holdout CSV: a header row with the features and the label column')
    .option('--label <column>', 'the label column', 'label')
    .option('--margin <m>', 'non-inferiority margin on the accuracy difference', '0.01')
    .option('--alpha <a>', "McNemar's significance level", '0.05')
    .option('--resamples <n>', 'bootstrap resamples', '2000')
    .option('--seed <n>', 'bootstrap seed', '20261205')
    .option('--json', 'print JSON')
    .action((champion: string, challenger: string, o: { data: string; label: string; margin: string; alpha: string; resamples: string; seed: string; json?: boolean }) =>
      withStore(program, async (ctx) => {
        const num = (v: string, flag: string) => {
          const n = Number(v);
          if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} must be a number, got '${v}'`, 2);
          return n;
        };
        const opts = { data: resolve(o.data), label: o.label, margin: num(o.margin, '--margin'), alpha: num(o.alpha, '--alpha'), resamples: num(o.resamples, '--resamples'), seed: num(o.seed, '--seed') };
        const r = await compareModels(ctx, champion, challenger, opts).catch((e: unknown) => {
          throw e instanceof ApiError ? new CliError(e.message) : e;
        });
        const stored = new ComparisonRepo(ctx.db).insert(r, actor(), Date.now());
        emit(o.json ?? false, stored, () => compareText(stored));
      }),
    );
}

export function compareText(c: StoredComparison): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const pp = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
  return [
    formatTable([c.champion, c.challenger], [
      { header: 'MODEL', get: (m) => m.model },
      { header: 'ROLE', get: (m) => (m === c.champion ? 'champion' : 'challenger') },
      { header: 'CORRECT', get: (m) => `${m.correct}/${c.rows}`, align: 'right' },
      { header: 'ACCURACY', get: (m) => pct(m.accuracy), align: 'right' },
    ]),
    `difference ${pp(c.bootstrap.diff)}, ${c.bootstrap.confidence * 100} % paired bootstrap interval [${pp(c.bootstrap.lower)}, ${pp(c.bootstrap.upper)}] (${c.bootstrap.resamples} resamples, seed ${c.bootstrap.seed})`,
    `McNemar: ${c.mcnemar.b_only} rows only the challenger got right, ${c.mcnemar.a_only} only the champion; exact p ${formatNumber(c.mcnemar.p_exact)}, mid-p ${formatNumber(c.mcnemar.p_mid)}`,
    `verdict: ${c.verdict.replace('_', '-')} (margin ${pp(c.margin).replace('+', '')}, alpha ${c.alpha}): ${c.reason}`,
    `comparison ${c.id} recorded`,
  ].join('\n');
}

function describe(g: { metrics: Parameters<typeof formatMetric>[0][]; tags: Parameters<typeof formatTag>[0][]; data_validation: string }): string {
  const parts = [...g.metrics.map(formatMetric), ...g.tags.map(formatTag), `data validation: ${g.data_validation}`];
  return parts.join(', ');
}

export function checkTable(c: GateCheck): string {
  if (!c.configured) return `${c.name} has no promotion gate: version ${c.version} may become @champion`;
  const table = formatTable(c.results, [
    { header: 'CONDITION', get: (r) => r.condition },
    { header: 'RESULT', get: (r) => (r.passed ? 'pass' : 'FAIL') },
    { header: 'ACTUAL', get: (r) => (r.actual === null ? '(missing)' : r.actual) },
  ]);
  return `${table}\n${c.name}/${c.version}: ${c.passed ? 'passes the gate' : 'fails the gate'}`;
}
