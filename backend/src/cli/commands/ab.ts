import type { Command } from 'commander';
import { AB_DEFAULTS, StatsInputError, analyzeAb, parseCell, sampleSizeTwoProportions } from '../../services/stats';
import type { AbReport, Comparison, MetricData, MetricKind } from '../../services/stats';
import { CliError, emit, formatNumber, formatTable } from '../output';
import { streamCsv } from './drift';
import { registerLiveAb } from './ab-live';

interface AnalyzeOptions {
  data: string;
  variantColumn: string;
  metricColumn: string;
  kind?: string;
  control?: string;
  split?: string;
  alpha?: string;
  lowerIsBetter?: boolean;
  sequential?: boolean;
  tuningN?: string;
  json?: boolean;
}

interface Collected {
  variants: string[];
  arm: number[];
  values: number[][];
  skipped: number[];
}

/** Reads the variant column and each metric column in one streamed pass; rows keep their arrival order. */
async function collect(file: string, variantColumn: string, metrics: string[], kinds: (MetricKind | undefined)[]): Promise<Collected> {
  const out: Collected = { variants: [], arm: [], values: metrics.map(() => []), skipped: metrics.map(() => 0) };
  const index = new Map<string, number>();
  let vi = -1;
  let mi: number[] = [];
  let width = 0;
  await streamCsv(
    file,
    (header) => {
      const h = header.map((x) => x.trim());
      width = h.length;
      vi = h.indexOf(variantColumn);
      if (vi < 0) throw new StatsInputError(`${file}: no column '${variantColumn}' (columns: ${h.join(', ')})`);
      mi = metrics.map((m) => {
        const i = h.indexOf(m);
        if (i < 0) throw new StatsInputError(`${file}: no column '${m}' (columns: ${h.join(', ')})`);
        return i;
      });
    },
    (record, line) => {
      if (record.length !== width) throw new StatsInputError(`${file}: line ${line} has ${record.length} fields but the header has ${width}`);
      const variant = record[vi]!.trim();
      if (variant === '') throw new StatsInputError(`${file}: line ${line}: empty variant in '${variantColumn}'`);
      let a = index.get(variant);
      if (a === undefined) {
        a = out.variants.length;
        index.set(variant, a);
        out.variants.push(variant);
      }
      out.arm.push(a);
      mi.forEach((col, k) => out.values[k]!.push(metricValue(file, line, metrics[k]!, record[col]!, kinds[k])));
    },
  );
  return out;
}

function metricValue(file: string, line: number, metric: string, raw: string, kind: MetricKind | undefined): number {
  const cell = parseCell(raw);
  if (cell.kind === 'missing') return NaN;
  if (kind === 'binary' && cell.kind === 'text' && /^(true|false)$/i.test(cell.value)) return /^true$/i.test(cell.value) ? 1 : 0;
  if (cell.kind !== 'number') throw new StatsInputError(`${file}: line ${line}, metric '${metric}': '${raw}' is not a ${cell.kind === 'infinite' ? 'finite ' : ''}number`);
  if (kind === 'binary' && cell.value !== 0 && cell.value !== 1) throw new StatsInputError(`${file}: line ${line}, metric '${metric}': binary metrics must be 0/1 or true/false, got '${raw}'`);
  return cell.value;
}

function parseSplit(s: string | undefined): Record<string, number> | undefined {
  if (!s) return undefined;
  const out: Record<string, number> = {};
  for (const part of s.split(',')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    const x = Number(v);
    if (!k || !(x > 0)) throw new CliError(`--split must look like control=50,treatment=50; got '${part}'`, 2);
    out[k] = x;
  }
  return out;
}

function number(flag: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x > lo && x < hi)) throw new CliError(`${flag} must be a number in (${lo}, ${hi}), got '${v}'`, 2);
  return x;
}

/** Metric rows with a missing value are left out of that metric only; `binary` is chosen when every value is 0/1. */
function toMetrics(c: Collected, names: string[], kinds: (MetricKind | undefined)[]): MetricData[] {
  return names.map((name, k) => {
    const arm: number[] = [];
    const values: number[] = [];
    c.values[k]!.forEach((v, i) => {
      if (!Number.isNaN(v)) {
        arm.push(c.arm[i]!);
        values.push(v);
      }
    });
    if (values.length === 0) throw new CliError(`metric '${name}' has no values`);
    const kind = kinds[k] ?? (values.every((v) => v === 0 || v === 1) ? 'binary' : 'continuous');
    return { name, kind, variants: c.variants, arm, values };
  });
}

function table(r: AbReport): string {
  const arms = r.metrics.map((m) =>
    formatTable(m.arms, [
      { header: `${m.name} (${m.kind})`, get: (a) => a.variant },
      { header: 'n', get: (a) => a.n, align: 'right' },
      { header: m.kind === 'binary' ? 'rate' : 'mean', get: (a) => a.mean, align: 'right' },
      { header: 'std', get: (a) => a.std, align: 'right' },
      ...(['p50', 'p95', 'p99'] as const).map((p) => ({ header: p, get: (a: (typeof m.arms)[number]) => a.percentiles?.[p], align: 'right' as const })),
    ]),
  );
  const ci = (c: Comparison) => `${formatNumber(c.absolute.estimate)} [${formatNumber(c.absolute.lower)}, ${formatNumber(c.absolute.upper)}]`;
  const comps = formatTable(r.comparisons, [
    { header: 'metric', get: (c) => c.metric },
    { header: 'treatment', get: (c) => c.treatment },
    { header: 'difference [95% CI]', get: ci },
    { header: 'relative', get: (c) => (c.relative ? `${formatNumber(c.relative.estimate * 100)}%` : '') , align: 'right' },
    { header: 'p', get: (c) => c.sequential?.pValue ?? c.pValue, align: 'right' },
    { header: 'p (Holm)', get: (c) => c.adjustedPValue, align: 'right' },
    { header: 'verdict', get: (c) => c.verdict },
  ]);
  const srm = `SRM check: χ² = ${formatNumber(r.srm.statistic)}, p = ${formatNumber(r.srm.pValue)} ${r.srm.mismatch ? '→ MISMATCH (p < 0.001)' : '(ok)'}`;
  return [...arms, srm, `control: ${r.control}`, comps, ...r.comparisons.map((c) => `${c.metric}/${c.treatment}: ${c.reason}`)].join('\n\n');
}

export function registerAb(program: Command): void {
  const ab = program.command('ab').description('A/B tests: analysis of a CSV, and online experiments of the running backend');
  registerLiveAb(ab, () => program.opts<{ home: string }>().home);
  ab.command('analyze')
    .description('compare each variant with the control: t/z tests, intervals, SRM, Holm-Bonferroni, verdicts')
    .requiredOption('--data <csv>', 'one row per observation, with a header row')
    .requiredOption('--variant-column <col>', 'column naming the variant of each row')
    .requiredOption('--metric-column <cols>', 'metric column (comma-separated for several; Holm-Bonferroni across them)')
    .option('--kind <kind>', 'continuous | binary (default: binary when every value is 0/1)')
    .option('--control <name>', "control variant (default: 'control' if present, else the first name in sort order)")
    .option('--split <shares>', 'intended split for the SRM check, e.g. control=50,treatment=50 (default: equal)')
    .option('--alpha <a>', `significance level (default ${AB_DEFAULTS.alpha})`)
    .option('--lower-is-better', 'a lower metric value is the better one')
    .option('--sequential', 'always-valid mSPRT p-values and confidence sequences, rows taken in file order')
    .option('--tuning-n <n>', `per-arm sample size where the sequential test is tightest (default ${AB_DEFAULTS.tuningN})`)
    .option('--json', 'machine-readable output')
    .action(async (o: AnalyzeOptions) => {
      if (o.kind !== undefined && o.kind !== 'continuous' && o.kind !== 'binary') throw new CliError(`--kind must be continuous or binary, got '${o.kind}'`, 2);
      const names = o.metricColumn.split(',').map((s) => s.trim()).filter(Boolean);
      const kinds = names.map(() => o.kind as MetricKind | undefined);
      const opts = {
        ...(o.control ? { control: o.control } : {}),
        ...(o.split ? { split: parseSplit(o.split)! } : {}),
        alpha: number('--alpha', o.alpha, 0, 1) ?? AB_DEFAULTS.alpha,
        tuningN: number('--tuning-n', o.tuningN, 1, Infinity) ?? AB_DEFAULTS.tuningN,
        higherIsBetter: !o.lowerIsBetter,
        sequential: o.sequential ?? false,
      };
      const collected = await collect(o.data, o.variantColumn, names, kinds);
      let report: AbReport;
      try {
        report = analyzeAb(toMetrics(collected, names, kinds), opts);
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError((e as Error).message);
      }
      emit(o.json ?? false, report, () => table(report));
    });
  ab.command('sample-size')
    .description('observations per arm for a two-sided two-proportion z-test (equal arms)')
    .requiredOption('--baseline <p>', 'control conversion rate, e.g. 0.10')
    .requiredOption('--target <p>', 'treatment conversion rate to detect, e.g. 0.12')
    .option('--alpha <a>', 'significance level (default 0.05)')
    .option('--power <p>', 'power (default 0.8)')
    .option('--json', 'machine-readable output')
    .action((o: { baseline: string; target: string; alpha?: string; power?: string; json?: boolean }) => {
      const p1 = number('--baseline', o.baseline, 0, 1)!;
      const p2 = number('--target', o.target, 0, 1)!;
      const alpha = number('--alpha', o.alpha, 0, 1) ?? 0.05;
      const power = number('--power', o.power, 0, 1) ?? 0.8;
      if (p1 === p2) throw new CliError('--baseline and --target must differ', 2);
      const perArm = sampleSizeTwoProportions(p1, p2, alpha, power);
      emit(o.json ?? false, { baseline: p1, target: p2, alpha, power, perArm, total: 2 * perArm }, () => `${perArm} per arm (${2 * perArm} in total) to detect ${p1} → ${p2} at α = ${alpha} with power ${power}`);
    });
}
