import type { Db } from './db';
import { now } from './db';

export interface AuditEvent {
  id: number;
  ts: number;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: unknown;
  after: unknown;
  reason: string | null;
}

export interface AuditInput {
  actor: string;
  action: string;
  objectType: string;
  objectId: string;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export interface AuditQuery {
  objectType?: string;
  objectId?: string;
  action?: string;
  actor?: string;
  since?: number;
  until?: number;
  limit?: number;
  /** Events with id < beforeId (paging backwards from the newest). */
  beforeId?: number;
}

interface Row {
  id: number;
  ts: number;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  before: string | null;
  after: string | null;
  reason: string | null;
}

/** The append-only log of registry and deployment actions. SQLite triggers refuse updates and deletes. */
export class AuditLog {
  private readonly insert;
  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      'INSERT INTO audit_log (ts, actor, action, object_type, object_id, before, after, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
  }

  append(e: AuditInput): number {
    const r = this.insert.run(
      now(),
      e.actor,
      e.action,
      e.objectType,
      e.objectId,
      e.before === undefined ? null : JSON.stringify(e.before),
      e.after === undefined ? null : JSON.stringify(e.after),
      e.reason ?? null,
    );
    return Number(r.lastInsertRowid);
  }

  /**
   * Newest first: events of `objectType` whose object id starts with `idPrefix` (alias events of one model:
   * 'iris@'), or whose before/after JSON contains `mentions` (an endpoint snapshot naming '"iris/2"').
   */
  about(objectType: string, o: { idPrefix?: string; mentions?: string; limit: number }): AuditEvent[] {
    const where = ['object_type = ?'];
    const args: (string | number)[] = [objectType];
    if (o.idPrefix !== undefined) {
      where.push('substr(object_id, 1, ?) = ?');
      args.push(o.idPrefix.length, o.idPrefix);
    }
    if (o.mentions !== undefined) {
      where.push('(instr(before, ?) > 0 OR instr(after, ?) > 0)');
      args.push(o.mentions, o.mentions);
    }
    const rows = this.db.prepare(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`).all(...args, Math.min(Math.max(o.limit, 1), 10_000)) as Row[];
    return rows.map(parsed);
  }

  /** Newest first. */
  list(q: AuditQuery = {}): AuditEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (sql: string, v: string | number | undefined) => {
      if (v === undefined) return;
      where.push(sql);
      args.push(v);
    };
    add('object_type = ?', q.objectType);
    add('object_id = ?', q.objectId);
    add('action = ?', q.action);
    add('actor = ?', q.actor);
    add('ts >= ?', q.since);
    add('ts <= ?', q.until);
    add('id < ?', q.beforeId);
    const limit = Math.min(Math.max(q.limit ?? 100, 1), 10_000);
    const sql = `SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ${limit}`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(parsed);
  }
}

function parsed(r: Row): AuditEvent {
  return { ...r, before: r.before === null ? null : (JSON.parse(r.before) as unknown), after: r.after === null ? null : (JSON.parse(r.after) as unknown) };
}
