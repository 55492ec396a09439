import type { UiTableColumns, UiTableRun } from '../../../backend/src/api/v1/contract-table';

/** Attribute columns every table has, before the chosen params/metrics/tags; sortable like them. */
export const ATTRIBUTES = [
  { key: 'run_name', label: 'Run' },
  { key: 'status', label: 'Status' },
  { key: 'start_time', label: 'Started' },
] as const;

/** Columns shown before the user chooses: every metric, then params, at most this many in all. */
export const DEFAULT_COLUMNS = 60;

export function defaultColumns(a: UiTableColumns): string[] {
  return [...a.metrics.map((k) => `metrics.${k}`), ...a.params.map((k) => `params.${k}`)].slice(0, DEFAULT_COLUMNS);
}

/** `metrics.val.acc` → { entity: 'metrics', key: 'val.acc' } (the entity never has a dot). */
export function splitColumn(c: string): { entity: string; key: string } {
  const dot = c.indexOf('.');
  return { entity: c.slice(0, dot), key: c.slice(dot + 1) };
}

type Cell = number | string | null;

function cellOf(r: UiTableRun, key: string, index: ReadonlyMap<string, number>): Cell {
  if (key === 'run_name') return r.name;
  if (key === 'status') return r.status;
  if (key === 'start_time') return r.start_time;
  const i = index.get(key);
  return i === undefined ? null : (r.values[i] ?? null);
}

/**
 * Sorts rows as the backend's MLflow search orders them, so a sort done here (all rows loaded) and one done by the
 * server (rows still to come) agree: values first and missing ones last in both directions, numbers by value,
 * text by code unit; ties by newest start, then run id.
 */
export function sortRows(runs: readonly UiTableRun[], columns: readonly string[], sort: { key: string; asc: boolean }): UiTableRun[] {
  const index = new Map(columns.map((c, i) => [c, i]));
  const dir = sort.asc ? 1 : -1;
  const keyed = runs.map((r) => ({ r, v: cellOf(r, sort.key, index) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) {
      if (a.v !== b.v) return a.v === null ? 1 : -1;
    } else if (a.v !== b.v) return (a.v < b.v ? -1 : 1) * dir;
    if (sort.key !== 'start_time' && a.r.start_time !== b.r.start_time) return b.r.start_time - a.r.start_time;
    return a.r.run_id < b.r.run_id ? -1 : a.r.run_id > b.r.run_id ? 1 : 0;
  });
  return keyed.map((k) => k.r);
}

/** MLflow's order_by for a sort key (the server's half of sortRows): keys are quoted, so dots and spaces are safe. */
export function orderBy(sort: { key: string; asc: boolean }): string {
  const dir = sort.asc ? 'ASC' : 'DESC';
  if (sort.key === 'start_time') return `start_time ${dir}`;
  if (sort.key === 'run_name' || sort.key === 'status') return `attributes.${sort.key} ${dir}`;
  const { entity, key } = splitColumn(sort.key);
  return `${entity}.\`${key}\` ${dir}`;
}

/** The row indexes to draw for a scroll position: the visible window plus `overscan` rows either side. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}

/** The columns whose every logged value is a number (metrics always; params such as lr or depth): plot axes. */
export function numericColumns(runs: readonly UiTableRun[], columns: readonly string[]): string[] {
  return columns.filter((c, i) => {
    if (c.startsWith('metrics.')) return true;
    let seen = false;
    for (const r of runs) {
      const v = r.values[i];
      if (v === null || v === undefined) continue;
      if (typeof v === 'string' && (v.trim() === '' || !Number.isFinite(Number(v)))) return false;
      seen = true;
    }
    return seen;
  });
}

export function numberAt(r: UiTableRun, i: number): number | null {
  const v = r.values[i];
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}
