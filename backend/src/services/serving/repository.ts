import type { Db } from '../../store/db';
import { logWriterFor, type LogRow, type LogWriter } from './log-writer';
import type { TimedAbRow } from './absequence';
import { labelMatch, type LabelMatch } from './labels';
import type { AccuracyRow } from './metrics';

export interface LogEntry {
  requestId: string;
  endpoint: string;
  variant: string;
  modelName: string;
  modelVersion: number;
  features: unknown;
  prediction: unknown;
  latencyMs: number;
  ts: number;
}

export interface LoggedPrediction extends LogEntry {
  id: number;
  label: unknown;
  /** Rows whose prediction equals the label (labels.ts); null when unlabelled or the label does not line up. */
  match: LabelMatch | null;
}

export interface LogOptions {
  /** Rows kept; older ones are deleted as new ones arrive. */
  maxRows: number;
  /** Predictions logged per second at most; above it, the rest are not logged (sampling under load). */
  maxPerSecond: number;
}

/** How long logged predictions wait before their batch goes to the writer. */
const BATCH_MS = 50;

/**
 * SQL of the serving engine: endpoint configurations and the prediction log. A logged prediction is serialised
 * when it is queued (a few microseconds, spread over the requests) and handed to the log writer in batches every
 * 50 ms; the writer commits them off the event loop, so a request never waits on SQLite. Reads of the log first
 * wait until everything queued so far is committed.
 */
export class ServingRepository {
  private buffer: LogRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private second = 0;
  private loggedThisSecond = 0;
  private readonly writer: LogWriter;
  sampledOut = 0;

  constructor(
    private readonly db: Db,
    readonly opts: LogOptions = { maxRows: 200_000, maxPerSecond: 2_000 },
  ) {
    this.writer = logWriterFor(db, opts.maxRows);
  }

  /** Runs `fn` in one store transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  saveEndpoint(name: string, config: unknown): void {
    const t = Date.now();
    this.db
      .prepare('INSERT INTO serving_endpoints (name, config, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at')
      .run(name, JSON.stringify(config), t, t);
  }

  deleteEndpoint(name: string): void {
    this.db.prepare('DELETE FROM serving_endpoints WHERE name = ?').run(name);
  }

  endpoints(): { name: string; config: unknown }[] {
    return (this.db.prepare('SELECT name, config FROM serving_endpoints ORDER BY name').all() as { name: string; config: string }[]).map((r) => ({
      name: r.name,
      config: JSON.parse(r.config) as unknown,
    }));
  }

  /** Queues a prediction for the log; false when sampled out because of the rate cap. */
  log(e: LogEntry): boolean {
    const sec = Math.floor(e.ts / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.loggedThisSecond = 0;
    }
    if (this.loggedThisSecond >= this.opts.maxPerSecond) {
      this.sampledOut++;
      return false;
    }
    this.loggedThisSecond++;
    this.buffer.push([e.requestId, e.endpoint, e.variant, e.modelName, e.modelVersion, JSON.stringify(e.features), JSON.stringify(e.prediction), e.latencyMs, e.ts]);
    this.timer ??= setTimeout(() => this.send(), BATCH_MS);
    return true;
  }

  /** Hands the queued rows to the writer without waiting for their commit. */
  private send(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0 || !this.db.open) return;
    const batch = this.buffer;
    this.buffer = [];
    this.writer.write(batch);
  }

  /** Returns once every prediction logged so far is committed. */
  flush(): void {
    this.send();
    this.writer.sync();
  }

  /** Resolves once every prediction logged so far is committed, without blocking the event loop while it waits. */
  flushed(): Promise<void> {
    this.send();
    return this.writer.synced();
  }

  /** Attaches ground-truth labels by request id; returns the ids that matched a logged prediction. */
  feedback(endpoint: string, items: readonly { requestId: string; label: unknown }[]): string[] {
    this.flush();
    const upd = this.db.prepare('UPDATE prediction_log SET label = ?, label_ts = ? WHERE endpoint = ? AND request_id = ?');
    const matched: string[] = [];
    const t = Date.now();
    this.db.transaction(() => {
      for (const it of items) if (upd.run(JSON.stringify(it.label), t, endpoint, it.requestId).changes > 0) matched.push(it.requestId);
    })();
    return matched;
  }

  recent(endpoint: string, limit: number): LoggedPrediction[] {
    this.flush();
    const rows = this.db
      .prepare('SELECT * FROM prediction_log WHERE endpoint = ? ORDER BY id DESC LIMIT ?')
      .all(endpoint, limit) as { id: number; request_id: string; endpoint: string; variant: string; model_name: string; model_version: number; features: string; prediction: string; latency_ms: number; ts: number; label: string | null }[];
    return rows.map((r) => {
      const prediction = JSON.parse(r.prediction) as unknown;
      const label = r.label === null ? null : (JSON.parse(r.label) as unknown);
      return {
        id: r.id,
        requestId: r.request_id,
        endpoint: r.endpoint,
        variant: r.variant,
        modelName: r.model_name,
        modelVersion: r.model_version,
        features: JSON.parse(r.features) as unknown,
        prediction,
        latencyMs: r.latency_ms,
        ts: r.ts,
        label,
        match: labelMatch(prediction, label),
      };
    });
  }

  /** The newest `limit` predictions the given variants served since `since` (ms), oldest first: an A/B test's rows. */
  abRows(endpoint: string, variants: readonly string[], since: number, limit: number): TimedAbRow[] {
    this.flush();
    if (variants.length === 0) return [];
    return this.db
      .prepare(
        `SELECT variant, latency_ms AS latency, prediction, label, ts FROM
           (SELECT id, variant, latency_ms, prediction, label, ts FROM prediction_log
            WHERE endpoint = ? AND ts >= ? AND variant IN (${variants.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT ?)
         ORDER BY id`,
      )
      .all(endpoint, since, ...variants, limit) as TimedAbRow[];
  }

  /** Accuracy of labelled predictions per endpoint and model version, over the newest `limit` labelled rows. */
  accuracy(limit = 10_000): AccuracyRow[] {
    const rows = this.db
      .prepare('SELECT endpoint, model_name, model_version, prediction, label FROM prediction_log WHERE label IS NOT NULL ORDER BY id DESC LIMIT ?')
      .all(limit) as { endpoint: string; model_name: string; model_version: number; prediction: string; label: string }[];
    const acc = new Map<string, { row: AccuracyRow; right: number; total: number }>();
    for (const r of rows) {
      const m = labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label) as unknown);
      if (!m) continue;
      const key = `${r.endpoint}\u0000${r.model_name}\u0000${r.model_version}`;
      let a = acc.get(key);
      if (!a) acc.set(key, (a = { row: { model_name: r.model_name, model_version: String(r.model_version), segment: `endpoint:${r.endpoint}`, accuracy: 0 }, right: 0, total: 0 }));
      a.total += m.total;
      a.right += m.right;
    }
    return [...acc.values()].map((a) => ({ ...a.row, accuracy: a.total ? a.right / a.total : 0 }));
  }

  close(): void {
    this.send();
    this.writer.close();
  }
}
