import Fastify, { type FastifyInstance, type FastifyError, type FastifyReply } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorLog } from './util/error-log';
import { withErrorSink } from './util/logger';
import { ApiError, invalid } from './util/errors';
import type { CoreContext } from './context';
import { Runtime, type RuntimeOptions } from './services/runtime';
import type { Clock } from './util/clock';
import { mlflowRoutes } from './api/mlflow/routes';
import { artifactRoutes } from './api/mlflow/artifacts';
import { v1Routes } from './api/v1/routes';
import { servingRoutes } from './api/serving';
import { installAuth } from './api/auth';

export interface AppOptions {
  /** Folder holding mlops.db and artifacts/. */
  home: string;
  /** Bearer token every request but GET /health must carry. */
  token: string;
  /** ':memory:' for tests; defaults to <home>/mlops.db. */
  dbFile?: string;
  logger?: boolean;
  /** Defaults to the system clock; tests pass a virtual one. */
  clock?: Clock;
  /** Serving and job options for tests (a resolver without a registry, a faster tick, a given Docker). */
  serving?: RuntimeOptions['serving'];
  jobs?: RuntimeOptions['jobs'];
}

export interface App {
  readonly server: FastifyInstance;
  /** The core services (shorthand for runtime.core). */
  readonly ctx: CoreContext;
  /** Every route registered (method and URL pattern), for contract tests and the fuzz suite. */
  readonly routes: readonly { method: string; url: string }[];
  readonly runtime: Runtime;
}

/** Headers the backend stores (the audit log's actor and reason): bounded like the fields they land in. */
const HEADER_LIMITS: readonly (readonly [string, number])[] = [
  ['x-mlops-actor', 256],
  ['x-mlops-reason', 8000],
];

export async function buildApp(opts: AppOptions): Promise<App> {
  const server = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 32 * 1024 * 1024,
    // Request ids in logs and error bodies make support possible without stack traces.
    genReqId: () => Math.random().toString(36).slice(2, 10),
    forceCloseConnections: false,
    // Model and endpoint names travel as path parameters (find-my-way's default cap is 100 characters).
    routerOptions: { maxParamLength: 1000 },
    clientErrorHandler: clientError,
    // Errors the router raises before any route runs (a malformed %-escape, a path parameter over the cap).
    frameworkErrors: (err, _req, reply) => {
      const long = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body = { error_code: 'INVALID_PARAMETER_VALUE', message: long ? 'A path parameter is longer than 1000 characters' : 'Malformed URL' };
      void (reply as FastifyReply).code(long ? 414 : 400).send(body);
    },
  });
  const routes: { method: string; url: string }[] = [];
  server.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url });
  });
  // Always on, --log or not: the request id in a 500's message leads here (<home>/logs/backend.log), and background
  // work (scheduler tasks, restores) logs its warnings and errors here too.
  const errorLog = new ErrorLog(opts.home);
  const runtime = await Runtime.open({
    home: opts.home,
    ...(opts.dbFile ? { dbFile: opts.dbFile } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.serving ? { serving: opts.serving } : {}),
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
    logger: withErrorSink(server.log, errorLog),
    token: opts.token,
    // Jobs log into this backend, each with a token of its own (services/jobs/tokens.ts).
    endpoint: () => {
      const addr = server.server.address();
      return addr && typeof addr === 'object' ? { url: `http://127.0.0.1:${addr.port}` } : null;
    },
  });
  const ctx = runtime.core;
  installAuth(server, { ctx, token: opts.token, tokens: runtime.jobs.tokens, secrets: runtime.secrets });
  // after the token check, so a request without the token learns nothing from the limits
  server.addHook('onRequest', async (req) => {
    for (const [name, max] of HEADER_LIMITS) {
      const v = req.headers[name];
      if (v !== undefined && String(v).length > max) throw invalid(`Header ${name} is ${String(v).length} characters; the limit is ${max}`);
    }
  });
  // An answer sent before the request body arrived whole (a refused or failed upload): close the connection
  // after it. Kept alive, the socket waits for the rest of a body nobody reads, and SIGTERM waits out its grace.
  server.addHook('onSend', async (req, reply) => {
    if (!req.raw.complete) reply.header('connection', 'close');
  });
  server.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      if (err.status >= 500 && err.status !== 501) errorLog.write({ requestId: req.id, method: req.method, url: req.url, status: err.status, err });
      return reply.code(err.status).send({ error_code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 404 ? 'ENDPOINT_NOT_FOUND' : 'INVALID_PARAMETER_VALUE';
      return reply.code(status).send({ error_code: code, message: clientMessage(err) });
    }
    req.log.error(err);
    errorLog.write({ requestId: req.id, method: req.method, url: req.url, status: 500, err });
    return reply.code(500).send({ error_code: 'INTERNAL_ERROR', message: `Internal error (request ${req.id})` });
  });
  server.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No endpoint ${req.method} ${req.url.split('?', 1)[0]}` });
  });
  server.get('/health', async () => 'OK');
  server.get('/version', async () => '3.17.2');
  await server.register(mlflowRoutes, { ctx });
  await server.register(artifactRoutes, { ctx });
  await server.register(v1Routes, { runtime });
  await server.register(servingRoutes, { ctx, engine: runtime.engine, repo: runtime.servingRepo });
  server.addHook('onReady', async () => {
    await runtime.start();
  });
  // Background work ends before the server waits for requests in flight; the store closes after them.
  server.addHook('preClose', async () => {
    await runtime.stop();
  });
  server.addHook('onClose', async () => {
    await runtime.close();
  });
  return { server, ctx, runtime, routes };
}

function clientMessage(err: FastifyError): string {
  if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Request body is empty; expected a JSON object';
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Unsupported Content-Type; send application/json';
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return `Malformed JSON: ${err.message}`;
  return err.message;
}

/**
 * Requests Node's parser refuses before Fastify sees them (headers over 16 KiB, malformed request lines), answered
 * in MLflow's error shape rather than Fastify's, then the connection is closed as Node does.
 */
function clientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'INVALID_PARAMETER_VALUE', 'Request headers are larger than 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'BAD_REQUEST', 'The request took too long to arrive']
        : [400, 'BAD_REQUEST', 'Malformed HTTP request'];
  const body = JSON.stringify({ error_code: code, message });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(err);
}
