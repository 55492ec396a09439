import type { Db } from './db';
import type { Page, Run, ViewType } from './types';
import type { RunRepo, RunRow } from './runs';
import { invalid } from '../util/errors';
import { decodePageToken, encodePageToken, own, parseFilter, parseOrderBy, type Clause, type OrderClause } from './search/filter';
import { compare, type Arg } from './search/sql';
import { parseExperimentId } from './experiments';

export interface RunSearch {
  experimentIds: unknown[];
  filter?: string;
  viewType?: ViewType;
  maxResults?: number;
  orderBy?: string[];
  pageToken?: string;
}

const STRING_ATTRS: Record<string, string> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  'run name': 'r.name',
  user_id: 'r.user_id',
  status: 'r.status',
  artifact_uri: 'r.artifact_uri',
  lifecycle_stage: 'r.lifecycle_stage',
};
const NUM_ATTRS: Record<string, string> = { start_time: 'r.start_time', end_time: 'r.end_time', created: 'r.start_time' };
const DATASET_COLS: Record<string, string> = { name: 'd.name', digest: 'd.digest', context: 'i.tags' };
/** Each metric, param or tag named is one join, and SQLite joins at most 64 tables. */
const MAX_KEYS = 50;

/**
 * Compiles MLflow's runs filter and order_by to one SQL query. Each metric, param or tag named gets its own join
 * (latest_metrics, params, tags by (run, key)); SQLite turns the LEFT JOIN into an inner one when WHERE needs a
 * value, and the (key, is_nan, value) index serves filters and sorts on one metric across many runs.
 */
export class RunSearcher {
  constructor(
    private readonly db: Db,
    private readonly runs: RunRepo,
  ) {}

  search(q: RunSearch): Page<Run> {
    const max = q.maxResults ?? 1000;
    const c = this.compile(q, max);
    if (!c) return { items: [] };
    const rows = this.db.prepare(`SELECT r.* FROM runs r ${c.from} WHERE ${c.where} ORDER BY ${c.order} LIMIT ? OFFSET ?`).all(...c.args, max + 1, c.offset) as RunRow[];
    const page: Page<Run> = { items: this.runs.hydrate(rows.slice(0, max)) };
    if (rows.length > max) page.next_page_token = encodePageToken(c.offset + max);
    return page;
  }

  /**
   * The same search, projected: `select` (columns of `runs r`) for one page of matching runs, as arrays, and how
   * many runs match in all. The experiments table reads its rows this way instead of hydrating every run.
   */
  project(q: RunSearch, select: string): { rows: unknown[][]; total: number; next_page_token?: string } {
    const max = q.maxResults ?? 1000;
    const c = this.compile(q, max);
    if (!c) return { rows: [], total: 0 };
    const rows = this.db.prepare(`SELECT ${select} FROM runs r ${c.from} WHERE ${c.where} ORDER BY ${c.order} LIMIT ? OFFSET ?`).raw().all(...c.args, max + 1, c.offset) as unknown[][];
    const total = this.db.prepare(`SELECT COUNT(*) FROM runs r ${c.from} WHERE ${c.where}`).pluck().get(...c.args) as number;
    const out: { rows: unknown[][]; total: number; next_page_token?: string } = { rows: rows.slice(0, max), total };
    if (rows.length > max) out.next_page_token = encodePageToken(c.offset + max);
    return out;
  }

  /** FROM (joins), WHERE and ORDER BY for a search, with their bound values in order; null when no experiment is named. */
  private compile(q: RunSearch, max: number): { from: string; where: string; order: string; args: Arg[]; offset: number } | null {
    if (!Number.isInteger(max) || max < 1 || max > 50_000) throw invalid(`Invalid value ${max} for parameter 'max_results' supplied. It must be at most 50000`);
    const offset = decodePageToken(q.pageToken);
    const expIds = q.experimentIds.map((e) => parseExperimentId(e));
    if (!expIds.length) return null;
    const joins: string[] = [];
    const joinArgs: Arg[] = [];
    const where: string[] = [`r.experiment_id IN (${expIds.map(() => '?').join(',')})`];
    const args: Arg[] = [...expIds];
    const vt = q.viewType ?? 'ACTIVE_ONLY';
    if (vt === 'ACTIVE_ONLY') where.push("r.lifecycle_stage = 'active'");
    else if (vt === 'DELETED_ONLY') where.push("r.lifecycle_stage = 'deleted'");
    const aliases = new Map<string, string>();
    const joinFor = (entity: 'metric' | 'param' | 'tag', key: string): string => {
      const id = `${entity}:${key}`;
      let a = aliases.get(id);
      if (!a) {
        if (aliases.size >= MAX_KEYS) throw invalid(`A search may name at most ${MAX_KEYS} distinct metrics, params and tags in its filter and order_by together`);
        a = `j${aliases.size}`;
        aliases.set(id, a);
        const table = entity === 'metric' ? 'latest_metrics' : entity === 'param' ? 'params' : 'tags';
        joins.push(`LEFT JOIN ${table} ${a} ON ${a}.run_uuid = r.run_uuid AND ${a}.key = ?`);
        joinArgs.push(key);
      }
      return a;
    };
    const clauses = parseFilter(q.filter);
    for (const c of clauses) where.push(this.clause(c, joinFor, args));
    // A metric the filter compares is never NULL or NaN in the rows found, so its ordering needs no NULL/NaN terms;
    // then SQLite reads the (key, is_nan, value) index in order and stops at LIMIT instead of sorting every match.
    const filtered = new Set(clauses.filter((c) => c.entity === 'metric').map((c) => aliases.get(`metric:${c.key}`)));
    const orderBy = parseOrderBy(q.orderBy);
    const order = orderBy.map((o) => this.orderTerm(o, joinFor, filtered));
    if (!orderBy.some((o) => o.entity === 'attribute' && (o.key === 'start_time' || o.key === 'created'))) order.push('r.start_time DESC');
    order.push('r.run_uuid ASC');
    return { from: joins.join(' '), where: where.join(' AND '), order: order.join(', '), args: [...joinArgs, ...args], offset };
  }

  private clause(c: Clause, joinFor: (e: 'metric' | 'param' | 'tag', k: string) => string, args: Arg[]): string {
    switch (c.entity) {
      case 'metric': {
        const a = joinFor('metric', c.key);
        if (c.op === 'IS NULL' || c.op === 'IS NOT NULL') throw invalid(`Invalid comparator '${c.op}' for metric '${c.key}'`);
        return `${a}.is_nan = 0 AND ${compare(`${a}.value`, c, 'num', args, `metric '${c.key}'`)}`;
      }
      case 'param':
      case 'tag': {
        const a = joinFor(c.entity, c.key);
        return compare(`${a}.value`, c, 'str', args, `${c.entity} '${c.key}'`);
      }
      case 'attribute': {
        const str = own(STRING_ATTRS, c.key);
        if (str) {
          if ((c.op === 'IN' || c.op === 'NOT IN') && c.key !== 'run_id') throw invalid(`Invalid comparator '${c.op}' for attribute '${c.key}'; IN is only supported for run_id`);
          if (c.key === 'run_id' && Array.isArray(c.value)) c = { ...c, value: c.value.filter((v) => v === v.toLowerCase()) };
          return compare(str, c, 'str', args, `attribute '${c.key}'`, true);
        }
        const num = own(NUM_ATTRS, c.key);
        if (num) return compare(num, c, 'num', args, `attribute '${c.key}'`);
        throw invalid(`Invalid attribute key '${c.key}' specified. Valid keys are ${[...Object.keys(STRING_ATTRS), ...Object.keys(NUM_ATTRS)].join(', ')}`);
      }
      case 'dataset': {
        const col = own(DATASET_COLS, c.key);
        if (!col) throw invalid(`Invalid dataset key '${c.key}'; use name, digest or context`);
        const sub: Arg[] = [];
        let cond: string;
        if (c.key === 'context') {
          // the context is the input tag mlflow.data.context, stored in the input's JSON tags
          const ctxExpr = `(SELECT json_extract(value, '$.value') FROM json_each(i.tags) WHERE json_extract(value, '$.key') = 'mlflow.data.context')`;
          cond = compare(ctxExpr, c, 'str', sub, 'dataset context', true);
        } else cond = compare(col, c, 'str', sub, `dataset ${c.key}`, true);
        args.push(...sub);
        return `EXISTS (SELECT 1 FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid = r.run_uuid AND ${cond})`;
      }
    }
  }

  private orderTerm(o: OrderClause, joinFor: (e: 'metric' | 'param' | 'tag', k: string) => string, filtered: Set<string | undefined>): string {
    const dir = o.asc ? 'ASC' : 'DESC';
    if (o.entity === 'metric') {
      const a = joinFor('metric', o.key);
      if (filtered.has(a)) return `${a}.value ${dir}`;
      // values first (NULL and NaN last), as the reference orders them
      return `(${a}.value IS NULL), ${a}.is_nan, ${a}.value ${dir}`;
    }
    if (o.entity === 'param' || o.entity === 'tag') {
      const a = joinFor(o.entity, o.key);
      return `(${a}.value IS NULL), ${a}.value ${dir}`;
    }
    if (o.entity === 'attribute') {
      const col = own(STRING_ATTRS, o.key) ?? own(NUM_ATTRS, o.key);
      if (col) return `(${col} IS NULL), ${col} ${dir}`;
    }
    throw invalid(`Invalid order_by entity '${o.entity}.${o.key}'`);
  }
}
