import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';

export const TOKEN = 'test-token';

export interface Harness {
  app: App;
  home: string;
  /** Calls the app in-process (no socket). GET bodies go to the query string, as the mlflow client sends them. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Record<string, unknown> }>;
  close(): Promise<void>;
  /** Every 5xx the app answered; a contract test ends by asserting this is empty. */
  serverErrors: string[];
}

export type DbKind = 'memory' | 'file';
export const DB_KINDS: DbKind[] = ['memory', 'file'];

export async function harness(kind: DbKind = 'memory'): Promise<Harness> {
  const home = mkdtempSync(join(tmpdir(), 'mlops-inject-'));
  const app = await buildApp({ home, token: TOKEN, ...(kind === 'memory' ? { dbFile: ':memory:' } : {}) });
  const serverErrors: string[] = [];
  app.server.addHook('onResponse', async (req, reply) => {
    // 501 is a deliberate answer (multipart upload declined as the reference server declines it)
    if (reply.statusCode >= 500 && reply.statusCode !== 501) serverErrors.push(`${req.method} ${req.url} -> ${reply.statusCode}`);
  });
  return {
    app,
    home,
    serverErrors,
    async call(method, path, body, headers = {}) {
      let url = path;
      const h: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...headers };
      let payload: string | undefined;
      if (method === 'GET' && body && typeof body === 'object') {
        const qs = new URLSearchParams();
        for (const [k, v] of Object.entries(body as Record<string, unknown>)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
        url += (url.includes('?') ? '&' : '?') + qs.toString();
      } else if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await app.server.inject({ method: method as 'GET', url, headers: h, ...(payload !== undefined ? { payload } : {}) });
      let parsed: unknown = res.body;
      try {
        parsed = res.body ? JSON.parse(res.body) : {};
      } catch {
        // not JSON (downloads, /health)
      }
      return { status: res.statusCode, body: parsed as never, headers: res.headers };
    },
    async close() {
      await app.server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export const M = (rpc: string) => `/api/2.0/mlflow/${rpc}`;
