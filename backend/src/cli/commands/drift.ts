import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse } from 'csv-parse';
import {
  ColumnCollector, DEFAULT_SKETCH_SIZE, DEFAULT_THRESHOLDS, StatsInputError, buildReferenceProfile, currentColumns,
  driftReport, parseProfile, serializeProfile,
} from '../../services/stats';
import type { DriftReport, DriftThresholds, FeatureDrift, MethodName, ReferenceProfile } from '../../services/stats';
import { CliError, emit, formatNumber, formatTable } from '../output';

/**
 * Streams a CSV file with a header row: `onHeader` gets the header, `onRecord` each record with its line number.
 * Errors (missing file, malformed CSV, bad values) become one CliError naming the file and line.
 */
export async function streamCsv(file: string, onHeader: (header: string[]) => void, onRecord: (record: string[], line: number) => void): Promise<number> {
  const source = createReadStream(file);
  const parser = source.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  source.on('error', (e) => parser.destroy(e));
  let rows = -1;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (rows === -1) onHeader(item.record);
      else onRecord(item.record, item.info.lines);
      rows++;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof StatsInputError) throw new CliError(err.message);
    if (e.code === 'ENOENT') throw new CliError(`cannot read ${file}: no such file`);
    if (e.code === 'EISDIR') throw new CliError(`cannot read ${file}: it is a folder`);
    throw new CliError(`${file}: malformed CSV: ${e.message}`);
  }
  if (rows === -1) throw new CliError(`${file} is empty: expected a header row`);
  return rows;
}

async function readColumns(file: string, types?: ReadonlyMap<string, 'numeric' | 'categorical'>, categorical?: ReadonlySet<string>): Promise<ColumnCollector> {
  let collector: ColumnCollector | undefined;
  await streamCsv(file, (h) => (collector = new ColumnCollector(file, h, types, categorical)), (r, line) => collector!.add(r, line));
  return collector!;
}

interface CheckOptions {
  reference?: string;
  profile?: string;
  current: string;
  json?: boolean;
  categorical?: string;
  psi?: string;
  pValue?: string;
  wasserstein?: string;
  js?: string;
  minVotes?: string;
  driftShare?: string;
  bonferroni?: boolean;
  /** false with --no-size-aware. */
  sizeAware?: boolean;
}

function num(flag: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) throw new CliError(`${flag} must be a number in [${lo}, ${hi}], got '${v}'`, 2);
  return x;
}

function thresholdsFrom(o: CheckOptions): Partial<DriftThresholds> {
  const t: Partial<DriftThresholds> = {};
  const set = <K extends keyof DriftThresholds>(k: K, v: DriftThresholds[K] | undefined) => {
    if (v !== undefined) t[k] = v;
  };
  set('psi', num('--psi', o.psi, 0, Infinity));
  set('pValue', num('--p-value', o.pValue, 0, 1));
  set('wassersteinNorm', num('--wasserstein', o.wasserstein, 0, Infinity));
  set('jensenShannon', num('--js', o.js, 0, 1));
  set('minVotes', num('--min-votes', o.minVotes, 1, 4));
  set('datasetShare', num('--drift-share', o.driftShare, 0, 1));
  if (o.bonferroni) t.bonferroni = true;
  if (o.sizeAware === false) t.sampleSizeAware = false;
  return t;
}

const splitList = (s?: string): Set<string> => new Set((s ?? '').split(',').map((x) => x.trim()).filter(Boolean));

async function check(o: CheckOptions): Promise<DriftReport> {
  if (!o.reference === !o.profile) throw new CliError('give exactly one of --reference REF.csv or --profile PROFILE.json', 2);
  const thresholds = thresholdsFrom(o);
  let profile: ReferenceProfile;
  if (o.profile) {
    const text = await readFile(o.profile, 'utf8').catch(() => {
      throw new CliError(`cannot read ${o.profile}`);
    });
    try {
      profile = parseProfile(text);
    } catch (e) {
      throw new CliError(`${o.profile}: ${(e as Error).message}`);
    }
  } else {
    const ref = await readColumns(o.reference!, undefined, splitList(o.categorical));
    if (ref.rowCount === 0) throw new CliError(`${o.reference} has a header but no rows`);
    profile = buildReferenceProfile(ref.columns(), Infinity);
  }
  const types = new Map(Object.entries(profile.features).map(([k, f]) => [k, f.kind]));
  const cur = await readColumns(o.current, types, splitList(o.categorical));
  if (cur.rowCount === 0) throw new CliError(`${o.current} has a header but no rows`);
  try {
    return driftReport(profile, currentColumns(cur.columns()), thresholds);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

const SHOWN: MethodName[] = ['psi', 'ks', 'wasserstein_norm', 'jensen_shannon', 'chi2'];
const HEADERS: Record<MethodName, string> = { psi: 'PSI', ks: 'KS p', wasserstein_norm: 'Wass/σ', jensen_shannon: 'JS', chi2: 'χ² p' };

function cell(f: FeatureDrift, m: MethodName): string {
  const r = f.methods.find((x) => x.method === m);
  if (!r) return '';
  return `${formatNumber(r.pValue ?? r.score)}${r.drift ? '*' : ''}`;
}

function table(r: DriftReport): string {
  const rows = formatTable(r.features, [
    { header: 'feature', get: (f) => f.feature },
    { header: 'kind', get: (f) => f.kind },
    ...SHOWN.map((m) => ({ header: HEADERS[m], get: (f: FeatureDrift) => cell(f, m), align: 'right' as const })),
    { header: 'votes', get: (f) => `${f.votes}/${f.methods.length}`, align: 'right' },
    { header: 'drift', get: (f) => (f.drift ? 'DRIFT' : 'ok') },
  ]);
  const t = r.thresholds;
  const lines = [
    rows,
    `* = method says drift (PSI > ${t.psi}; KS/χ² p < ${t.pValue}${t.bonferroni ? ' / features (Bonferroni)' : ''}; Wass/σ ≥ ${t.wassersteinNorm}; JS ≥ ${t.jensenShannon}${t.sampleSizeAware ? '; distance thresholds rise above these floors for small samples, see --json' : ''}); a feature drifts with ≥ ${t.minVotes} votes`,
    ...r.skipped.map((s) => `skipped ${s.feature}: ${s.reason}`),
    `dataset: ${r.drift ? 'DRIFT' : 'no drift'} (${r.driftedFeatures}/${r.features.length} features drifted, share ${formatNumber(r.driftedShare)}; threshold ${t.datasetShare})`,
  ];
  return lines.join('\n');
}

export function registerDrift(program: Command): void {
  const drift = program.command('drift').description('data drift between a reference and a current dataset (CSV with a header row)');
  drift
    .command('check')
    .description('per feature PSI, KS, Wasserstein, Jensen-Shannon (numeric) or PSI, chi-square, JS (categorical); ensemble and dataset verdicts')
    .option('--reference <csv>', 'reference (training) data')
    .option('--profile <json>', 'a reference profile from `mlops drift profile`, instead of --reference')
    .requiredOption('--current <csv>', 'current data')
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .option('--psi <x>', `PSI threshold (default ${DEFAULT_THRESHOLDS.psi})`)
    .option('--p-value <x>', `KS / chi-square p-value threshold (default ${DEFAULT_THRESHOLDS.pValue})`)
    .option('--wasserstein <x>', `normalised Wasserstein threshold (default ${DEFAULT_THRESHOLDS.wassersteinNorm})`)
    .option('--js <x>', `Jensen-Shannon distance threshold (default ${DEFAULT_THRESHOLDS.jensenShannon})`)
    .option('--min-votes <n>', `methods that must agree for a feature to drift (default ${DEFAULT_THRESHOLDS.minVotes})`)
    .option('--drift-share <x>', `share of drifted features for dataset drift (default ${DEFAULT_THRESHOLDS.datasetShare})`)
    .option('--bonferroni', 'divide the p-value threshold by the number of features')
    .option('--no-size-aware', 'keep the PSI, Wasserstein and JS thresholds fixed instead of raising them to their no-change 99th percentile on small samples (on by default)')
    .option('--json', 'machine-readable output')
    .action(async (o: CheckOptions) => {
      const report = await check(o);
      emit(o.json ?? false, report, () => table(report));
    });
  drift
    .command('profile')
    .description('compute a compact reference profile (JSON) once, for later checks with --profile')
    .requiredOption('--reference <csv>', 'reference (training) data')
    .requiredOption('--out <json>', 'where to write the profile')
    .option('--sketch-size <m>', `quantile-sketch points per numeric feature (KS error < 1/m; default ${DEFAULT_SKETCH_SIZE})`)
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .action(async (o: { reference: string; out: string; sketchSize?: string; categorical?: string }) => {
      const m = num('--sketch-size', o.sketchSize, 16, 1e7) ?? DEFAULT_SKETCH_SIZE;
      const ref = await readColumns(o.reference, undefined, splitList(o.categorical));
      if (ref.rowCount === 0) throw new CliError(`${o.reference} has a header but no rows`);
      const profile = buildReferenceProfile(ref.columns(), Math.round(m));
      await writeFile(o.out, serializeProfile(profile));
      process.stdout.write(`wrote ${o.out}: ${Object.keys(profile.features).length} features from ${ref.rowCount} rows\n`);
    });
}
