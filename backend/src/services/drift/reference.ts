/**
 * Reference profiles from training data: a CSV with a header row (streamed, any size) or a profile written by
 * `mlops drift profile`. When the model's signature names its features, the profile keeps only those columns, so
 * a label or id column in the training file does not show up as a feature missing from the served inputs.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { ColumnCollector, StatsInputError, buildReferenceProfile, parseProfile, type RawColumn, type ReferenceProfile } from '../stats';

export interface BuiltProfile {
  profile: ReferenceProfile;
  rows: number | null;
}

/** Bad training data: the message names the file, line and feature. */
export class ReferenceError extends Error {}

/** Profiles a CSV stream (or file path); `label` names it in messages. */
export async function profileFromCsv(input: Readable | string, label: string, features: readonly string[] | null): Promise<BuiltProfile> {
  const source = typeof input === 'string' ? createReadStream(input) : input;
  const parser = source.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  source.on('error', (e: Error) => parser.destroy(e));
  let collector: ColumnCollector | null = null;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // Served inputs are numbers, so the model's features are numeric columns: text in one is an error, not a category.
      if (!collector) collector = new ColumnCollector(label, item.record, features ? new Map(features.map((f) => [f, 'numeric' as const])) : undefined);
      else collector.add(item.record, item.info.lines);
    }
  } catch (err) {
    if (err instanceof StatsInputError) throw new ReferenceError(err.message);
    const e = err as NodeJS.ErrnoException;
    throw new ReferenceError(e.code === 'ENOENT' ? `${label}: no such file` : `${label}: malformed CSV: ${e.message}`);
  }
  if (!collector) throw new ReferenceError(`${label} is empty: expected a header row`);
  if (collector.rowCount === 0) throw new ReferenceError(`${label} has a header but no rows`);
  const columns = onlyFeatures(collector.columns(), features, label);
  try {
    return { profile: buildReferenceProfile(columns), rows: collector.rowCount };
  } catch (err) {
    throw new ReferenceError((err as Error).message);
  }
}

export function profileFromCsvText(text: string, label: string, features: readonly string[] | null): Promise<BuiltProfile> {
  return profileFromCsv(Readable.from([text]), label, features);
}

/** Checks a profile's JSON (object or text) and keeps the model's features. */
export function profileFromJson(json: unknown, label: string, features: readonly string[] | null): BuiltProfile {
  let p: ReferenceProfile;
  try {
    p = parseProfile(typeof json === 'string' ? json : JSON.stringify(json));
  } catch (err) {
    throw new ReferenceError(`${label}: ${(err as Error).message}`);
  }
  if (features) {
    const missing = features.filter((f) => !(f in p.features) && !(p.empty ?? []).includes(f));
    if (missing.length === features.length) throw new ReferenceError(`${label} describes none of the model's features (${features.join(', ')})`);
    p = { ...p, features: Object.fromEntries(Object.entries(p.features).filter(([k]) => features.includes(k))) };
  }
  const counts = Object.values(p.features).map((f) => f.count + f.missing);
  return { profile: p, rows: counts.length ? Math.max(...counts) : null };
}

function onlyFeatures(columns: Map<string, RawColumn>, features: readonly string[] | null, label: string): Map<string, RawColumn> {
  if (!features) return columns;
  const missing = features.filter((f) => !columns.has(f));
  if (missing.length) throw new ReferenceError(`${label} has no column ${missing.map((m) => `'${m}'`).join(', ')}; the model's features are ${features.join(', ')}`);
  return new Map(features.map((f) => [f, columns.get(f)!]));
}
