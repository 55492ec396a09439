import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { invalid } from '../../util/errors';
import type { LoadedModel } from './model';

export interface BatchProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export interface BatchResult {
  rows: number;
  seconds: number;
}

/**
 * Scores a CSV file of any size: parses it as a stream, runs the model on batches of rows, and writes the input
 * columns plus `prediction`. Memory stays at one batch whatever the file size.
 */
export async function predictCsv(model: LoadedModel, input: string, output: string, o: { batchSize?: number; onProgress?: (p: BatchProgress) => void } = {}): Promise<BatchResult> {
  const st = await stat(input).catch(() => null);
  if (!st?.isFile()) throw invalid(`Input file '${input}' does not exist`);
  const batchSize = o.batchSize ?? 1024;
  const t0 = Date.now();
  const source = createReadStream(input);
  let header: string[] | null = null;
  let batch: unknown[][] = [];
  let rows = 0;
  const report = () => o.onProgress?.({ bytesRead: source.bytesRead, totalBytes: st.size, rows });
  const flush = async (push: (chunk: unknown) => void): Promise<void> => {
    if (batch.length === 0) return;
    const rowsNow = batch;
    batch = [];
    let predictions: unknown[];
    try {
      predictions = (await model.predict({ kind: 'table', columns: header, rows: rowsNow })).predictions;
    } catch (err) {
      throw invalid(`Rows ${rows + 1}-${rows + rowsNow.length} of '${input}': ${(err as Error).message}`);
    }
    rowsNow.forEach((r, i) => push([...r, formatPrediction(predictions[i])]));
    rows += rowsNow.length;
    report();
  };
  const scorer = new Transform({
    objectMode: true,
    transform(record: unknown[], _enc, done: TransformCallback) {
      if (header === null) {
        header = record.map(String);
        this.push([...header, 'prediction']);
        return done();
      }
      batch.push(record);
      if (batch.length < batchSize) return done();
      flush((c) => this.push(c)).then(() => done(), done);
    },
    flush(done: TransformCallback) {
      flush((c) => this.push(c)).then(() => done(), done);
    },
  });
  await pipeline(source, parse({ cast: true, skip_empty_lines: true, trim: true }), scorer, stringify(), createWriteStream(output));
  if (header === null) throw invalid(`Input file '${input}' is empty; expected a header row of feature names`);
  report();
  return { rows, seconds: (Date.now() - t0) / 1000 };
}

function formatPrediction(p: unknown): string | number {
  if (typeof p === 'number' || typeof p === 'string') return p;
  return JSON.stringify(p);
}
