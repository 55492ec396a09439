/**
 * The store reads of a check, as data: a check describes its window (which rows of which version) and its reference
 * profile in the job it hands to its ComputeRunner, and they are read where the statistics run. In the backend that is the checks
 * worker thread, on a read-only connection of its own to the store file (WAL: it reads while the backend writes), so
 * the serving event loop neither reads nor copies the window (nor the reference profile, parsed once per thread). An in-memory store (tests) cannot be opened twice: its
 * reads are done on the calling thread (LogReader over the main connection), as is any job run by computeOn().
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/db';
import { parseProfile, type ReferenceProfile } from '../stats';

/** A window of one version's logged requests on one endpoint, by id. */
export interface LogRead {
  $read: 'newest' | 'oldest' | 'features' | 'labelledSince';
  endpoint: string;
  model: string;
  version: number;
  limit: number;
  /** Only rows after this id. */
  afterId?: number;
  /** Only rows after the `afterFirst` oldest ones (prediction drift's window after its reference). */
  afterFirst?: number;
  /** Only labelled rows (served by the prediction_log_labelled index). */
  labelled?: boolean;
  /** labelledSince: requests labelled after this one, in label order. */
  cursor?: { label_ts: number; id: number };
  /** Keep the first `batch` rows read, and set the job's field `key` to whether there were more. */
  more?: { key: string; batch: number };
}

/** A version's stored reference profile (model_version_profiles), as stored at `createdAt`. */
export interface ProfileRead {
  $read: 'profile';
  name: string;
  version: number;
  createdAt: number;
}

export type StoreRead = LogRead | ProfileRead;

/** A job whose fields (and its fields' fields) may be given as reads, resolved by the runner that computes it. */
export type Reading<J> = { [K in keyof J]: J[K] | StoreRead | (NonNullable<J[K]> extends readonly unknown[] ? never : NonNullable<J[K]> extends object ? Reading<NonNullable<J[K]>> : never) };

export const logRead = (r: Omit<LogRead, '$read'>, kind: LogRead['$read'] = 'newest'): LogRead => ({ $read: kind, ...r });
export const profileRead = (name: string, version: number, createdAt: number): ProfileRead => ({ $read: 'profile', name, version, createdAt });

const isRead = (x: unknown): x is StoreRead => typeof x === 'object' && x !== null && '$read' in x;
const isPlain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && !ArrayBuffer.isView(x);

/** Whether the job reads anything (else it carries its rows and any thread can compute it). */
export const readsAny = (job: object): boolean => Object.values(job).some((v) => isRead(v) || (isPlain(v) && Object.values(v).some(isRead)));

const COLUMNS = 'id, ts, prediction, label, label_ts, latency_ms';
const VERSION = 'endpoint = ? AND model_name = ? AND model_version = ?';

/** A version's newest logged requests after an id, newest first (labelled ones only: served by the prediction_log_labelled index). */
export const newestSql = (labelled: boolean) => `SELECT ${COLUMNS} FROM prediction_log WHERE ${VERSION} AND id > ?${labelled ? ' AND label IS NOT NULL' : ''} ORDER BY id DESC LIMIT ?`;
/** The same, features as stored (JSON text): a data-drift window. */
export const FEATURES_SQL = 'SELECT id, ts, features FROM prediction_log WHERE endpoint = ? AND id > ? AND model_name = ? AND model_version = ? ORDER BY id DESC LIMIT ?';
/** A version's requests labelled after a cursor, in label order (served by the prediction_log_label_order index). */
export const labelledSinceSql = `SELECT ${COLUMNS} FROM prediction_log WHERE ${VERSION} AND label IS NOT NULL AND (label_ts > ? OR (label_ts = ? AND id > ?)) ORDER BY label_ts, id LIMIT ?`;
const PROFILE_SQL = 'SELECT profile FROM model_version_profiles WHERE name = ? AND version = ? AND created_at = ?';
const OLDEST_SQL = `SELECT ${COLUMNS} FROM prediction_log WHERE ${VERSION} ORDER BY id LIMIT ?`;
const LAST_OF_FIRST_SQL = `SELECT MAX(id) FROM (SELECT id FROM prediction_log WHERE ${VERSION} ORDER BY id LIMIT ?)`;

/** Resolves a job's reads on one connection, in one read transaction (one snapshot of the log per job). */
export class LogReader {
  private readonly statements = new Map<string, Statement>();
  /** Parsed profiles by name/version/created_at, so a check does not re-parse a 2,048-point sketch per feature. */
  private readonly profiles = new Map<string, ReferenceProfile>();
  /** Rows read since this reader was made. */
  rows = 0;

  constructor(private readonly db: Db) {}

  resolve<J extends object>(job: Reading<J>): J {
    return this.db.transaction(() => this.fields(job, 1) as J)();
  }

  /** The object with its reads done, and those of its plain-object fields down to `depth` levels more. */
  private fields(o: object, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = { ...o };
    for (const [k, v] of Object.entries(out)) {
      if (!isRead(v)) {
        if (depth > 0 && isPlain(v)) out[k] = this.fields(v, depth - 1);
        continue;
      }
      if (v.$read === 'profile') {
        out[k] = this.profile(v);
        continue;
      }
      const rows = this.read(v);
      if (v.more) out[v.more.key] = rows.length > v.more.batch;
      out[k] = v.more && rows.length > v.more.batch ? rows.slice(0, v.more.batch) : rows;
    }
    return out;
  }

  private profile(r: ProfileRead): ReferenceProfile {
    const key = `${r.name}\u0000${r.version}\u0000${r.createdAt}`;
    let p = this.profiles.get(key);
    if (!p) {
      const text = this.stmt(PROFILE_SQL).pluck().get(r.name, r.version, r.createdAt) as string | null | undefined;
      if (typeof text !== 'string') throw new Error(`the reference profile of ${r.name}/${r.version} changed during the check`);
      p = parseProfile(text);
      if (this.profiles.size > 256) this.profiles.clear();
      this.profiles.set(key, p);
    }
    return p;
  }

  private read(r: LogRead): unknown[] {
    let rows: unknown[];
    if (r.$read === 'oldest') rows = this.stmt(OLDEST_SQL).all(r.endpoint, r.model, r.version, r.limit);
    else if (r.$read === 'labelledSince') {
      const c = r.cursor ?? { label_ts: 0, id: 0 };
      rows = this.stmt(labelledSinceSql).all(r.endpoint, r.model, r.version, c.label_ts, c.label_ts, c.id, r.limit);
    }
    else if (r.$read === 'features') rows = this.stmt(FEATURES_SQL).all(r.endpoint, r.afterId ?? 0, r.model, r.version, r.limit);
    else {
      const after = r.afterFirst ? ((this.stmt(LAST_OF_FIRST_SQL).pluck().get(r.endpoint, r.model, r.version, r.afterFirst) as number | null) ?? 0) : (r.afterId ?? 0);
      rows = this.stmt(newestSql(r.labelled ?? false)).all(r.endpoint, r.model, r.version, after, r.limit).reverse();
    }
    this.rows += rows.length;
    return rows;
  }

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
}

const readers = new WeakMap<Db, LogReader>();

/** The reader of a connection (its prepared statements kept). */
export function readerOf(db: Db): LogReader {
  let r = readers.get(db);
  if (!r) readers.set(db, (r = new LogReader(db)));
  return r;
}
