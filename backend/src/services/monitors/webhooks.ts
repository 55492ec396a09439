import { createHash } from 'node:crypto';
import type { Db } from '../../store/db';
import type { Clock } from '../../util/clock';
import { ApiError, invalid, notFound } from '../../util/errors';
import type { Logger } from '../../util/logger';
import type { Scheduler } from '../scheduler';
import type { AlertSink, IncidentAlert } from './alerts';
import { GROUP_BY, groupKeyOf, payloadOf, signature, toAmAlert, type AmAlert, type AmPayload } from './alertmanager';

/** Alertmanager's route defaults. */
export const AM_DEFAULTS = { groupWaitMs: 30_000, groupIntervalMs: 300_000, repeatIntervalMs: 4 * 3_600_000 };
/** Delivery attempts per notification; the waits between them double from 1 s up to 5 minutes (±20 % jitter). */
export const MAX_ATTEMPTS = 8;
const BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 300_000;
const TIMEOUT_MS = 10_000;
const TICK_MS = 1000;
/** Deliveries tried per tick at most, so one slow receiver cannot hold the loop for long. */
const PER_TICK = 10;

export interface ReceiverInput {
  name: string;
  url: string;
  secret?: string | null;
  secretEnv?: string | null;
  groupWaitMs?: number;
  groupIntervalMs?: number;
  repeatIntervalMs?: number;
}

export interface Receiver {
  id: number;
  name: string;
  url: string;
  secret: string | null;
  secretEnv: string | null;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  createdAt: number;
}

export interface Delivery {
  id: number;
  receiver: string;
  group_key: string;
  status: 'pending' | 'delivered' | 'failed';
  alert_status: string;
  attempts: number;
  next_attempt_at: number | null;
  created_at: number;
  finished_at: number | null;
  last_http_status: number | null;
  last_error: string | null;
  alerts: number;
  tries: { at: number; http_status: number | null; error: string | null; duration_ms: number }[];
}

interface GroupRow {
  receiver_id: number;
  group_key: string;
  group_labels: string;
  alerts: string;
  next_flush_at: number;
  last_sent_at: number | null;
  last_sent_digest: string | null;
}

/**
 * Webhooks that speak Alertmanager's webhook JSON, so existing receivers work: incidents are grouped per receiver by
 * alertname and endpoint, a new group waits group_wait, changes go out at most every group_interval and a firing
 * group is re-sent every repeat_interval; resolved alerts are sent once. Each notification is signed (HMAC-SHA256)
 * when the receiver has a secret, stored before it is sent, retried with backoff on 5xx, 408, 429 and network
 * errors, and every attempt recorded. All timing is on the runtime's clock and scheduler.
 */
export class WebhookChannel implements AlertSink {
  readonly name = 'webhooks';
  private ticking: Promise<void> | null = null;

  constructor(
    private readonly o: {
      db: Db;
      clock: Clock;
      log: Logger;
      externalURL: () => string;
      env?: NodeJS.ProcessEnv;
      random?: () => number;
      /** Called when a receiver with a secret is added (the backend's list of secrets to mask changed). */
      secretsChanged?: () => void;
    },
  ) {}

  schedule(scheduler: Pick<Scheduler, 'add'>): () => void {
    return scheduler.add({ name: 'alerts: webhooks', intervalMs: TICK_MS, run: () => this.tick() });
  }

  publish(alert: IncidentAlert): void {
    const now = this.o.clock.now();
    const am = toAmAlert(alert, this.o.externalURL());
    const groupLabels = Object.fromEntries(GROUP_BY.map((k) => [k, am.labels[k]!]));
    const key = groupKeyOf(groupLabels);
    const { db } = this.o;
    db.transaction(() => {
      for (const r of this.receivers()) {
        const g = db.prepare('SELECT * FROM alert_groups WHERE receiver_id = ? AND group_key = ?').get(r.id, key) as GroupRow | undefined;
        const alerts = g ? (JSON.parse(g.alerts) as Record<string, AmAlert>) : {};
        alerts[am.fingerprint] = am;
        if (g) db.prepare('UPDATE alert_groups SET alerts = ? WHERE receiver_id = ? AND group_key = ?').run(JSON.stringify(alerts), r.id, key);
        else db.prepare('INSERT INTO alert_groups (receiver_id, group_key, group_labels, alerts, next_flush_at) VALUES (?, ?, ?, ?, ?)').run(r.id, key, JSON.stringify(groupLabels), JSON.stringify(alerts), now + r.groupWaitMs);
      }
    })();
  }

  /** Flushes due groups into notifications, then tries the due deliveries. */
  tick(): Promise<void> {
    this.ticking ??= this.tickOnce().finally(() => (this.ticking = null));
    return this.ticking;
  }

  async close(): Promise<void> {
    await this.ticking;
  }

  private async tickOnce(): Promise<void> {
    const now = this.o.clock.now();
    const due = this.o.db.prepare('SELECT * FROM alert_groups WHERE next_flush_at <= ?').all(now) as GroupRow[];
    for (const g of due) this.flush(g, now);
    const pending = this.o.db.prepare("SELECT id FROM alert_notifications WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?").all(now, PER_TICK) as { id: number }[];
    for (const p of pending) await this.deliver(p.id);
  }

  private flush(g: GroupRow, now: number): void {
    const r = this.receiverById(g.receiver_id);
    if (!r) return;
    const alerts = JSON.parse(g.alerts) as Record<string, AmAlert>;
    const all = Object.values(alerts);
    const firing = all.filter((a) => a.status === 'firing');
    const changed = digest(all) !== g.last_sent_digest;
    const repeat = firing.length > 0 && g.last_sent_at !== null && now - g.last_sent_at >= r.repeatIntervalMs;
    const send = all.length > 0 && (changed || repeat);
    const { db } = this.o;
    db.transaction(() => {
      if (send) {
        const payload = payloadOf(r.name, JSON.parse(g.group_labels) as Record<string, string>, all, this.o.externalURL());
        db.prepare("INSERT INTO alert_notifications (receiver_id, group_key, status, alert_status, payload, next_attempt_at, created_at) VALUES (?, ?, 'pending', ?, ?, ?, ?)").run(
          r.id,
          g.group_key,
          payload.status,
          JSON.stringify(payload),
          now,
          now,
        );
      }
      // Resolved alerts are sent once, then leave the group; a group with nothing left is gone.
      const left = Object.fromEntries(Object.entries(alerts).filter(([, a]) => a.status === 'firing'));
      if (Object.keys(left).length === 0 && send) db.prepare('DELETE FROM alert_groups WHERE receiver_id = ? AND group_key = ?').run(r.id, g.group_key);
      else {
        db.prepare('UPDATE alert_groups SET alerts = ?, next_flush_at = ?, last_sent_at = ?, last_sent_digest = ? WHERE receiver_id = ? AND group_key = ?').run(
          JSON.stringify(send ? left : alerts),
          now + r.groupIntervalMs,
          send ? now : g.last_sent_at,
          send ? digest(Object.values(left)) : g.last_sent_digest,
          r.id,
          g.group_key,
        );
      }
    })();
  }

  private async deliver(id: number): Promise<void> {
    const n = this.o.db.prepare("SELECT * FROM alert_notifications WHERE id = ? AND status = 'pending'").get(id) as
      | { id: number; receiver_id: number; payload: string; attempts: number }
      | undefined;
    const r = n ? this.receiverById(n.receiver_id) : null;
    if (!n || !r) return;
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'MLOpsStudio-Webhook/1', 'x-mlops-delivery': String(n.id) };
      const secret = this.secretOf(r);
      if (secret) headers['x-mlops-signature'] = signature(secret, n.payload, Math.floor(this.o.clock.now() / 1000));
      const res = await fetch(r.url, { method: 'POST', headers, body: n.payload, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
      status = res.status;
      await res.body?.cancel();
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
    } catch (err) {
      error = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name ?? 'error';
      if (error === 'TimeoutError') error = `no answer in ${TIMEOUT_MS / 1000} s`;
    }
    const ms = performance.now() - started;
    const now = this.o.clock.now();
    const attempts = n.attempts + 1;
    const retryable = error !== null && (status === null || status >= 500 || status === 408 || status === 429);
    const final = error === null ? 'delivered' : !retryable || attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
    const wait = Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (attempts - 1)) * (0.8 + 0.4 * (this.o.random ?? Math.random)());
    this.o.db.transaction(() => {
      this.o.db.prepare('INSERT INTO alert_attempts (notification_id, at, http_status, error, duration_ms) VALUES (?, ?, ?, ?, ?)').run(n.id, now, status, error, ms);
      this.o.db
        .prepare('UPDATE alert_notifications SET status = ?, attempts = ?, next_attempt_at = ?, finished_at = ?, last_http_status = ?, last_error = ? WHERE id = ?')
        .run(final, attempts, final === 'pending' ? now + Math.round(wait) : now, final === 'pending' ? null : now, status, error, n.id);
    })();
    if (final === 'failed') this.o.log.warn(`webhook '${r.name}': notification ${n.id} failed after ${attempts} attempt(s): ${error}`);
  }

  // --- receivers and deliveries (API and CLI) ---

  receivers(): Receiver[] {
    return (this.o.db.prepare('SELECT * FROM alert_receivers ORDER BY name').all() as RawReceiver[]).map(receiverOf);
  }

  add(input: ReceiverInput): Receiver {
    const name = input.name.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw invalid(`A receiver name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit; got '${input.name.slice(0, 100)}'`);
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw invalid(`'${input.url.slice(0, 200)}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`A webhook URL is http:// or https://, got ${url.protocol}`);
    if (input.secret && input.secretEnv) throw invalid("Give the signing secret either as 'secret' or as 'secret_env' (the variable holding it), not both");
    if (input.secretEnv && !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(input.secretEnv)) throw invalid(`'${input.secretEnv.slice(0, 100)}' is not an environment variable name`);
    if (input.secret !== undefined && input.secret !== null && input.secret.length < 16) throw invalid('A signing secret has at least 16 characters');
    const t = { ...AM_DEFAULTS, ...Object.fromEntries(Object.entries({ groupWaitMs: input.groupWaitMs, groupIntervalMs: input.groupIntervalMs, repeatIntervalMs: input.repeatIntervalMs }).filter(([, v]) => v !== undefined)) };
    if (this.o.db.prepare('SELECT 1 FROM alert_receivers WHERE name = ?').get(name)) throw new ApiError('RESOURCE_ALREADY_EXISTS', `A webhook receiver named '${name}' already exists`);
    this.o.db
      .prepare('INSERT INTO alert_receivers (name, url, secret, secret_env, group_wait_ms, group_interval_ms, repeat_interval_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(name, url.toString(), input.secret ?? null, input.secretEnv ?? null, t.groupWaitMs, t.groupIntervalMs, t.repeatIntervalMs, this.o.clock.now());
    if (input.secret || input.secretEnv) this.o.secretsChanged?.();
    return this.receiver(name);
  }

  remove(name: string): void {
    if (this.o.db.prepare('DELETE FROM alert_receivers WHERE name = ?').run(name).changes === 0) throw notFound(`No webhook receiver named '${name}'`);
  }

  receiver(name: string): Receiver {
    const r = this.o.db.prepare('SELECT * FROM alert_receivers WHERE name = ?').get(name) as RawReceiver | undefined;
    if (!r) throw notFound(`No webhook receiver named '${name}'`);
    return receiverOf(r);
  }

  /** Sends a test notification (alertname MLOpsTest) to one receiver now and returns how its first attempt went. */
  async test(name: string): Promise<Delivery> {
    const r = this.receiver(name);
    const now = this.o.clock.now();
    const am = toAmAlert(
      { incidentId: 'test', monitorId: 'test', endpoint: 'test', kind: 'data_drift', severity: 'info', status: 'firing', summary: 'MLOps Studio test notification', description: 'Sent by mlops alerts webhook test', startsAt: now, endsAt: null, labels: {}, evidencePath: null },
      this.o.externalURL(),
    );
    am.labels.alertname = 'MLOpsTest';
    const payload = payloadOf(r.name, { alertname: 'MLOpsTest', endpoint: 'test' }, [am], this.o.externalURL());
    const id = Number(
      this.o.db
        .prepare("INSERT INTO alert_notifications (receiver_id, group_key, status, alert_status, payload, next_attempt_at, created_at) VALUES (?, ?, 'pending', 'firing', ?, ?, ?)")
        .run(r.id, payload.groupKey, JSON.stringify(payload), now, now).lastInsertRowid,
    );
    await this.deliver(id);
    return this.deliveries({ limit: 1, id })[0]!;
  }

  deliveries(o: { receiver?: string; limit: number; id?: number }): Delivery[] {
    const rows = this.o.db
      .prepare(
        `SELECT n.*, r.name AS receiver FROM alert_notifications n JOIN alert_receivers r ON r.id = n.receiver_id
         WHERE (? IS NULL OR r.name = ?) AND (? IS NULL OR n.id = ?) ORDER BY n.id DESC LIMIT ?`,
      )
      .all(o.receiver ?? null, o.receiver ?? null, o.id ?? null, o.id ?? null, o.limit) as (Omit<Delivery, 'alerts' | 'tries'> & { payload: string })[];
    const tries = this.o.db.prepare('SELECT at, http_status, error, duration_ms FROM alert_attempts WHERE notification_id = ? ORDER BY id');
    return rows.map(({ payload, ...n }) => ({
      ...n,
      next_attempt_at: n.status === 'pending' ? n.next_attempt_at : null,
      alerts: (JSON.parse(payload) as AmPayload).alerts.length,
      tries: tries.all(n.id) as Delivery['tries'],
    }));
  }

  /** The signing secrets (stored, or read from the variables named), for masking everywhere. */
  secretValues(): string[] {
    const env = this.o.env ?? process.env;
    return this.receivers().flatMap((r) => [r.secret, r.secretEnv ? env[r.secretEnv] : undefined].filter((s): s is string => !!s));
  }

  private secretOf(r: Receiver): string | null {
    if (r.secret) return r.secret;
    const v = r.secretEnv ? (this.o.env ?? process.env)[r.secretEnv] : undefined;
    return v || null;
  }

  private receiverById(id: number): Receiver | null {
    const r = this.o.db.prepare('SELECT * FROM alert_receivers WHERE id = ?').get(id) as RawReceiver | undefined;
    return r ? receiverOf(r) : null;
  }
}

interface RawReceiver {
  id: number;
  name: string;
  url: string;
  secret: string | null;
  secret_env: string | null;
  group_wait_ms: number;
  group_interval_ms: number;
  repeat_interval_ms: number;
  created_at: number;
}

function receiverOf(r: RawReceiver): Receiver {
  return { id: r.id, name: r.name, url: r.url, secret: r.secret, secretEnv: r.secret_env, groupWaitMs: r.group_wait_ms, groupIntervalMs: r.group_interval_ms, repeatIntervalMs: r.repeat_interval_ms, createdAt: r.created_at };
}

/** What a group's alerts are now (fingerprint and status): a notification goes out when it differs from the last one sent. */
function digest(alerts: readonly AmAlert[]): string {
  return createHash('sha256')
    .update(alerts.map((a) => `${a.fingerprint}:${a.status}`).sort().join(','))
    .digest('hex');
}
