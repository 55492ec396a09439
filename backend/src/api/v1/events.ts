import { EventEmitter } from 'node:events';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CoreContext } from '../../context';
import { openSqlite } from '../../store/sqlite';
import { EVENT_TOPICS, type BackendEvent, type EventTopic } from './contract-ui';

/** Coalesces bursts (a training loop logging a metric every few ms) into one event per window. */
const DEBOUNCE_MS = 300;
/** How often a connected backend checks whether another process (the CLI, a job) wrote to the store. */
const WATCH_MS = 1000;
/** Keeps proxies and idle timers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

const READS = /\/(search|get|get-[a-z-]+|list|compare|ui)(\/|$|\?)/;

/** Which views a successful write through HTTP affects, from its path. */
export function topicsOf(method: string, url: string): EventTopic[] {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return [];
  const path = url.split('?', 1)[0] ?? '';
  if (READS.test(path) || path === '/api/v1/events') return [];
  if (path.startsWith('/api/2.0/mlflow/runs') || path.startsWith('/api/2.0/mlflow/logged-models')) return ['runs', 'experiments'];
  if (path.startsWith('/api/2.0/mlflow/experiments')) return ['experiments'];
  if (path.startsWith('/api/2.0/mlflow/registered-models') || path.startsWith('/api/2.0/mlflow/model-versions')) return ['models', 'audit'];
  if (path.startsWith('/api/2.0/mlflow-artifacts') || path.startsWith('/ajax-api')) return [];
  // Scoring traffic and labels change no view; the monitoring panel refreshes on demand.
  if (/^\/endpoints\/[^/]+\/(invocations|feedback)$/.test(path)) return [];
  if (path.startsWith('/endpoints')) return ['endpoints', 'models', 'audit'];
  const v1 = /^\/api\/v1\/([a-z-]+)/.exec(path)?.[1];
  if (v1 === 'endpoints' || v1 === 'deployments' || v1 === 'serving') return ['endpoints', 'models', 'audit'];
  if (v1 === 'jobs' || v1 === 'pipelines' || v1 === 'training') return ['jobs', 'runs', 'experiments'];
  if (v1 === 'drift' || v1 === 'monitoring') return ['drift'];
  if (v1 === 'monitors' || v1 === 'incidents') return ['drift', 'audit'];
  if (v1 === 'retrains' || v1 === 'retrain') return ['retrains', 'audit'];
  return [...EVENT_TOPICS];
}

/** Fan-out of change notifications to every open event stream. Other features may publish through `app.mlopsEvents`. */
export class EventHub {
  private readonly emitter = new EventEmitter();
  private pending = new Set<EventTopic>();
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(topics: readonly EventTopic[]): void {
    if (topics.length === 0 || this.emitter.listenerCount('event') === 0) return;
    for (const t of topics) this.pending.add(t);
    this.timer ??= setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const e: BackendEvent = { topics: [...this.pending], at: Date.now() };
    this.pending = new Set();
    this.emitter.emit('event', e);
  }

  subscribe(fn: (e: BackendEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  get listeners(): number {
    return this.emitter.listenerCount('event');
  }

  close(): void {
    clearTimeout(this.timer);
    this.emitter.emit('close');
    this.emitter.removeAllListeners();
  }

  onClose(fn: () => void): () => void {
    this.emitter.once('close', fn);
    return () => this.emitter.off('close', fn);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    mlopsEvents: EventHub;
  }
}

/** Cheap per-topic signatures; a topic is published when its signature changes. Tables a backend lacks are skipped. */
const SIGNATURES: [EventTopic, string, string][] = [
  ['experiments', 'experiments', "SELECT COUNT(*) || ':' || IFNULL(MAX(last_update_time), 0) FROM experiments"],
  ['runs', 'runs', "SELECT COUNT(*) || ':' || IFNULL(MAX(start_time), 0) || ':' || IFNULL(MAX(end_time), 0) || ':' || SUM(status = 'RUNNING') || ':' || SUM(lifecycle_stage = 'deleted') FROM runs"],
  ['models', 'model_versions', "SELECT (SELECT COUNT(*) || ':' || IFNULL(MAX(last_updated_time), 0) FROM registered_models) || ':' || COUNT(*) || ':' || IFNULL(MAX(last_updated_time), 0) FROM model_versions"],
  ['audit', 'audit_log', 'SELECT IFNULL(MAX(id), 0) FROM audit_log'],
  ['endpoints', 'serving_endpoints', "SELECT COUNT(*) || ':' || IFNULL(MAX(updated_at), 0) FROM serving_endpoints"],
  // The monitors' background checks and incident changes (the Monitors and Drift views).
  ['drift', 'incidents', "SELECT (SELECT IFNULL(MAX(id), 0) FROM monitor_results) || ':' || (SELECT COUNT(*) || ':' || SUM(status = 'open') || ':' || SUM(status = 'acknowledged') FROM incidents)"],
  // The retraining ledger: a new retrain or any transition (the backend's own background work, mostly).
  ['retrains', 'retrains', "SELECT COUNT(*) || ':' || IFNULL(MAX(updated_at), 0) || ':' || (SELECT IFNULL(MAX(id), 0) FROM retrain_transitions) FROM retrains"],
  ['jobs', 'jobs', "SELECT COUNT(*) || ':' || SUM(status = 'running') || ':' || SUM(status = 'queued') || ':' || IFNULL(MAX(ended_at), 0) || ':' || IFNULL(MAX(started_at), 0) FROM jobs"],
];

/**
 * Writes by other processes (the `mlops` CLI, job containers, the backend's own background work) do not pass through
 * this server's HTTP hooks. While someone listens, a second read-only connection checks SQLite's data_version once a
 * second (it changes on every commit by any other connection) and, when it moved, compares cheap per-topic
 * signatures, so a flushed prediction log (frequent, shown in no view) publishes nothing.
 */
function watchStore(file: string, hub: EventHub): () => void {
  if (file === ':memory:' || file === '') return () => undefined;
  const reader = openSqlite(file, { readonly: true, fileMustExist: true });
  const version = reader.prepare('PRAGMA data_version').pluck();
  const exists = reader.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
  const signatures = () => {
    const out = new Map<EventTopic, unknown>();
    for (const [topic, table, sql] of SIGNATURES) if (exists.get(table)) out.set(topic, reader.prepare(sql).pluck().get());
    return out;
  };
  let lastVersion = version.get();
  let last = signatures();
  const tick = setInterval(() => {
    if (hub.listeners === 0) return;
    const v = version.get();
    if (v === lastVersion) return;
    lastVersion = v;
    const now = signatures();
    const changed = [...now.keys()].filter((t) => now.get(t) !== last.get(t));
    last = now;
    hub.publish(changed);
  }, WATCH_MS);
  tick.unref();
  return () => {
    clearInterval(tick);
    reader.close();
  };
}

function openStream(raw: ServerResponse, hub: EventHub): void {
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  raw.write(': connected\n\n');
  const unsubscribe = hub.subscribe((e) => raw.write(`data: ${JSON.stringify(e)}\n\n`));
  const beat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
  const end = () => {
    clearInterval(beat);
    unsubscribe();
    stopOnClose();
    if (!raw.writableEnded) raw.end();
  };
  const stopOnClose = hub.onClose(end);
  raw.on('close', end);
}

const plugin: FastifyPluginAsync<{ ctx: Pick<CoreContext, 'db'> }> = async (app: FastifyInstance, { ctx }) => {
  const hub = new EventHub();
  app.decorate('mlopsEvents', hub);
  const stopWatch = watchStore(ctx.db.name, hub);
  // On the shared Node server, not a Fastify hook: this plugin sits inside /api/v1's encapsulated context, and a
  // hook there would not see the MLflow routes registered beside it.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    res.once('finish', () => {
      if (res.statusCode < 400) hub.publish(topicsOf(req.method ?? 'GET', req.url ?? ''));
    });
  };
  app.server.on('request', onRequest);
  // Streams never end on their own; end them before close, or server.close() would wait for them.
  app.addHook('preClose', async () => {
    app.server.off('request', onRequest);
    stopWatch();
    hub.close();
  });
  app.get('/api/v1/events', async (_req, reply) => {
    reply.hijack();
    openStream(reply.raw, hub);
  });
};
// Not encapsulated (what fastify-plugin does), so the other /api/v1 features can publish through app.mlopsEvents.
(plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/** GET /api/v1/events: server-sent events, one `data:` line per coalesced change ({topics, at}). */
export const eventRoutes = plugin;
