import { randomBytes } from 'node:crypto';
import type { Db } from './db';
import { now } from './db';
import type { ExperimentRepo } from './experiments';
import type { DatasetInput, KV, Lineage, Metric, Run, RunInfo, RunStatus } from './types';
import { RUN_STATUSES } from './types';
import { invalid, notFound } from '../util/errors';
import { LIMITS, validateKey, validateValue } from './validation';
import { decodePageToken, encodePageToken } from './search/filter';
import { randomRunName } from './names';
import { trimTrailingSlashes } from '../util/strings';

export interface RunRow {
  run_uuid: string;
  experiment_id: number;
  name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
}

const RUN_NAME_TAG = 'mlflow.runName';

export function runInfo(r: RunRow): RunInfo {
  const info: RunInfo = {
    run_id: r.run_uuid,
    run_uuid: r.run_uuid,
    run_name: r.name,
    experiment_id: String(r.experiment_id),
    user_id: r.user_id,
    status: r.status,
    start_time: r.start_time,
    artifact_uri: r.artifact_uri,
    lifecycle_stage: r.lifecycle_stage,
  };
  if (r.end_time) info.end_time = r.end_time;
  return info;
}

export class RunRepo {
  private readonly insMetric;
  private readonly upLatest;
  private readonly getParam;
  private readonly insParam;
  private readonly setTagStmt;
  private readonly touch;

  constructor(
    private readonly db: Db,
    private readonly experiments: ExperimentRepo,
  ) {
    this.insMetric = db.prepare(
      `INSERT OR IGNORE INTO metrics (run_uuid, key, step, timestamp, value, is_nan, model_id, dataset_name, dataset_digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // MLflow's "latest" is the max of (step, timestamp, value); NaN counts as the smallest value.
    this.upLatest = db.prepare(
      `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
         timestamp = excluded.timestamp, step = excluded.step
       WHERE (excluded.step, excluded.timestamp, CASE WHEN excluded.is_nan THEN -1e309 ELSE excluded.value END)
           > (latest_metrics.step, latest_metrics.timestamp, CASE WHEN latest_metrics.is_nan THEN -1e309 ELSE latest_metrics.value END)`,
    );
    this.getParam = db.prepare('SELECT value FROM params WHERE run_uuid = ? AND key = ?');
    this.insParam = db.prepare('INSERT OR IGNORE INTO params (run_uuid, key, value) VALUES (?, ?, ?)');
    this.setTagStmt = db.prepare('INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)');
    this.touch = db.prepare('UPDATE runs SET data_version = data_version + 1 WHERE run_uuid = ?');
  }

  create(o: { experimentId?: unknown; userId?: string; runName?: string; startTime?: number; tags?: KV[] }): Run {
    const exp = this.experiments.row(o.experimentId ?? '0');
    if (exp.lifecycle_stage !== 'active') throw invalid(`The experiment ${exp.experiment_id} must be in the 'active' state. Current state is ${exp.lifecycle_stage}.`);
    const tags = o.tags ?? [];
    for (const t of tags) {
      validateKey(t.key, 'Tag');
      validateValue(t.value, LIMITS.maxTagValueLength, 'Tag');
    }
    const tagName = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (o.runName && tagName && o.runName !== tagName) {
      throw invalid(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${o.runName}', mlflow.runName='${tagName}').`);
    }
    const name = o.runName || tagName || randomRunName();
    if (name.length > LIMITS.maxRunNameLength) throw invalid(`run_name is ${name.length} characters; the limit is ${LIMITS.maxRunNameLength}`);
    const id = randomBytes(16).toString('hex');
    const row: RunRow = {
      run_uuid: id,
      experiment_id: exp.experiment_id,
      name,
      user_id: o.userId ?? '',
      status: 'RUNNING',
      start_time: o.startTime ?? now(),
      end_time: null,
      artifact_uri: `${trimTrailingSlashes(exp.artifact_location)}/${id}/artifacts`,
      lifecycle_stage: 'active',
    };
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage)
           VALUES (@run_uuid, @experiment_id, @name, @user_id, @status, @start_time, @end_time, @artifact_uri, @lifecycle_stage)`,
        )
        .run(row);
      for (const t of tags) if (t.key !== RUN_NAME_TAG) this.setTagStmt.run(id, t.key, String(t.value));
      this.setTagStmt.run(id, RUN_NAME_TAG, name);
    })();
    return this.get(id);
  }

  row(runId: unknown): RunRow {
    if (typeof runId !== 'string' || !runId) throw invalid("Missing value for required parameter 'run_id'");
    const r = this.db.prepare('SELECT * FROM runs WHERE run_uuid = ?').get(runId) as RunRow | undefined;
    if (!r) throw notFound(`Run with id=${runId} not found`);
    return r;
  }

  private activeRow(runId: unknown): RunRow {
    const r = this.row(runId);
    if (r.lifecycle_stage !== 'active') throw invalid(`The run ${r.run_uuid} must be in the 'active' state. Current state is ${r.lifecycle_stage}.`);
    return r;
  }

  get(runId: unknown): Run {
    return this.hydrate([this.row(runId)])[0]!;
  }

  /** Full runs (params, tags, latest metrics, inputs, outputs) for rows, in the same order. */
  hydrate(rows: RunRow[]): Run[] {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.run_uuid);
    const byRun = <T extends { run_uuid: string }>(sql: string): Map<string, T[]> => {
      const m = new Map<string, T[]>();
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        for (const row of this.db.prepare(sql.replace('(?)', `(${chunk.map(() => '?').join(',')})`)).all(...chunk) as T[]) {
          const list = m.get(row.run_uuid);
          if (list) list.push(row);
          else m.set(row.run_uuid, [row]);
        }
      }
      return m;
    };
    const params = byRun<KV & { run_uuid: string }>('SELECT run_uuid, key, value FROM params WHERE run_uuid IN (?) ORDER BY key');
    const tags = byRun<KV & { run_uuid: string }>('SELECT run_uuid, key, value FROM tags WHERE run_uuid IN (?) ORDER BY key');
    const metrics = byRun<{ run_uuid: string; key: string; value: number; is_nan: number; timestamp: number; step: number }>(
      'SELECT run_uuid, key, value, is_nan, timestamp, step FROM latest_metrics WHERE run_uuid IN (?) ORDER BY key',
    );
    const inputs = byRun<{ run_uuid: string; tags: string; name: string; digest: string; source_type: string; source: string; schema: string | null; profile: string | null }>(
      `SELECT i.run_uuid, i.tags, d.name, d.digest, d.source_type, d.source, d.schema, d.profile
       FROM run_inputs i JOIN datasets d ON d.dataset_uuid = i.dataset_uuid WHERE i.run_uuid IN (?)`,
    );
    const io = byRun<{ run_uuid: string; direction: string; model_id: string; step: number }>('SELECT run_uuid, direction, model_id, step FROM run_model_io WHERE run_uuid IN (?)');
    return rows.map((r) => {
      const run: Run = { info: runInfo(r), data: {}, inputs: {}, outputs: {} };
      const p = params.get(r.run_uuid);
      if (p) run.data.params = p.map(({ key, value }) => ({ key, value }));
      const t = tags.get(r.run_uuid);
      if (t) run.data.tags = t.map(({ key, value }) => ({ key, value }));
      const m = metrics.get(r.run_uuid);
      if (m) run.data.metrics = m.map((x) => ({ key: x.key, value: x.is_nan ? NaN : x.value, timestamp: x.timestamp, step: x.step }));
      const ins = inputs.get(r.run_uuid);
      if (ins) {
        run.inputs.dataset_inputs = ins.map((d) => {
          const ds: DatasetInput['dataset'] = { name: d.name, digest: d.digest, source_type: d.source_type, source: d.source };
          if (d.schema !== null) ds.schema = d.schema;
          if (d.profile !== null) ds.profile = d.profile;
          const dTags = JSON.parse(d.tags) as KV[];
          return dTags.length ? { tags: dTags, dataset: ds } : { dataset: ds };
        });
      }
      const models = io.get(r.run_uuid) ?? [];
      const mi = models.filter((x) => x.direction === 'input').map((x) => ({ model_id: x.model_id }));
      const mo = models.filter((x) => x.direction === 'output').map((x) => ({ model_id: x.model_id, step: x.step }));
      if (mi.length) run.inputs.model_inputs = mi;
      if (mo.length) run.outputs.model_outputs = mo;
      return run;
    });
  }

  update(runId: unknown, o: { status?: unknown; endTime?: number; runName?: unknown }): RunInfo {
    const r = this.row(runId);
    let status = r.status;
    if (o.status !== undefined && o.status !== null && o.status !== '') status = parseRunStatus(o.status);
    const name = typeof o.runName === 'string' && o.runName ? o.runName : r.name;
    const end = o.endTime ?? r.end_time;
    this.db.transaction(() => {
      this.db.prepare('UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_uuid = ?').run(status, end, name, r.run_uuid);
      if (name !== r.name) this.setTagStmt.run(r.run_uuid, RUN_NAME_TAG, name);
    })();
    return runInfo(this.row(r.run_uuid));
  }

  setLifecycle(runId: unknown, stage: 'active' | 'deleted'): void {
    const r = this.row(runId);
    this.db.prepare('UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?').run(stage, stage === 'deleted' ? now() : null, r.run_uuid);
  }

  /**
   * MLflow's LogBatch: all or nothing. Validates every entity first, then writes in one transaction.
   * Exact duplicate metric points are ignored; a param logged again with another value is an error.
   */
  logBatch(runId: unknown, metrics: Metric[], params: KV[], tags: KV[]): void {
    if (metrics.length > LIMITS.maxMetricsPerBatch) throw invalid(`A batch logging request can contain at most ${LIMITS.maxMetricsPerBatch} metrics. Got ${metrics.length} metrics.`);
    if (params.length > LIMITS.maxParamsTagsPerBatch) throw invalid(`A batch logging request can contain at most ${LIMITS.maxParamsTagsPerBatch} params. Got ${params.length} params.`);
    if (tags.length > LIMITS.maxParamsTagsPerBatch) throw invalid(`A batch logging request can contain at most ${LIMITS.maxParamsTagsPerBatch} tags. Got ${tags.length} tags.`);
    const total = metrics.length + params.length + tags.length;
    if (total > LIMITS.maxEntitiesPerBatch) throw invalid(`A batch logging request can contain at most ${LIMITS.maxEntitiesPerBatch} total metrics, params and tags. Got ${total}.`);
    const seen = new Map<string, string>();
    for (const p of params) {
      validateKey(p.key, 'Param');
      const v = validateValue(p.value, LIMITS.maxParamValueLength, 'Param');
      const prev = seen.get(p.key);
      if (prev !== undefined && prev !== v) throw invalid(`Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`);
      seen.set(p.key, v);
    }
    for (const t of tags) {
      validateKey(t.key, 'Tag');
      validateValue(t.value, LIMITS.maxTagValueLength, 'Tag');
    }
    // A batch repeats few keys over many steps: validate each key once.
    const keys = new Set<string>();
    for (const m of metrics) {
      if (keys.has(m.key)) continue;
      validateKey(m.key, 'Metric');
      keys.add(m.key);
    }
    this.db.transaction(() => {
      const r = this.activeRow(runId);
      const id = r.run_uuid;
      for (const p of params) {
        const v = String(p.value);
        const old = this.getParam.get(id, p.key) as { value: string } | undefined;
        if (old && old.value !== v) {
          throw invalid(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old.value}' for run ID='${id}'. Attempted logging new value '${v}'.`);
        }
        if (!old) this.insParam.run(id, p.key, v);
      }
      for (const t of tags) {
        this.setTagStmt.run(id, t.key, String(t.value));
        if (t.key === RUN_NAME_TAG) this.db.prepare('UPDATE runs SET name = ? WHERE run_uuid = ?').run(String(t.value), id);
      }
      const latest = new Map<string, Metric>();
      for (const m of metrics) {
        const nan = Number.isNaN(m.value);
        this.insMetric.run(id, m.key, m.step, m.timestamp, nan ? 0 : m.value, nan ? 1 : 0, m.model_id ?? null, m.dataset_name ?? null, m.dataset_digest ?? null);
        const cur = latest.get(m.key);
        if (!cur || later(m, cur)) latest.set(m.key, m);
      }
      for (const m of latest.values()) {
        const nan = Number.isNaN(m.value);
        this.upLatest.run(id, m.key, nan ? 0 : m.value, nan ? 1 : 0, m.timestamp, m.step);
      }
      if (metrics.length) this.touch.run(id);
    })();
  }

  deleteTag(runId: unknown, key: unknown): void {
    const r = this.activeRow(runId);
    const res = this.db.prepare('DELETE FROM tags WHERE run_uuid = ? AND key = ?').run(r.run_uuid, String(key));
    if (res.changes === 0) throw notFound(`No tag with name: ${String(key)} in run with id ${r.run_uuid}`);
  }

  /** Ordered by timestamp, step, value, as the reference server orders it. */
  metricHistory(runId: unknown, key: unknown, maxResults?: number, pageToken?: string): { metrics: Metric[]; next_page_token?: string } {
    const r = this.row(runId);
    if (typeof key !== 'string' || !key) throw invalid("Missing value for required parameter 'metric_key'");
    const offset = decodePageToken(pageToken);
    const limit = maxResults && maxResults > 0 ? maxResults : 1_000_000_000;
    const rows = this.db
      .prepare('SELECT key, value, is_nan, timestamp, step, model_id FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, value LIMIT ? OFFSET ?')
      .all(r.run_uuid, key, limit + 1, offset) as { key: string; value: number; is_nan: number; timestamp: number; step: number; model_id: string | null }[];
    const metrics = rows.slice(0, limit).map((m) => {
      const out: Metric = { key: m.key, value: m.is_nan ? NaN : m.value, timestamp: m.timestamp, step: m.step, run_id: r.run_uuid };
      if (m.model_id) out.model_id = m.model_id;
      return out;
    });
    return rows.length > limit ? { metrics, next_page_token: encodePageToken(offset + limit) } : { metrics };
  }

  logInputs(runId: unknown, datasets: DatasetInput[], models: { model_id: string }[]): void {
    this.db.transaction(() => {
      const r = this.activeRow(runId);
      for (const d of datasets) {
        const ds = d.dataset;
        for (const f of ['name', 'digest', 'source_type', 'source'] as const) {
          if (typeof ds?.[f] !== 'string' || !ds[f]) throw invalid(`Missing value for required parameter 'dataset.${f}'`);
        }
        if (ds.name.length > 500) throw invalid('Dataset name exceeds the maximum length of 500');
        if (ds.digest.length > 36) throw invalid('Dataset digest exceeds the maximum length of 36');
        const found = this.db
          .prepare('SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?')
          .get(r.experiment_id, ds.name, ds.digest) as { dataset_uuid: string } | undefined;
        const uuid = found?.dataset_uuid ?? randomBytes(16).toString('hex');
        if (!found) {
          this.db
            .prepare('INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(uuid, r.experiment_id, ds.name, ds.digest, ds.source_type, ds.source, ds.schema ?? null, ds.profile ?? null);
        }
        this.db.prepare('INSERT OR REPLACE INTO run_inputs (run_uuid, dataset_uuid, tags) VALUES (?, ?, ?)').run(r.run_uuid, uuid, JSON.stringify(d.tags ?? []));
      }
      for (const m of models) this.linkModel(r.run_uuid, 'input', m.model_id, 0);
    })();
  }

  logOutputs(runId: unknown, models: { model_id: string; step: number }[]): void {
    const r = this.activeRow(runId);
    this.db.transaction(() => {
      for (const m of models) this.linkModel(r.run_uuid, 'output', m.model_id, m.step);
    })();
  }

  private linkModel(runId: string, direction: 'input' | 'output', modelId: string, step: number): void {
    if (typeof modelId !== 'string' || !modelId) throw invalid("Missing value for required parameter 'model_id'");
    this.db.prepare('INSERT OR REPLACE INTO run_model_io (run_uuid, direction, model_id, step) VALUES (?, ?, ?, ?)').run(runId, direction, modelId, step);
  }

  setLineage(runId: unknown, l: Lineage): void {
    const r = this.row(runId);
    this.db
      .prepare(
        `INSERT INTO run_lineage (run_uuid, code_commit, code_dirty, code_diff_digest, image_digest, command, environment) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_uuid) DO UPDATE SET code_commit = coalesce(excluded.code_commit, code_commit), code_dirty = coalesce(excluded.code_dirty, code_dirty),
           code_diff_digest = coalesce(excluded.code_diff_digest, code_diff_digest), image_digest = coalesce(excluded.image_digest, image_digest),
           command = coalesce(excluded.command, command), environment = coalesce(excluded.environment, environment)`,
      )
      .run(
        r.run_uuid,
        l.code_commit ?? null,
        l.code_dirty === undefined || l.code_dirty === null ? null : l.code_dirty ? 1 : 0,
        l.code_diff_digest ?? null,
        l.image_digest ?? null,
        l.command ?? null,
        l.environment ? JSON.stringify(l.environment) : null,
      );
  }

  lineage(runId: unknown): Lineage {
    const r = this.row(runId);
    const row = this.db.prepare('SELECT * FROM run_lineage WHERE run_uuid = ?').get(r.run_uuid) as
      | { code_commit: string | null; code_dirty: number | null; code_diff_digest: string | null; image_digest: string | null; command: string | null; environment: string | null }
      | undefined;
    if (!row) return {};
    return {
      code_commit: row.code_commit,
      code_dirty: row.code_dirty === null ? null : row.code_dirty === 1,
      code_diff_digest: row.code_diff_digest,
      image_digest: row.image_digest,
      command: row.command,
      environment: row.environment ? (JSON.parse(row.environment) as Record<string, string>) : null,
    };
  }
}

function later(a: Metric, b: Metric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  const av = Number.isNaN(a.value) ? -Infinity : a.value;
  const bv = Number.isNaN(b.value) ? -Infinity : b.value;
  return av > bv;
}

export function parseRunStatus(s: unknown): RunStatus {
  if (typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 5) return RUN_STATUSES[s - 1]!;
  if (typeof s === 'string' && (RUN_STATUSES as readonly string[]).includes(s)) return s as RunStatus;
  throw invalid(`Invalid value ${JSON.stringify(s)} for parameter 'status': expected one of ${RUN_STATUSES.join(', ')}`);
}
