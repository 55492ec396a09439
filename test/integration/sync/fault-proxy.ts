import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { mulberry32 } from '../../../backend/src/util/random';

/**
 * What the proxy does with one request: pass it on; answer 503 without passing it on; cut the connection before
 * passing it on; pass it on and cut the connection once the remote has answered (the remote applied it, the
 * client never hears); delay it by a time or until a promise settles (it reaches the remote then, even if the client
 * gave up on it meanwhile); or answer with a fixed status (auth failures, missing endpoints).
 */
export type Fault = 'pass' | '503' | '429' | 'drop-before' | 'drop-after' | { delayMs: number } | { until: Promise<unknown> } | { status: number; body: string };

export interface ProxyRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** 1-based count of requests seen so far. */
  n: number;
}

export interface FaultProxy {
  url: string;
  /** `landed`: the remote's status for each request, by its number `n`, once the remote answered it. */
  stats: { requests: number; injected: Record<string, number>; byPath: Record<string, number>; landed: Map<number, number> };
  close(): Promise<void>;
}

/** A deterministic PRNG so a failing fault schedule can be replayed. */
export const seeded = mulberry32;

/** A plan that injects each fault with its probability, from a seeded PRNG. */
export function randomFaults(seed: number, p: { s503?: number; s429?: number; dropBefore?: number; dropAfter?: number; delay?: number; delayMs?: number }): (r: ProxyRequest) => Fault {
  const rnd = seeded(seed);
  return () => {
    let x = rnd();
    for (const [k, f] of [
      ['s503', '503'],
      ['s429', '429'],
      ['dropBefore', 'drop-before'],
      ['dropAfter', 'drop-after'],
    ] as const) {
      const q = p[k] ?? 0;
      if (x < q) return f;
      x -= q;
    }
    if (x < (p.delay ?? 0)) return { delayMs: p.delayMs ?? 50 };
    return 'pass';
  };
}

/** An HTTP proxy in front of a real server that injects faults per request. */
export async function startFaultProxy(target: string, plan: (r: ProxyRequest) => Fault): Promise<FaultProxy> {
  const up = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { requests: 0, injected: {} as Record<string, number>, byPath: {} as Record<string, number>, landed: new Map<number, number>() };
  const server = http.createServer((req, res) => {
    const n = ++stats.requests;
    const path = req.url ?? '/';
    const route = path.split('?')[0]!.replace(/\/api\/2\.0\/mlflow-artifacts\/artifacts\/.*/, '/api/2.0/mlflow-artifacts/artifacts/*');
    stats.byPath[`${req.method} ${route}`] = (stats.byPath[`${req.method} ${route}`] ?? 0) + 1;
    const fault = plan({ method: req.method ?? 'GET', path, headers: req.headers, n });
    const name = typeof fault === 'string' ? fault : 'delayMs' in fault ? 'delay' : 'until' in fault ? 'hold' : `status-${fault.status}`;
    if (name !== 'pass') stats.injected[name] = (stats.injected[name] ?? 0) + 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (fault === '503' || fault === '429') {
          res.writeHead(Number(fault), { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ error_code: fault === '503' ? 'TEMPORARILY_UNAVAILABLE' : 'REQUEST_LIMIT_EXCEEDED', message: 'injected' }));
          return;
        }
        if (fault === 'drop-before') {
          req.socket.destroy();
          return;
        }
        if (typeof fault === 'object' && 'status' in fault) {
          res.writeHead(fault.status, { 'Content-Type': 'application/json' });
          res.end(fault.body);
          return;
        }
        if (typeof fault === 'object' && 'delayMs' in fault) await sleep(fault.delayMs);
        if (typeof fault === 'object' && 'until' in fault) await fault.until;
        const body = Buffer.concat(chunks);
        const headers = { ...req.headers, host: up.host };
        const preq = http.request({ host: up.hostname, port: up.port, method: req.method, path, headers, agent }, (pres) => {
          const out: Buffer[] = [];
          pres.on('data', (c: Buffer) => out.push(c));
          pres.on('end', () => {
            stats.landed.set(n, pres.statusCode ?? 0);
            if (fault === 'drop-after' || res.destroyed) {
              req.socket.destroy();
              return;
            }
            res.writeHead(pres.statusCode ?? 502, pres.headers);
            res.end(Buffer.concat(out));
          });
        });
        preq.on('error', () => req.socket.destroy());
        preq.end(body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
