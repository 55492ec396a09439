import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../store/db';
import { invalid } from '../../util/errors';
import type { RetrainPolicy } from './policy';

export interface ExportedData {
  train: string;
  holdout: string;
  features: string[];
  /** Labelled rows from the prediction log, and rows appended from the policy's base file. */
  logged_rows: number;
  base_rows: number;
  holdout_rows: number;
  /** Logged requests left out: no single row per label, or other feature columns than the newest. */
  skipped: number;
}

const MAX_BASE_BYTES = 256 * 1024 * 1024;

const csvCell = (v: unknown): string => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * The built-in data step: the endpoint's labelled prediction log (features + feedback labels; newest first, at most
 * max_rows, only the last window_hours when set) written as train.csv and holdout.csv (every n-th row) in `dir`,
 * the policy's base file appended to train.csv. Columns: the model's features, then the label column.
 */
export function exportTrainingData(db: Db, p: RetrainPolicy, dir: string, nowMs: number): ExportedData {
  mkdirSync(dir, { recursive: true });
  const since = p.data.window_hours > 0 ? nowMs - p.data.window_hours * 3_600_000 : 0;
  const rows = db
    .prepare('SELECT features, label FROM prediction_log WHERE endpoint = ? AND label IS NOT NULL AND ts >= ? ORDER BY id DESC LIMIT ?')
    .iterate(p.endpoint, since, p.data.max_rows) as IterableIterator<{ features: string; label: string }>;
  let features: string[] | null = null;
  const lines: string[] = [];
  let skipped = 0;
  for (const r of rows) {
    const f = JSON.parse(r.features) as { columns?: string[]; rows?: number[][] } | null;
    const label = JSON.parse(r.label) as unknown;
    if (!f?.columns || !f.rows) {
      skipped++;
      continue;
    }
    features ??= f.columns;
    if (f.columns.join('\u0000') !== features.join('\u0000')) {
      skipped++;
      continue;
    }
    const labels = f.rows.length === 1 && !Array.isArray(label) ? [label] : Array.isArray(label) && label.length === f.rows.length ? label : null;
    if (!labels) {
      skipped++;
      continue;
    }
    f.rows.forEach((row, i) => lines.push([...row, labels[i]].map(csvCell).join(',')));
  }
  if (!features) throw invalid(`Endpoint '${p.endpoint}' has no labelled predictions${since ? ` in the last ${p.data.window_hours} h` : ''} to train on`);
  if (lines.length < p.data.min_rows) throw invalid(`Endpoint '${p.endpoint}' has ${lines.length} labelled row(s); the policy needs at least ${p.data.min_rows}`);
  const header = [...features, p.data.label_column].map(csvCell).join(',');
  const train = join(dir, 'train.csv');
  const holdout = join(dir, 'holdout.csv');
  const tf = openSync(train, 'w', 0o600);
  const hf = openSync(holdout, 'w', 0o600);
  let holdoutRows = 0;
  let baseRows = 0;
  try {
    writeSync(tf, header + '\n');
    writeSync(hf, header + '\n');
    // Oldest first in the files.
    lines.reverse().forEach((l, i) => {
      if ((i + 1) % p.data.holdout_every === 0) {
        writeSync(hf, l + '\n');
        holdoutRows++;
      } else writeSync(tf, l + '\n');
    });
    if (p.data.base_file) {
      const size = statSync(p.data.base_file, { throwIfNoEntry: false })?.size;
      if (size === undefined) throw invalid(`data.base_file '${p.data.base_file}' does not exist`);
      if (size > MAX_BASE_BYTES) throw invalid(`data.base_file is ${size} bytes; at most ${MAX_BASE_BYTES} are read`);
      const [head, ...rest] = readFileSync(p.data.base_file, 'utf8').split(/\r?\n/);
      if (head?.trim() !== header) throw invalid(`data.base_file's header '${head ?? ''}' is not the log's '${header}'`);
      for (const l of rest) {
        if (!l.trim()) continue;
        writeSync(tf, l + '\n');
        baseRows++;
      }
    }
  } finally {
    closeSync(tf);
    closeSync(hf);
  }
  return { train, holdout, features, logged_rows: lines.length, base_rows: baseRows, holdout_rows: holdoutRows, skipped };
}
