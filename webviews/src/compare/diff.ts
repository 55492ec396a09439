import type { UiCompareRun } from '../../../backend/src/api/v1/contract-ui';

/** Param keys whose value differs between runs (a missing value counts as different), sorted. */
export function paramColumns(runs: readonly UiCompareRun[], showUnchanged: boolean): { key: string; changed: boolean }[] {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const cols = keys.map((key) => {
    const first = runs[0]?.params[key];
    return { key, changed: runs.some((r) => r.params[key] !== first) };
  });
  return showUnchanged ? cols : cols.filter((c) => c.changed);
}

export function metricColumns(runs: readonly UiCompareRun[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.latest)))].sort();
}
