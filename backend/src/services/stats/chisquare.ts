/** Chi-square tests on counts: independence/homogeneity (scipy's chi2_contingency) and goodness of fit. */
import { chi2Sf } from './special';

export interface Chi2Result {
  statistic: number;
  pValue: number;
  dof: number;
  expected: number[][];
  corrected: boolean;
}

/**
 * Pearson's chi-square test of independence on an r × c table of counts, as scipy.stats.chi2_contingency.
 * With `correction` (scipy's default) and exactly one degree of freedom, Yates' continuity correction moves each
 * observed count towards its expected count by 0.5, capped at |observed − expected| so it never overshoots.
 * Rows or columns that sum to zero make an expected count of zero: that is an error, as in scipy.
 */
export function chi2Contingency(table: readonly (readonly number[])[], correction = true): Chi2Result {
  const r = table.length;
  const c = table[0]?.length ?? 0;
  if (r === 0 || c === 0 || table.some((row) => row.length !== c)) throw new Error('contingency table must be a non-empty rectangle');
  for (const row of table) for (const v of row) if (!(v >= 0) || !Number.isFinite(v)) throw new Error('contingency table counts must be finite and ≥ 0');
  const rowSums = table.map((row) => row.reduce((a, b) => a + b, 0));
  const colSums = Array.from({ length: c }, (_, j) => table.reduce((a, row) => a + row[j]!, 0));
  const total = rowSums.reduce((a, b) => a + b, 0);
  const expected = rowSums.map((rs) => colSums.map((cs) => (rs * cs) / total));
  if (expected.some((row) => row.some((e) => e === 0))) {
    throw new Error('a row or column of the contingency table sums to zero (expected frequency 0)');
  }
  const dof = (r - 1) * (c - 1);
  if (dof === 0) return { statistic: 0, pValue: 1, dof, expected, corrected: false };
  const corrected = correction && dof === 1;
  let stat = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      const e = expected[i]![j]!;
      let o = table[i]![j]!;
      if (corrected) {
        const diff = e - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      stat += ((o - e) * (o - e)) / e;
    }
  }
  return { statistic: stat, pValue: chi2Sf(stat, dof), dof, expected, corrected };
}

/** Goodness of fit of counts to expected proportions (scipy.stats.chisquare with f_exp = total × share). */
export function chiSquareGoodnessOfFit(observed: readonly number[], shares: readonly number[]): { statistic: number; pValue: number; dof: number } {
  if (observed.length !== shares.length || observed.length < 2) throw new Error('goodness of fit needs ≥ 2 categories with one share each');
  const total = observed.reduce((a, b) => a + b, 0);
  const shareSum = shares.reduce((a, b) => a + b, 0);
  if (!(shareSum > 0) || shares.some((s) => !(s > 0))) throw new Error('expected shares must be positive');
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = (total * shares[i]!) / shareSum;
    stat += (observed[i]! - e) ** 2 / e;
  }
  const dof = observed.length - 1;
  return { statistic: stat, pValue: chi2Sf(stat, dof), dof };
}
