import type { Db } from './db';
import { now } from './db';
import type { AuditLog } from './audit';
import type { KV, Page } from './types';
import { exists, invalid, notFound } from '../util/errors';
import { LIMITS, validateKey, validateValue } from './validation';
import { decodePageToken, encodePageToken, own, parseFilter, parseOrderBy, type Clause } from './search/filter';
import { compare, type Arg } from './search/sql';
import { resolveSource } from './registry-source';

export type Stage = 'None' | 'Staging' | 'Production' | 'Archived';
const STAGES: Stage[] = ['None', 'Staging', 'Production', 'Archived'];

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: Stage;
  description?: string;
  source: string;
  run_id?: string;
  status: 'READY' | 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION';
  status_message?: string;
  tags?: KV[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
  /** Not in MLflow's proto: where the files are (what get-download-uri returns). */
  storage_location?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KV[];
  aliases?: { alias: string; version: string }[];
}

interface VRow {
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
  current_stage: Stage;
  source: string;
  storage_location: string | null;
  run_id: string | null;
  run_link: string | null;
  status: ModelVersion['status'];
  status_message: string | null;
  model_id: string | null;
}

interface MRow {
  name: string;
  creation_time: number;
  last_updated_time: number;
  description: string | null;
  user_id: string | null;
}

/** Who acts and why: every registry change is written to the audit log with it. */
export interface Actor {
  actor: string;
  reason?: string | null;
}

export function parseStage(s: unknown): Stage {
  const found = typeof s === 'string' ? STAGES.find((x) => x.toLowerCase() === s.toLowerCase()) : undefined;
  if (!found) throw invalid(`Invalid Model Version stage: ${String(s)}. Value must be one of ${STAGES.join(', ')}.`);
  return found;
}

export function parseVersion(v: unknown): number {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !/^\d{1,9}$/.test(s)) {
    if (s === undefined || s === null || s === '') throw invalid("Missing value for required parameter 'version'");
    throw invalid(`Parameter 'version' must be an integer, got '${String(s)}'`);
  }
  return Number(s);
}

function validateAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !alias) throw invalid("Missing value for required parameter 'alias'");
  if (alias.length > 255 || !/^[\w-]*$/.test(alias)) throw invalid(`Invalid alias name '${alias}': only letters, digits, '_' and '-' are allowed, up to 255 characters`);
  if (alias.toLowerCase() === 'latest') throw invalid("'latest' alias name (case insensitive) is reserved.");
  if (/^v\d+$/i.test(alias)) throw invalid(`Version alias name '${alias}' is reserved.`);
  return alias;
}

/** The model registry: registered models, versions, tags, aliases, stages. Every change appends an audit event. */
export class RegistryStore {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  private modelRow(name: unknown): MRow {
    if (typeof name !== 'string' || !name) throw invalid("Missing value for required parameter 'name'");
    const r = this.db.prepare('SELECT * FROM registered_models WHERE name = ?').get(name) as MRow | undefined;
    if (!r) throw notFound(`Registered Model with name=${name} not found`);
    return r;
  }

  private versionRow(name: unknown, version: unknown): VRow {
    this.modelRow(name);
    const v = parseVersion(version);
    const r = this.db.prepare('SELECT * FROM model_versions WHERE name = ? AND version = ?').get(name, v) as VRow | undefined;
    if (!r) throw notFound(`Model Version (name=${String(name)}, version=${v}) not found`);
    return r;
  }

  createModel(name: unknown, o: { tags?: KV[]; description?: string }, who: Actor): RegisteredModel {
    if (typeof name !== 'string' || !name.trim()) throw invalid("Missing value for required parameter 'name'");
    if (name.length > 256) throw invalid(`Registered model name is ${name.length} characters; the limit is 256`);
    for (const t of o.tags ?? []) {
      validateKey(t.key, 'Registered model tag');
      validateValue(t.value, LIMITS.maxRegistryTagValueLength, 'Registered model tag');
    }
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(name)) throw exists(`Registered Model (name=${name}) already exists.`);
      const t = now();
      this.db.prepare('INSERT INTO registered_models (name, creation_time, last_updated_time, description, user_id) VALUES (?, ?, ?, ?, ?)').run(name, t, t, o.description ?? null, who.actor);
      const ins = this.db.prepare('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)');
      for (const tag of o.tags ?? []) ins.run(name, tag.key, String(tag.value));
      this.audit.append({ ...who, action: 'registered_model.create', objectType: 'registered_model', objectId: name, after: { name, description: o.description ?? null } });
    })();
    return this.getModel(name);
  }

  getModel(name: unknown): RegisteredModel {
    return this.hydrateModels([this.modelRow(name)])[0]!;
  }

  renameModel(name: unknown, newName: unknown, who: Actor): RegisteredModel {
    const r = this.modelRow(name);
    if (typeof newName !== 'string' || !newName.trim()) throw invalid("Missing value for required parameter 'new_name'");
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM registered_models WHERE name = ?').get(newName)) throw exists(`Registered Model (name=${newName}) already exists.`);
      this.db.prepare('UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?').run(newName, now(), r.name);
      this.audit.append({ ...who, action: 'registered_model.rename', objectType: 'registered_model', objectId: newName, before: { name: r.name }, after: { name: newName } });
    })();
    return this.getModel(newName);
  }

  updateModel(name: unknown, description: string | undefined, who: Actor): RegisteredModel {
    const r = this.modelRow(name);
    this.db.transaction(() => {
      this.db.prepare('UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?').run(description ?? null, now(), r.name);
      this.audit.append({ ...who, action: 'registered_model.update', objectType: 'registered_model', objectId: r.name, before: { description: r.description }, after: { description: description ?? null } });
    })();
    return this.getModel(r.name);
  }

  deleteModel(name: unknown, who: Actor): void {
    const r = this.modelRow(name);
    this.db.transaction(() => {
      const versions = (this.db.prepare('SELECT version FROM model_versions WHERE name = ?').all(r.name) as { version: number }[]).map((v) => String(v.version));
      this.db.prepare('DELETE FROM registered_models WHERE name = ?').run(r.name);
      this.audit.append({ ...who, action: 'registered_model.delete', objectType: 'registered_model', objectId: r.name, before: { name: r.name, versions } });
    })();
  }

  setModelTag(name: unknown, key: unknown, value: unknown): void {
    const r = this.modelRow(name);
    const k = validateKey(key, 'Registered model tag');
    const v = validateValue(value, LIMITS.maxRegistryTagValueLength, 'Registered model tag');
    this.db.prepare('INSERT OR REPLACE INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)').run(r.name, k, v);
  }

  deleteModelTag(name: unknown, key: unknown): void {
    const r = this.modelRow(name);
    this.db.prepare('DELETE FROM registered_model_tags WHERE name = ? AND key = ?').run(r.name, String(key));
  }

  searchModels(o: { filter?: string; maxResults?: number; orderBy?: string[]; pageToken?: string }): Page<RegisteredModel> {
    const max = o.maxResults ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw invalid(`Invalid value for max_results. It must be at most 1000, but got value ${max}`);
    const offset = decodePageToken(o.pageToken);
    const where: string[] = [];
    const args: Arg[] = [];
    for (const c of parseFilter(o.filter)) {
      if (c.entity === 'attribute' && c.key === 'name') where.push(compare('m.name', c, 'str', args, 'name'));
      else if (c.entity === 'tag') where.push(this.tagClause('registered_model_tags', 'x.name = m.name', c, args));
      else throw invalid(`Invalid attribute key '${c.key}' in registered model filter; use name or tags.<key>`);
    }
    const order: string[] = [];
    for (const ob of parseOrderBy(o.orderBy)) {
      const col = ob.key === 'name' ? 'm.name' : ob.key === 'timestamp' || ob.key === 'last_updated_timestamp' ? 'm.last_updated_time' : null;
      if (!col || ob.entity !== 'attribute') throw invalid(`Invalid order by key '${ob.key}' specified. Valid keys are name, timestamp, last_updated_timestamp`);
      order.push(`${col} ${ob.asc ? 'ASC' : 'DESC'}`);
    }
    order.push('m.name ASC');
    const rows = this.db.prepare(`SELECT m.* FROM registered_models m ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`).all(...args, max + 1, offset) as MRow[];
    const page: Page<RegisteredModel> = { items: this.hydrateModels(rows.slice(0, max)) };
    if (rows.length > max) page.next_page_token = encodePageToken(offset + max);
    return page;
  }

  /** Registry tag filters: `!=` also matches a missing tag (the client always adds `tag.mlflow.prompt.is_prompt != 'true'`). */
  private tagClause(table: string, link: string, c: Clause, args: Arg[]): string {
    if (c.op === 'IS NULL' || c.op === 'IS NOT NULL') {
      args.push(c.key);
      return `${c.op === 'IS NULL' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${table} x WHERE ${link} AND x.key = ?)`;
    }
    const sub: Arg[] = [c.key];
    if (c.op === '!=') {
      const eq = compare('x.value', { ...c, op: '=' }, 'str', sub, `tag '${c.key}'`);
      args.push(...sub);
      return `NOT EXISTS (SELECT 1 FROM ${table} x WHERE ${link} AND x.key = ? AND ${eq})`;
    }
    const cond = compare('x.value', c, 'str', sub, `tag '${c.key}'`);
    args.push(...sub);
    return `EXISTS (SELECT 1 FROM ${table} x WHERE ${link} AND x.key = ? AND ${cond})`;
  }

  createVersion(
    o: { name: unknown; source: unknown; runId?: string; tags?: KV[]; runLink?: string; description?: string; modelId?: string },
    who: Actor,
  ): ModelVersion {
    const m = this.modelRow(o.name);
    if (typeof o.source !== 'string' || !o.source) throw invalid("Missing value for required parameter 'source'");
    for (const t of o.tags ?? []) {
      validateKey(t.key, 'Model version tag');
      validateValue(t.value, LIMITS.maxRegistryTagValueLength, 'Model version tag');
    }
    const resolved = resolveSource(this.db, o.source, o.runId, o.modelId);
    const version = this.db.transaction(() => {
      const v = ((this.db.prepare('SELECT MAX(version) AS v FROM model_versions WHERE name = ?').get(m.name) as { v: number | null }).v ?? 0) + 1;
      const t = now();
      this.db
        .prepare(
          `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, current_stage, source, storage_location, run_id, run_link, status, model_id)
           VALUES (?, ?, ?, ?, ?, ?, 'None', ?, ?, ?, ?, 'READY', ?)`,
        )
        .run(m.name, v, t, t, o.description ?? null, who.actor, o.source, resolved.storageLocation, resolved.runId ?? null, o.runLink ?? null, resolved.modelId ?? null);
      const ins = this.db.prepare('INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)');
      for (const tag of o.tags ?? []) ins.run(m.name, v, tag.key, String(tag.value));
      this.db.prepare('UPDATE registered_models SET last_updated_time = ? WHERE name = ?').run(t, m.name);
      this.audit.append({
        ...who,
        action: 'model_version.create',
        objectType: 'model_version',
        objectId: `${m.name}/${v}`,
        after: { version: String(v), source: o.source, run_id: resolved.runId ?? null, model_id: resolved.modelId ?? null },
      });
      return v;
    })();
    return this.getVersion(m.name, version);
  }

  getVersion(name: unknown, version: unknown): ModelVersion {
    return this.hydrateVersions([this.versionRow(name, version)])[0]!;
  }

  updateVersion(name: unknown, version: unknown, description: string | undefined, who: Actor): ModelVersion {
    const r = this.versionRow(name, version);
    this.db.transaction(() => {
      this.db.prepare('UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?').run(description ?? null, now(), r.name, r.version);
      this.audit.append({ ...who, action: 'model_version.update', objectType: 'model_version', objectId: `${r.name}/${r.version}`, before: { description: r.description }, after: { description: description ?? null } });
    })();
    return this.getVersion(r.name, r.version);
  }

  deleteVersion(name: unknown, version: unknown, who: Actor): void {
    const r = this.versionRow(name, version);
    this.db.transaction(() => {
      const aliases = this.aliasesOf(r.name, r.version);
      this.db.prepare('DELETE FROM model_versions WHERE name = ? AND version = ?').run(r.name, r.version);
      this.audit.append({ ...who, action: 'model_version.delete', objectType: 'model_version', objectId: `${r.name}/${r.version}`, before: { source: r.source, stage: r.current_stage, aliases } });
    })();
  }

  transitionStage(name: unknown, version: unknown, stage: unknown, archiveExisting: boolean, who: Actor): ModelVersion {
    const r = this.versionRow(name, version);
    const s = parseStage(stage);
    this.db.transaction(() => {
      const t = now();
      if (archiveExisting && (s === 'Staging' || s === 'Production')) {
        const others = this.db.prepare('SELECT version, current_stage FROM model_versions WHERE name = ? AND current_stage = ? AND version != ?').all(r.name, s, r.version) as { version: number; current_stage: Stage }[];
        for (const o of others) {
          this.db.prepare("UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ? WHERE name = ? AND version = ?").run(t, r.name, o.version);
          this.audit.append({ ...who, action: 'model_version.stage', objectType: 'model_version', objectId: `${r.name}/${o.version}`, before: { stage: o.current_stage }, after: { stage: 'Archived' } });
        }
      }
      this.db.prepare('UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE name = ? AND version = ?').run(s, t, r.name, r.version);
      this.audit.append({ ...who, action: 'model_version.stage', objectType: 'model_version', objectId: `${r.name}/${r.version}`, before: { stage: r.current_stage }, after: { stage: s } });
    })();
    return this.getVersion(r.name, r.version);
  }

  latestVersions(name: unknown, stages?: string[]): ModelVersion[] {
    const m = this.modelRow(name);
    const wanted = stages && stages.length ? stages.map(parseStage) : STAGES;
    const rows = this.db
      .prepare("SELECT * FROM model_versions v WHERE name = ? AND status = 'READY' AND version = (SELECT MAX(version) FROM model_versions w WHERE w.name = v.name AND w.current_stage = v.current_stage AND w.status = 'READY')")
      .all(m.name) as VRow[];
    return this.hydrateVersions(rows.filter((r) => wanted.includes(r.current_stage)));
  }

  searchVersions(o: { filter?: string; maxResults?: number; orderBy?: string[]; pageToken?: string }): Page<ModelVersion> {
    const max = o.maxResults ?? 10_000;
    if (!Number.isInteger(max) || max < 1 || max > 200_000) throw invalid(`Invalid value for max_results. It must be at most 200000, but got value ${max}`);
    const offset = decodePageToken(o.pageToken);
    const where: string[] = [];
    const args: Arg[] = [];
    for (const c of parseFilter(o.filter)) {
      if (c.entity === 'tag') where.push(this.tagClause('model_version_tags', 'x.name = v.name AND x.version = v.version', c, args));
      else if (c.entity === 'attribute' && (c.key === 'name' || c.key === 'run_id' || c.key === 'source_path')) {
        where.push(compare(c.key === 'source_path' ? 'v.source' : `v.${c.key}`, c, 'str', args, c.key, true));
      } else if (c.entity === 'attribute' && (c.key === 'version_number' || c.key === 'version')) where.push(compare('v.version', c, 'num', args, 'version_number'));
      else throw invalid(`Invalid attribute key '${c.key}' in model version filter; use name, run_id, source_path, version_number or tags.<key>`);
    }
    const order: string[] = [];
    for (const ob of parseOrderBy(o.orderBy)) {
      const col = own({ name: 'v.name', version_number: 'v.version', creation_timestamp: 'v.creation_time', last_updated_timestamp: 'v.last_updated_time', run_id: 'v.run_id' }, ob.key);
      if (!col) throw invalid(`Invalid order by key '${ob.key}' for model versions`);
      order.push(`${col} ${ob.asc ? 'ASC' : 'DESC'}`);
    }
    order.push('v.name ASC', 'v.version DESC');
    const rows = this.db.prepare(`SELECT v.* FROM model_versions v ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`).all(...args, max + 1, offset) as VRow[];
    const page: Page<ModelVersion> = { items: this.hydrateVersions(rows.slice(0, max)) };
    if (rows.length > max) page.next_page_token = encodePageToken(offset + max);
    return page;
  }

  downloadUri(name: unknown, version: unknown): string {
    const r = this.versionRow(name, version);
    return r.storage_location ?? r.source;
  }

  setVersionTag(name: unknown, version: unknown, key: unknown, value: unknown): void {
    const r = this.versionRow(name, version);
    const k = validateKey(key, 'Model version tag');
    const v = validateValue(value, LIMITS.maxRegistryTagValueLength, 'Model version tag');
    this.db.prepare('INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?)').run(r.name, r.version, k, v);
  }

  deleteVersionTag(name: unknown, version: unknown, key: unknown): void {
    const r = this.versionRow(name, version);
    this.db.prepare('DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?').run(r.name, r.version, String(key));
  }

  setAlias(name: unknown, alias: unknown, version: unknown, who: Actor): void {
    const a = validateAlias(alias);
    const r = this.versionRow(name, version);
    this.db.transaction(() => {
      const prev = this.db.prepare('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?').get(r.name, a) as { version: number } | undefined;
      if (prev?.version === r.version) return;
      this.db.prepare('INSERT OR REPLACE INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?)').run(r.name, a, r.version);
      this.db.prepare('UPDATE registered_models SET last_updated_time = ? WHERE name = ?').run(now(), r.name);
      this.audit.append({
        ...who,
        action: prev ? 'alias.move' : 'alias.set',
        objectType: 'alias',
        objectId: `${r.name}@${a}`,
        before: prev ? { version: String(prev.version) } : null,
        after: { version: String(r.version) },
      });
    })();
  }

  deleteAlias(name: unknown, alias: unknown, who: Actor): void {
    const m = this.modelRow(name);
    const a = String(alias ?? '');
    this.db.transaction(() => {
      const prev = this.db.prepare('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?').get(m.name, a) as { version: number } | undefined;
      if (!prev) throw invalid(`Registered model alias ${a} not found.`);
      this.db.prepare('DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?').run(m.name, a);
      this.audit.append({ ...who, action: 'alias.delete', objectType: 'alias', objectId: `${m.name}@${a}`, before: { version: String(prev.version) }, after: null });
    })();
  }

  versionByAlias(name: unknown, alias: unknown): ModelVersion {
    const m = this.modelRow(name);
    const r = this.db.prepare('SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?').get(m.name, String(alias ?? '')) as { version: number } | undefined;
    if (!r) throw invalid(`Registered model alias ${String(alias)} not found.`);
    return this.getVersion(m.name, r.version);
  }

  /** `NAME/3`, `NAME@alias`, `models:/NAME/3`, `models:/NAME@alias` → the version. */
  resolveRef(ref: string): ModelVersion {
    const s = ref.replace(/^models:\//, '');
    const at = s.lastIndexOf('@');
    if (at > 0) return this.versionByAlias(s.slice(0, at), s.slice(at + 1));
    const slash = s.lastIndexOf('/');
    if (slash > 0) return this.getVersion(s.slice(0, slash), s.slice(slash + 1));
    throw invalid(`Invalid model reference '${ref}': use NAME/VERSION or NAME@ALIAS`);
  }

  private aliasesOf(name: string, version: number): string[] {
    return (this.db.prepare('SELECT alias FROM registered_model_aliases WHERE name = ? AND version = ? ORDER BY alias').all(name, version) as { alias: string }[]).map((a) => a.alias);
  }

  private hydrateVersions(rows: VRow[]): ModelVersion[] {
    return rows.map((r) => {
      const mv: ModelVersion = {
        name: r.name,
        version: String(r.version),
        creation_timestamp: r.creation_time,
        last_updated_timestamp: r.last_updated_time,
        current_stage: r.current_stage,
        source: r.source,
        status: r.status,
      };
      if (r.user_id) mv.user_id = r.user_id;
      if (r.description) mv.description = r.description;
      if (r.run_id) mv.run_id = r.run_id;
      if (r.run_link) mv.run_link = r.run_link;
      if (r.status_message) mv.status_message = r.status_message;
      if (r.model_id) mv.model_id = r.model_id;
      if (r.storage_location) mv.storage_location = r.storage_location;
      const tags = this.db.prepare('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key').all(r.name, r.version) as KV[];
      if (tags.length) mv.tags = tags;
      const aliases = this.aliasesOf(r.name, r.version);
      if (aliases.length) mv.aliases = aliases;
      return mv;
    });
  }

  private hydrateModels(rows: MRow[]): RegisteredModel[] {
    return rows.map((r) => {
      const m: RegisteredModel = { name: r.name, creation_timestamp: r.creation_time, last_updated_timestamp: r.last_updated_time };
      if (r.user_id) m.user_id = r.user_id;
      if (r.description) m.description = r.description;
      const latest = this.latestVersions(r.name);
      if (latest.length) m.latest_versions = latest;
      const tags = this.db.prepare('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key').all(r.name) as KV[];
      if (tags.length) m.tags = tags;
      const aliases = this.db.prepare('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias').all(r.name) as { alias: string; version: number }[];
      if (aliases.length) m.aliases = aliases.map((a) => ({ alias: a.alias, version: String(a.version) }));
      return m;
    });
  }
}
