import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A request the backend answered with an error body ({error_code, message}) or could not be reached. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: string,
  ) {
    super(message);
  }

  /** The backend has no such route: the feature behind it has not landed in this backend. */
  get notAvailable(): boolean {
    return this.status === 404 && this.code === 'ENDPOINT_NOT_FOUND';
  }
}

export interface Endpoint {
  url: string;
  token: string;
}

const TIMEOUT_MS = 30_000;

export function send(ep: Endpoint, method: string, path: string, body?: unknown, timeoutMs = TIMEOUT_MS): Promise<unknown> {
  const url = new URL(path, ep.url);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
    method,
    headers: {
      authorization: `Bearer ${ep.token}`,
      accept: 'application/json',
      ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
    },
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    req.on('timeout', () => req.destroy(new ApiRequestError(0, 'TIMEOUT', `The backend did not answer ${method} ${url.pathname} within ${timeoutMs / 1000}s`, path)));
    req.on('error', (e) =>
      reject(e instanceof ApiRequestError ? e : new ApiRequestError(0, 'UNREACHABLE', `Cannot reach the backend at ${ep.url}: ${e.message}`, path)),
    );
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = text;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          // A plain-text answer such as GET /health.
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(json);
        const err = (json ?? {}) as { error_code?: string; message?: string };
        const code = err.error_code ?? `HTTP_${status}`;
        const msg = status === 401 ? `The backend at ${ep.url} refused the token (check mlopsStudio.token)` : (err.message ?? `HTTP ${status}`);
        reject(new ApiRequestError(status, code, msg, path));
      });
    });
    req.end(payload);
  });
}

/**
 * Opens GET `path` as a server-sent event stream; calls onData with each `data:` payload (and its `event:` name,
 * `message` when it has none). Resolves when the stream is open, rejects if it cannot be opened; `onEnd` fires once
 * when an open stream ends. Returns a closer.
 */
export function openEventStream(ep: Endpoint, path: string, onData: (data: string, event: string) => void, onEnd: (why: string) => void): Promise<() => void> {
  const url = new URL(path, ep.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${ep.token}`, accept: 'text/event-stream' } });
    let closed = false;
    const close = () => {
      closed = true;
      req.destroy();
    };
    req.on('error', (e) => {
      if (!closed) reject(new ApiRequestError(0, 'UNREACHABLE', e.message, path));
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new ApiRequestError(res.statusCode ?? 0, res.statusCode === 404 ? 'ENDPOINT_NOT_FOUND' : `HTTP_${res.statusCode}`, `event stream: HTTP ${res.statusCode}`, path));
        return;
      }
      resolve(close);
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const lines = block.split('\n');
          const data = lines
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() || 'message';
          if (data) onData(data, event);
        }
      });
      const end = (why: string) => {
        if (closed) return;
        closed = true;
        onEnd(why);
      };
      res.on('end', () => end('the backend closed the event stream'));
      res.on('error', (e) => end(e.message));
      res.on('close', () => end('the event stream closed'));
    });
    req.end();
  });
}
