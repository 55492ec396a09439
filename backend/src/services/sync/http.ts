import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one HTTP exchange with the remote returned. */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Body = { json: unknown } | { bytes: Buffer; contentType?: string } | { stream: () => Readable; length: number; contentType?: string };

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the remote's base URL, with its query string. */
  path: string;
  body?: Body;
  /** Stream the answer to this callback instead of buffering it (downloads). */
  sink?: (res: http.IncomingMessage) => Promise<void>;
}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-request inactivity timeout. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 15_000, timeoutMs: 120_000 };

/** Statuses worth another try: the ones MLflow's own client retries (urllib3 status_forcelist). */
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** The remote could not be reached or kept dropping the connection, after every retry. */
export class TransportError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}

/** Raised before a retry whose first try may have reached the remote; lets callers of creates look first. */
export interface RetryHooks {
  /** Called before each retry; `ambiguous` is true when the previous try may have been applied remotely. */
  beforeRetry?: (ambiguous: boolean) => Promise<void>;
}

/**
 * A keep-alive HTTP(S) client for one remote, with MLflow-client-style retries: exponential backoff with full
 * jitter on 408/429/5xx and dropped or refused connections, honouring Retry-After.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  onRetry: ((info: { path: string; attempt: number; reason: string; delayMs: number }) => void) | undefined;

  constructor(
    baseUrl: string,
    private readonly headers: Record<string, string>,
    readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.base = new URL(baseUrl.endsWith('/') ? baseUrl : baseUrl + '/');
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 8 });
  }

  close(): void {
    this.agent.destroy();
  }

  async request(spec: RequestSpec, hooks: RetryHooks = {}): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let ambiguous = true;
      let retryAfterMs = 0;
      try {
        const res = await this.once(spec);
        if (!RETRY_STATUS.has(res.status) || attempt >= this.retry.attempts) return res;
        reason = `HTTP ${res.status}`;
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        // A 429/503 is a refusal: nothing was applied. Other 5xx may have been.
        ambiguous = res.status !== 429 && res.status !== 503;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        reason = e.code ?? e.message;
        if (e.code === 'ECONNREFUSED') ambiguous = false;
        if (attempt >= this.retry.attempts) {
          throw new TransportError(`cannot reach ${this.base.origin} (${spec.method} ${spec.path.split('?')[0]}): ${reason} after ${attempt} tries`, err);
        }
      }
      const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.max(retryAfterMs, Math.round(exp / 2 + (Math.random() * exp) / 2));
      this.onRetry?.({ path: spec.path, attempt, reason, delayMs });
      await sleep(delayMs);
      await hooks.beforeRetry?.(ambiguous);
    }
  }

  private once(spec: RequestSpec): Promise<HttpResponse> {
    const url = new URL(spec.path.replace(/^\//, ''), this.base);
    const headers: Record<string, string | number> = { ...this.headers, Accept: 'application/json' };
    let payload: Buffer | Readable | undefined;
    const b = spec.body;
    if (b && 'json' in b) {
      payload = Buffer.from(JSON.stringify(b.json));
      headers['Content-Type'] = 'application/json';
    } else if (b && 'bytes' in b) {
      payload = b.bytes;
      headers['Content-Type'] = b.contentType ?? 'application/octet-stream';
    } else if (b) {
      payload = b.stream();
      headers['Content-Type'] = b.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = b.length;
    }
    if (Buffer.isBuffer(payload)) headers['Content-Length'] = payload.length;
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = lib.request(url, { method: spec.method, headers, agent: this.agent, timeout: this.retry.timeoutMs }, (res) => {
        const status = res.statusCode ?? 0;
        if (spec.sink && status === 200) {
          spec.sink(res).then(() => resolve({ status, headers: res.headers, body: Buffer.alloc(0) }), reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
        res.on('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (payload === undefined) req.end();
      else if (Buffer.isBuffer(payload)) req.end(payload);
      else {
        payload.on('error', (err) => req.destroy(err));
        payload.pipe(req);
      }
    });
  }
}

function parseRetryAfter(v: string | undefined): number {
  if (!v) return 0;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(60_000, Math.max(0, s * 1000));
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.min(60_000, Math.max(0, t - Date.now())) : 0;
}
