import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
/** How every CLI command reports: tables for people, JSON for scripts, one clear message and exit 1 on failure. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface Column<T> {
  header: string;
  get: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right';
}

export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cellText(c.get(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

function cellText(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : formatNumber(v);
  return v;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(6)));
}

/** Prints rows as a table, or as JSON when asked. */
export function emit<T>(json: boolean, data: T, table: () => string): void {
  process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : table() + '\n');
}

export const fmtTime = (ms: number | null | undefined): string =>
  ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '';

/** An mlops.yaml-style file read and parsed for the CLI: a missing, oversized (> 1 MiB) or unparsable file is a usage error. */
export function readYamlFile(file: string): unknown {
  if (!existsSync(file)) throw new CliError(`no file at ${file}`, 2);
  if (statSync(file).size > 1_048_576) throw new CliError(`${file} is over 1 MiB`, 2);
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`, 2);
  }
}
