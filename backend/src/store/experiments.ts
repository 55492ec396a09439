import type { Db } from './db';
import { now } from './db';
import type { Experiment, KV, Page, ViewType } from './types';
import { exists, invalid, notFound } from '../util/errors';
import { LIMITS, validateKey, validateValue } from './validation';
import { decodePageToken, encodePageToken, own, parseFilter, parseOrderBy } from './search/filter';
import { compare, type Arg } from './search/sql';

interface Row {
  experiment_id: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
}

export class ExperimentRepo {
  constructor(private readonly db: Db) {
    const t = now();
    // MLflow's SQL store pre-creates experiment "0", Default.
    db.prepare(
      `INSERT OR IGNORE INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', ?, ?)`,
    ).run(t, t);
  }

  create(name: unknown, artifactLocation?: string, tags: KV[] = []): string {
    if (typeof name !== 'string' || name.trim() === '') throw invalid("Missing value for required parameter 'name'");
    if (name.length > LIMITS.maxExperimentNameLength) throw invalid(`Experiment name is ${name.length} characters; the limit is ${LIMITS.maxExperimentNameLength}`);
    for (const t of tags) {
      validateKey(t.key, 'Experiment tag');
      validateValue(t.value, LIMITS.maxExperimentTagValueLength, 'Experiment tag');
    }
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM experiments WHERE name = ?').get(name)) {
        throw exists(`Experiment(name=${name}) already exists.`);
      }
      const t = now();
      const id = ((this.db.prepare('SELECT MAX(experiment_id) AS m FROM experiments').get() as { m: number | null }).m ?? 0) + 1;
      this.db
        .prepare('INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, name, artifactLocation || `mlflow-artifacts:/${id}`, 'active', t, t);
      const ins = this.db.prepare('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)');
      for (const tag of tags) ins.run(id, tag.key, String(tag.value));
      return String(id);
    })();
  }

  get(id: unknown): Experiment {
    const row = this.row(id);
    return this.hydrate([row])[0]!;
  }

  getByName(name: unknown): Experiment {
    if (typeof name !== 'string' || !name) throw invalid("Missing value for required parameter 'experiment_name'");
    const row = this.db.prepare('SELECT * FROM experiments WHERE name = ?').get(name) as Row | undefined;
    if (!row) throw notFound(`Could not find experiment with name ${name}`);
    return this.hydrate([row])[0]!;
  }

  /** The row, or RESOURCE_DOES_NOT_EXIST. */
  row(id: unknown): Row {
    const n = parseExperimentId(id);
    const row = this.db.prepare('SELECT * FROM experiments WHERE experiment_id = ?').get(n) as Row | undefined;
    if (!row) throw notFound(`No Experiment with id=${String(id)} exists`);
    return row;
  }

  rename(id: unknown, newName: unknown): void {
    const row = this.row(id);
    if (typeof newName !== 'string' || !newName.trim()) throw invalid("Missing value for required parameter 'new_name'");
    if (row.lifecycle_stage !== 'active') throw invalid(`Cannot rename a non-active experiment ${row.experiment_id}`);
    const other = this.db.prepare('SELECT experiment_id FROM experiments WHERE name = ?').get(newName) as { experiment_id: number } | undefined;
    if (other && other.experiment_id !== row.experiment_id) throw exists(`Experiment(name=${newName}) already exists.`);
    this.db.prepare('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?').run(newName, now(), row.experiment_id);
  }

  /** Soft delete; its active runs are deleted with it and come back with it. */
  setLifecycle(id: unknown, stage: 'active' | 'deleted'): void {
    const row = this.row(id);
    if (stage === 'deleted' && row.experiment_id === 0) throw invalid('Cannot delete the Default experiment');
    const t = now();
    this.db.transaction(() => {
      if (stage === 'deleted') {
        if (row.lifecycle_stage === 'deleted') throw invalid(`Experiment ${row.experiment_id} is already deleted`);
        this.db.prepare("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'").run(t, row.experiment_id);
      } else {
        if (row.lifecycle_stage === 'active') throw invalid(`Experiment ${row.experiment_id} is not deleted`);
        this.db
          .prepare("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND deleted_time = ?")
          .run(row.experiment_id, row.last_update_time);
      }
      this.db.prepare('UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?').run(stage, t, row.experiment_id);
    })();
  }

  setTag(id: unknown, key: unknown, value: unknown): void {
    const row = this.row(id);
    if (row.lifecycle_stage !== 'active') throw invalid(`The experiment ${row.experiment_id} must be in the 'active' state`);
    const k = validateKey(key, 'Experiment tag');
    const v = validateValue(value, LIMITS.maxExperimentTagValueLength, 'Experiment tag');
    this.db.prepare('INSERT OR REPLACE INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)').run(row.experiment_id, k, v);
  }

  deleteTag(id: unknown, key: unknown): void {
    const row = this.row(id);
    const r = this.db.prepare('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?').run(row.experiment_id, String(key));
    if (r.changes === 0) throw notFound(`No tag with key '${String(key)}' on experiment ${row.experiment_id}`);
  }

  search(opts: { filter?: string; orderBy?: string[]; maxResults?: number; pageToken?: string; viewType?: ViewType }): Page<Experiment> {
    const max = opts.maxResults ?? 1000;
    if (max < 1 || max > 50_000) throw invalid(`Invalid value ${max} for parameter 'max_results': must be between 1 and 50000`);
    const offset = decodePageToken(opts.pageToken);
    const where: string[] = [];
    const args: Arg[] = [];
    const vt = opts.viewType ?? 'ACTIVE_ONLY';
    if (vt === 'ACTIVE_ONLY') where.push("e.lifecycle_stage = 'active'");
    else if (vt === 'DELETED_ONLY') where.push("e.lifecycle_stage = 'deleted'");
    let joins = '';
    const joinArgs: Arg[] = [];
    parseFilter(opts.filter).forEach((c, i) => {
      if (c.entity === 'tag') {
        joins += ` LEFT JOIN experiment_tags t${i} ON t${i}.experiment_id = e.experiment_id AND t${i}.key = ?`;
        joinArgs.push(c.key);
        where.push(compare(`t${i}.value`, c, 'str', args, `tag '${c.key}'`));
      } else if (c.entity === 'attribute' && c.key === 'name') {
        where.push(compare('e.name', c, 'str', args, 'name'));
      } else if (c.entity === 'attribute' && (c.key === 'creation_time' || c.key === 'last_update_time')) {
        where.push(compare(`e.${c.key}`, c, 'num', args, c.key));
      } else {
        throw invalid(`Invalid attribute key '${c.key}' in experiment filter; use name, creation_time, last_update_time or tags.<key>`);
      }
    });
    const order: string[] = [];
    for (const o of parseOrderBy(opts.orderBy)) {
      const col = own({ name: 'e.name', experiment_id: 'e.experiment_id', creation_time: 'e.creation_time', last_update_time: 'e.last_update_time' }, o.key);
      if (o.entity !== 'attribute' || !col) throw invalid(`Invalid order_by key '${o.key}' for experiments`);
      order.push(`${col} ${o.asc ? 'ASC' : 'DESC'}`);
    }
    if (!order.length) order.push('e.creation_time DESC');
    order.push('e.experiment_id ASC');
    const sql = `SELECT e.* FROM experiments e${joins} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`;
    const rows = this.db.prepare(sql).all(...joinArgs, ...args, max + 1, offset) as Row[];
    const page: Page<Experiment> = { items: this.hydrate(rows.slice(0, max)) };
    if (rows.length > max) page.next_page_token = encodePageToken(offset + max);
    return page;
  }

  private hydrate(rows: Row[]): Experiment[] {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.experiment_id);
    const tags = this.db
      .prepare(`SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as { experiment_id: number; key: string; value: string }[];
    return rows.map((r) => ({
      experiment_id: String(r.experiment_id),
      name: r.name,
      artifact_location: r.artifact_location,
      lifecycle_stage: r.lifecycle_stage,
      creation_time: r.creation_time,
      last_update_time: r.last_update_time,
      tags: tags.filter((t) => t.experiment_id === r.experiment_id).map((t) => ({ key: t.key, value: t.value })),
    }));
  }
}

export function parseExperimentId(id: unknown): number {
  const s = typeof id === 'number' ? String(id) : id;
  if (typeof s !== 'string' || s === '') throw invalid("Missing value for required parameter 'experiment_id'");
  if (!/^\d{1,15}$/.test(s)) throw notFound(`No Experiment with id=${s} exists`);
  return Number(s);
}
