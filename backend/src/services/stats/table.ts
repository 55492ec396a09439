/**
 * Turns CSV records (arrays of strings, fed one at a time) into typed columns, with the rules every CLI path
 * shares. Missing: an empty cell or NA, N/A, NaN, nan, null, NULL, None. Numbers: decimal or scientific notation;
 * ±Infinity is an error. A reference column is numeric until it meets a non-numeric value, then categorical (the
 * numbers seen so far become category labels). In the current data a column keeps the reference's type, and text in
 * a numeric column is an error naming the line and feature.
 */
import type { RawColumn } from './dataset';
import { StatsInputError } from './dataset';

const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITE = /^[+-]?(inf|infinity)$/i;

export type Cell = { kind: 'missing' } | { kind: 'infinite' } | { kind: 'number'; value: number } | { kind: 'text'; value: string };

export function parseCell(raw: string): Cell {
  const s = raw.trim();
  if (MISSING.has(s)) return { kind: 'missing' };
  if (NUMBER.test(s)) {
    const value = Number(s);
    if (Number.isFinite(value)) return { kind: 'number', value };
  }
  if (INFINITE.test(s) || NUMBER.test(s)) return { kind: 'infinite' };
  return { kind: 'text', value: s };
}

class NumberBuffer {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

interface Collecting {
  kind: 'numeric' | 'categorical';
  numbers: NumberBuffer;
  counts: Map<string, number>;
  missing: number;
  fixed: boolean;
}

export class ColumnCollector {
  readonly header: string[];
  private readonly cols: Collecting[];
  private rows = 0;

  /**
   * @param label names the file in errors ('reference', 'current').
   * @param types fixed column kinds (the reference's), or undefined to infer them.
   * @param categorical columns to treat as categorical whatever their values look like.
   */
  constructor(
    readonly label: string,
    header: readonly string[],
    types?: ReadonlyMap<string, 'numeric' | 'categorical'>,
    categorical: ReadonlySet<string> = new Set(),
  ) {
    this.header = header.map((h) => h.trim());
    const seen = new Set<string>();
    this.header.forEach((h, i) => {
      if (h === '') throw new StatsInputError(`${label}: column ${i + 1} of the header row has no name`);
      if (seen.has(h)) throw new StatsInputError(`${label}: column '${h}' appears twice in the header row`);
      seen.add(h);
    });
    this.cols = this.header.map((h) => {
      const fixedKind = types?.get(h) ?? (categorical.has(h) ? 'categorical' : undefined);
      return { kind: fixedKind ?? 'numeric', numbers: new NumberBuffer(), counts: new Map(), missing: 0, fixed: fixedKind !== undefined };
    });
  }

  /** Adds one record; `line` is its line number in the file, for messages. */
  add(record: readonly string[], line: number): void {
    this.rows++;
    if (record.length !== this.header.length) {
      throw new StatsInputError(`${this.label}: line ${line} has ${record.length} fields but the header has ${this.header.length}`);
    }
    for (let i = 0; i < record.length; i++) {
      const col = this.cols[i]!;
      const cell = parseCell(record[i]!);
      if (cell.kind === 'missing') col.missing++;
      else if (col.kind === 'categorical') bump(col.counts, record[i]!.trim());
      else if (cell.kind === 'number') col.numbers.push(cell.value);
      else if (cell.kind === 'infinite') throw new StatsInputError(`${this.label}: line ${line}, feature '${this.header[i]}': infinite value '${record[i]}' (remove it or leave the cell empty)`);
      else if (col.fixed) throw new StatsInputError(`${this.label}: line ${line}, feature '${this.header[i]}': '${cell.value}' is not a number`);
      else {
        col.kind = 'categorical';
        for (const v of col.numbers.values()) bump(col.counts, String(v));
        col.numbers = new NumberBuffer();
        bump(col.counts, cell.value);
      }
    }
  }

  get rowCount(): number {
    return this.rows;
  }

  columns(): Map<string, RawColumn> {
    const out = new Map<string, RawColumn>();
    this.header.forEach((h, i) => {
      const c = this.cols[i]!;
      out.set(h, c.kind === 'numeric' ? { kind: 'numeric', values: c.numbers.values(), missing: c.missing } : { kind: 'categorical', counts: c.counts, missing: c.missing });
    });
    return out;
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}
