import { invalid } from '../../util/errors';
import type { Clause } from './filter';

export type Arg = string | number | null;

/**
 * One comparison as SQL. `kind` says how the column compares: numbers take numeric operators, strings take
 * = != LIKE ILIKE (and IN lists where `allowIn`). LIKE is case-sensitive as in MLflow (SQLite's own LIKE is not),
 * so both go through functions registered in db.ts.
 */
export function compare(col: string, c: Clause, kind: 'num' | 'str', args: Arg[], what: string, allowIn = false): string {
  const { op, value } = c;
  if (op === 'IS NULL' || op === 'IS NOT NULL') return `${col} ${op}`;
  if (kind === 'num') {
    if (!['=', '!=', '<', '<=', '>', '>='].includes(op)) throw invalid(`Invalid comparator '${op}' for ${what}; use one of = != < <= > >=`);
    const n = typeof value === 'number' ? value : Number(value);
    if (typeof value !== 'number' && (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n))) {
      throw invalid(`Expected a numeric value for ${what}, got '${String(value)}'`);
    }
    args.push(n);
    return `${col} ${op} ?`;
  }
  if (op === 'IN' || op === 'NOT IN') {
    if (!allowIn) throw invalid(`Invalid comparator '${op}' for ${what}`);
    const list = value as string[];
    args.push(...list);
    return `${col} ${op} (${list.map(() => '?').join(', ')})`;
  }
  if (!['=', '!=', 'LIKE', 'ILIKE'].includes(op)) throw invalid(`Invalid comparator '${op}' for ${what}; use one of = != LIKE ILIKE`);
  if (typeof value !== 'string') throw invalid(`Expected a quoted string value for ${what}, got ${String(value)}`);
  args.push(value);
  if (op === 'LIKE') return `mlflow_like(${col}, ?)`;
  if (op === 'ILIKE') return `mlflow_ilike(${col}, ?)`;
  return `${col} ${op} ?`;
}
