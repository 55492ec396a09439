// Keep-alive JSON client for benchmarks: bodies are sent pre-serialized so the client spends as little CPU as
// possible on the 2-core machine, and both servers receive byte-for-byte the same requests.
import { Agent, request } from 'node:http';

export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
}

const agents = new Map<string, Agent>();

function agentFor(url: string): Agent {
  let a = agents.get(url);
  if (!a) {
    a = new Agent({ keepAlive: true, maxSockets: 64 });
    agents.set(url, a);
  }
  return a;
}

class StaleSocket extends Error {}

/**
 * Sends one request and resolves with the parsed JSON body; a non-2xx status rejects with the body. A kept-alive
 * socket the server closed while idle (uvicorn drops them after 5 s) is retried once on a fresh one.
 */
export async function call<T = Record<string, unknown>>(t: Target, method: 'GET' | 'POST', path: string, body?: string): Promise<T> {
  try {
    return await send<T>(t, method, path, body);
  } catch (e) {
    if (!(e instanceof StaleSocket)) throw e;
    return send<T>(t, method, path, body);
  }
}

function send<T>(t: Target, method: 'GET' | 'POST', path: string, body?: string): Promise<T> {
  const u = new URL(t.url + path);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...t.headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: agentFor(t.url) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (!res.statusCode || res.statusCode >= 300) reject(new Error(`${t.name} ${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        else resolve((text ? JSON.parse(text) : {}) as T);
      });
      res.on('error', reject);
    });
    // Node's documented keep-alive race: only a reused socket reset before any response is safe to retry.
    req.on('error', (e: NodeJS.ErrnoException) => reject(req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE') ? new StaleSocket(e.message) : e));
    req.end(body);
  });
}

export const mlflowApi = (t: Target, path: string, body: unknown): Promise<Record<string, unknown>> => call(t, 'POST', `/api/2.0/mlflow${path}`, JSON.stringify(body));

export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

/** Runs `work(i)` for i in [0, n) on `concurrency` async workers. */
export async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await work(next++);
    }),
  );
}
