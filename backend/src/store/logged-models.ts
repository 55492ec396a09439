import { randomBytes } from 'node:crypto';
import type { Db } from './db';
import { now } from './db';
import type { ExperimentRepo } from './experiments';
import type { KV, Metric, Page } from './types';
import { invalid, notFound } from '../util/errors';
import { LIMITS, validateKey, validateValue } from './validation';
import { decodePageToken, encodePageToken, own, parseFilter } from './search/filter';
import { compare, type Arg } from './search/sql';
import { parseExperimentId } from './experiments';
import { trimTrailingSlashes } from '../util/strings';

export type LoggedModelStatus = 'LOGGED_MODEL_STATUS_UNSPECIFIED' | 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';
const STATUSES: LoggedModelStatus[] = ['LOGGED_MODEL_STATUS_UNSPECIFIED', 'LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'];

interface Row {
  model_id: string;
  experiment_id: number;
  name: string;
  artifact_location: string;
  creation_timestamp_ms: number;
  last_updated_timestamp_ms: number;
  status: LoggedModelStatus;
  status_message: string | null;
  lifecycle_stage: string;
  model_type: string | null;
  source_run_id: string | null;
}

export interface LoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
    artifact_uri: string;
    status: LoggedModelStatus;
    model_type?: string;
    source_run_id?: string;
    status_message?: string;
    tags?: KV[];
    registrations?: { name: string; version: string }[];
  };
  data: { params?: KV[]; metrics?: Metric[] };
}

export function parseLoggedModelStatus(s: unknown): LoggedModelStatus {
  if (typeof s === 'number' && STATUSES[s]) return STATUSES[s]!;
  if (typeof s === 'string' && (STATUSES as string[]).includes(s)) return s as LoggedModelStatus;
  throw invalid(`Invalid value ${JSON.stringify(s)} for parameter 'status': expected one of ${STATUSES.join(', ')}`);
}

/** MLflow 3 logged models: every `mlflow.<flavor>.log_model` creates one and uploads its files under it. */
export class LoggedModelRepo {
  constructor(
    private readonly db: Db,
    private readonly experiments: ExperimentRepo,
  ) {}

  create(o: { experimentId: unknown; name?: string; modelType?: string; sourceRunId?: string; params?: KV[]; tags?: KV[] }): LoggedModel {
    const exp = this.experiments.row(o.experimentId);
    if (exp.lifecycle_stage !== 'active') throw invalid(`The experiment ${exp.experiment_id} must be in the 'active' state`);
    const id = `m-${randomBytes(16).toString('hex')}`;
    const t = now();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms, last_updated_timestamp_ms, status, model_type, source_run_id)
           VALUES (?, ?, ?, ?, ?, ?, 'LOGGED_MODEL_PENDING', ?, ?)`,
        )
        .run(id, exp.experiment_id, o.name || `model-${id.slice(2, 10)}`, `${trimTrailingSlashes(exp.artifact_location)}/models/${id}/artifacts`, t, t, o.modelType ?? null, o.sourceRunId || null);
      this.insertKVs('logged_model_params', id, o.params ?? [], LIMITS.maxParamValueLength, 'Param');
      this.insertKVs('logged_model_tags', id, o.tags ?? [], LIMITS.maxTagValueLength, 'Tag');
    })();
    return this.get(id);
  }

  private insertKVs(table: string, id: string, kvs: KV[], max: number, what: string): void {
    const ins = this.db.prepare(`INSERT OR REPLACE INTO ${table} (model_id, key, value) VALUES (?, ?, ?)`);
    for (const kv of kvs) ins.run(id, validateKey(kv.key, what), validateValue(kv.value, max, what));
  }

  row(id: unknown, allowDeleted = false): Row {
    if (typeof id !== 'string' || !id) throw invalid("Missing value for required parameter 'model_id'");
    const r = this.db.prepare('SELECT * FROM logged_models WHERE model_id = ?').get(id) as Row | undefined;
    if (!r || (!allowDeleted && r.lifecycle_stage === 'deleted')) throw notFound(`Logged model with ID '${id}' not found`);
    return r;
  }

  get(id: unknown, allowDeleted = false): LoggedModel {
    return this.hydrate([this.row(id, allowDeleted)])[0]!;
  }

  finalize(id: unknown, status: unknown): LoggedModel {
    const r = this.row(id);
    const s = parseLoggedModelStatus(status);
    this.db.prepare('UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?').run(s, now(), r.model_id);
    return this.get(r.model_id);
  }

  delete(id: unknown): void {
    const r = this.row(id);
    this.db.prepare("UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ? WHERE model_id = ?").run(now(), r.model_id);
  }

  setTags(id: unknown, tags: KV[]): void {
    const r = this.row(id);
    this.db.transaction(() => this.insertKVs('logged_model_tags', r.model_id, tags, LIMITS.maxTagValueLength, 'Tag'))();
  }

  deleteTag(id: unknown, key: string): void {
    const r = this.row(id);
    const res = this.db.prepare('DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?').run(r.model_id, key);
    if (!res.changes) throw notFound(`No tag with key '${key}' on logged model ${r.model_id}`);
  }

  logParams(id: unknown, params: KV[]): void {
    const r = this.row(id);
    this.db.transaction(() => this.insertKVs('logged_model_params', r.model_id, params, LIMITS.maxParamValueLength, 'Param'))();
  }

  search(o: { experimentIds: unknown[]; filter?: string; maxResults?: number; orderBy?: { field_name: string; ascending?: boolean }[]; pageToken?: string }): Page<LoggedModel> {
    const max = o.maxResults ?? 50;
    const offset = decodePageToken(o.pageToken);
    const ids = o.experimentIds.map((e) => parseExperimentId(e));
    if (!ids.length) throw invalid("Missing value for required parameter 'experiment_ids'");
    const where = [`m.experiment_id IN (${ids.map(() => '?').join(',')})`, "m.lifecycle_stage = 'active'"];
    const args: Arg[] = [...ids];
    const attr: Record<string, [string, 'num' | 'str']> = {
      name: ['m.name', 'str'],
      model_id: ['m.model_id', 'str'],
      model_type: ['m.model_type', 'str'],
      status: ['m.status', 'str'],
      source_run_id: ['m.source_run_id', 'str'],
      creation_timestamp: ['m.creation_timestamp_ms', 'num'],
      creation_time: ['m.creation_timestamp_ms', 'num'],
      last_updated_timestamp: ['m.last_updated_timestamp_ms', 'num'],
      last_updated_time: ['m.last_updated_timestamp_ms', 'num'],
    };
    for (const c of parseFilter(o.filter)) {
      const a = c.entity === 'attribute' ? own(attr, c.key) : undefined;
      if (a) {
        where.push(compare(a[0], c, a[1], args, c.key, true));
      } else if (c.entity === 'param' || c.entity === 'tag') {
        const t = c.entity === 'param' ? 'logged_model_params' : 'logged_model_tags';
        const sub: Arg[] = [c.key];
        const cond = compare('x.value', c, 'str', sub, `${c.entity} '${c.key}'`);
        where.push(`EXISTS (SELECT 1 FROM ${t} x WHERE x.model_id = m.model_id AND x.key = ? AND ${cond})`);
        args.push(...sub);
      } else if (c.entity === 'metric') {
        const sub: Arg[] = [c.key];
        const cond = compare('x.value', c, 'num', sub, `metric '${c.key}'`);
        where.push(`EXISTS (SELECT 1 FROM metrics x WHERE x.model_id = m.model_id AND x.key = ? AND x.is_nan = 0 AND ${cond})`);
        args.push(...sub);
      } else throw invalid(`Invalid attribute key '${c.key}' in logged model filter`);
    }
    const order: string[] = [];
    for (const ob of o.orderBy ?? []) {
      if (!ob || typeof ob !== 'object' || typeof ob.field_name !== 'string') throw invalid("Invalid value for parameter 'order_by': expected a list of {field_name, ascending}");
      const col = own(attr, ob.field_name)?.[0];
      if (!col) throw invalid(`Invalid order_by field '${ob.field_name}' for logged models`);
      order.push(`${col} ${ob.ascending === false ? 'DESC' : 'ASC'}`);
    }
    order.push('m.creation_timestamp_ms DESC', 'm.model_id ASC');
    const rows = this.db.prepare(`SELECT m.* FROM logged_models m WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`).all(...args, max + 1, offset) as Row[];
    const page: Page<LoggedModel> = { items: this.hydrate(rows.slice(0, max)) };
    if (rows.length > max) page.next_page_token = encodePageToken(offset + max);
    return page;
  }

  private hydrate(rows: Row[]): LoggedModel[] {
    return rows.map((r) => {
      const kv = (t: string) => this.db.prepare(`SELECT key, value FROM ${t} WHERE model_id = ? ORDER BY key`).all(r.model_id) as KV[];
      const tags = kv('logged_model_tags');
      const params = kv('logged_model_params');
      const metrics = (
        this.db.prepare('SELECT key, value, is_nan, timestamp, step, run_uuid, dataset_name, dataset_digest FROM metrics WHERE model_id = ?').all(r.model_id) as {
          key: string;
          value: number;
          is_nan: number;
          timestamp: number;
          step: number;
          run_uuid: string;
          dataset_name: string | null;
          dataset_digest: string | null;
        }[]
      ).map((m) => {
        const out: Metric = { key: m.key, value: m.is_nan ? NaN : m.value, timestamp: m.timestamp, step: m.step, run_id: m.run_uuid, model_id: r.model_id };
        if (m.dataset_name) out.dataset_name = m.dataset_name;
        if (m.dataset_digest) out.dataset_digest = m.dataset_digest;
        return out;
      });
      const regs = this.db.prepare('SELECT name, version FROM model_versions WHERE model_id = ? ORDER BY name, version').all(r.model_id) as { name: string; version: number }[];
      const info: LoggedModel['info'] = {
        model_id: r.model_id,
        experiment_id: String(r.experiment_id),
        name: r.name,
        creation_timestamp_ms: r.creation_timestamp_ms,
        last_updated_timestamp_ms: r.last_updated_timestamp_ms,
        artifact_uri: r.artifact_location,
        status: r.status,
      };
      if (r.model_type) info.model_type = r.model_type;
      if (r.source_run_id) info.source_run_id = r.source_run_id;
      if (r.status_message) info.status_message = r.status_message;
      if (tags.length) info.tags = tags;
      if (regs.length) info.registrations = regs.map((x) => ({ name: x.name, version: String(x.version) }));
      const data: LoggedModel['data'] = {};
      if (params.length) data.params = params;
      if (metrics.length) data.metrics = metrics;
      return { info, data };
    });
  }
}
