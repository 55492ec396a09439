import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parse } from 'csv-parse';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import { labelMatch } from '../serving/labels';
import { LoadedModel } from '../serving/model';
import { parseModelRef } from '../serving/ref';
import { RegistryResolver } from '../serving/resolver';
import { compareVerdict, mcnemar, pairedBootstrap, type BootstrapInterval, type CompareVerdict, type McNemar } from '../stats/paired';

export interface CompareOptions {
  /** A CSV file with a header row: the models' features plus the label column. */
  data: string;
  label?: string;
  /** Non-inferiority margin on the accuracy difference (0.01 = one percentage point). */
  margin?: number;
  alpha?: number;
  resamples?: number;
  seed?: number;
  /** Refuse a holdout with more rows than this (memory: one byte per row). */
  maxRows?: number;
}

export interface ScoredModel {
  model: string;
  correct: number;
  accuracy: number;
}

export interface CompareResult {
  champion: ScoredModel;
  challenger: ScoredModel;
  data: string;
  data_sha256: string;
  label: string;
  rows: number;
  /** Rows where both were right / both wrong. */
  both_right: number;
  both_wrong: number;
  mcnemar: McNemar;
  bootstrap: BootstrapInterval;
  margin: number;
  alpha: number;
  verdict: CompareVerdict;
  reason: string;
}

const BATCH = 1024;
export const MAX_COMPARE_ROWS = 1_000_000;
/** rows × resamples: the bootstrap's work, bounded so a request's time follows its size. */
export const MAX_BOOTSTRAP_DRAWS = 200_000_000;

/**
 * The built-in offline evaluator: champion (A) and challenger (B), two registered ONNX versions, score the same
 * labelled holdout through the serving code (same input checks, same "prediction equals label" as /metrics); the
 * accuracy of each, McNemar's exact and mid-p test on the rows they disagree on, and a seeded paired bootstrap
 * interval of acc(B) − acc(A) with a non-inferiority margin give the verdict.
 */
export async function compareModels(ctx: Pick<CoreContext, 'registry' | 'artifacts'>, championRef: string, challengerRef: string, o: CompareOptions): Promise<CompareResult> {
  const label = o.label ?? 'label';
  const margin = o.margin ?? 0.01;
  const alpha = o.alpha ?? 0.05;
  const resamples = o.resamples ?? 2000;
  const maxRows = o.maxRows ?? MAX_COMPARE_ROWS;
  if (!(margin >= 0 && margin < 1)) throw invalid(`margin must be in [0, 1), got ${margin}`);
  if (!(alpha > 0 && alpha < 1)) throw invalid(`alpha must be in (0, 1), got ${alpha}`);
  if (!Number.isInteger(resamples) || resamples < 100 || resamples > 100_000) throw invalid(`resamples must be an integer from 100 to 100000, got ${resamples}`);
  const st = await stat(o.data).catch(() => null);
  if (!st?.isFile()) throw invalid(`Holdout file '${o.data}' does not exist`);
  const resolver = new RegistryResolver(ctx);
  const a = await LoadedModel.load(await resolver.resolve(parseModelRef(championRef)));
  let b: LoadedModel | null = null;
  try {
    b = await LoadedModel.load(await resolver.resolve(parseModelRef(challengerRef)));
    const scored = await score(a, b, o.data, label, maxRows);
    if (scored.rows === 0) throw invalid(`Holdout file '${o.data}' has no data rows`);
    if (scored.rows * resamples > MAX_BOOTSTRAP_DRAWS) throw invalid(`${scored.rows} rows × ${resamples} resamples is over the bootstrap's limit of ${MAX_BOOTSTRAP_DRAWS}; use fewer resamples`);
    const test = mcnemar(scored.bOnly, scored.aOnly);
    const ci = pairedBootstrap(scored.codes, { resamples, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    const v = compareVerdict(ci, test, margin, alpha);
    const n = scored.rows;
    return {
      champion: { model: a.id, correct: scored.aRight, accuracy: scored.aRight / n },
      challenger: { model: b.id, correct: scored.bRight, accuracy: scored.bRight / n },
      data: o.data,
      data_sha256: scored.sha256,
      label,
      rows: n,
      both_right: scored.bothRight,
      both_wrong: n - scored.bothRight - scored.aOnly - scored.bOnly,
      mcnemar: test,
      bootstrap: ci,
      margin,
      alpha,
      verdict: v.verdict,
      reason: v.reason,
    };
  } finally {
    await a.dispose();
    await b?.dispose();
  }
}

interface Scored {
  rows: number;
  aRight: number;
  bRight: number;
  aOnly: number;
  bOnly: number;
  bothRight: number;
  /** Per row: +1 only B right, −1 only A right, 0 otherwise. */
  codes: Int8Array;
  sha256: string;
}

async function score(a: LoadedModel, b: LoadedModel, file: string, label: string, maxRows: number): Promise<Scored> {
  const s: Scored = { rows: 0, aRight: 0, bRight: 0, aOnly: 0, bOnly: 0, bothRight: 0, codes: new Int8Array(1024), sha256: '' };
  const hash = createHash('sha256');
  const source = createReadStream(file);
  source.on('data', (c) => hash.update(c));
  const parser = source.pipe(parse({ cast: true, skip_empty_lines: true, trim: true, relax_column_count: false, max_record_size: 1 << 20 }));
  source.on('error', (e) => parser.destroy(e));
  let features: string[] | null = null;
  let labelAt = -1;
  let batch: unknown[][] = [];
  let labels: unknown[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const frame = { kind: 'table' as const, columns: features, rows: batch };
    const where = `rows ${s.rows + 1}-${s.rows + batch.length} of '${file}'`;
    const [pa, pb] = await Promise.all([a.predict(frame), b.predict(frame)]).catch((err: Error) => {
      throw invalid(`${where}: ${err.message}`);
    });
    if (s.codes.length < s.rows + batch.length) {
      const grown = new Int8Array(Math.max(s.codes.length * 2, s.rows + batch.length));
      grown.set(s.codes);
      s.codes = grown;
    }
    for (let i = 0; i < batch.length; i++) {
      const ra = labelMatch(pa.predictions[i], labels[i])?.right === 1;
      const rb = labelMatch(pb.predictions[i], labels[i])?.right === 1;
      if (ra) s.aRight++;
      if (rb) s.bRight++;
      if (ra && rb) s.bothRight++;
      else if (ra) s.aOnly++;
      else if (rb) s.bOnly++;
      s.codes[s.rows + i] = rb === ra ? 0 : rb ? 1 : -1;
    }
    s.rows += batch.length;
    batch = [];
    labels = [];
  };
  try {
    for await (const record of parser as AsyncIterable<unknown[]>) {
      if (features === null) {
        const header = record.map(String);
        labelAt = header.indexOf(label);
        if (labelAt < 0) throw invalid(`Holdout file '${file}' has no label column '${label}' (columns: ${header.slice(0, 20).join(', ')})`);
        features = header.filter((_, i) => i !== labelAt);
        continue;
      }
      if (s.rows + batch.length >= maxRows) throw invalid(`Holdout file '${file}' has more than ${maxRows} rows`);
      labels.push(record[labelAt]);
      batch.push(record.filter((_, i) => i !== labelAt));
      if (batch.length >= BATCH) await flush();
    }
  } catch (err) {
    source.destroy();
    if ((err as { code?: string }).code?.startsWith('CSV_')) throw invalid(`Holdout file '${file}' is not a readable CSV file: ${(err as Error).message}`);
    throw err;
  }
  await flush();
  if (features === null) throw invalid(`Holdout file '${file}' is empty; expected a header row`);
  s.codes = s.codes.slice(0, s.rows);
  s.sha256 = hash.digest('hex');
  return s;
}
