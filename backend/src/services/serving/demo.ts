import { performance } from 'node:perf_hooks';
import type { EndpointView, RollbackRecord } from './endpoint';
import { backendCaller } from '../../util/http-client';

export interface ServingDemoOptions {
  url: string;
  token: string;
  /** The version to serve first (e.g. `iris@champion`) and the one to canary (e.g. `iris/2`). */
  champion: string;
  challenger: string;
  endpoint?: string;
  /** Synthetic requests per second while the canary runs. */
  rate?: number;
  /** Seconds between canary steps. */
  stepSeconds?: number;
  /** Roll back once the canary reaches this share (percent). */
  rollbackAt?: number;
  /** Feature rows to send; default: random values for the model's features. */
  rows?: number[][];
  log?: (line: string) => void;
}

export interface ServingDemoResult {
  endpoint: string;
  requests: number;
  failed: number;
  byVariant: Record<string, number>;
  rollback: RollbackRecord;
  final: EndpointView;
}

/**
 * For `mlops demo`: deploys the champion, canaries the challenger under synthetic traffic, and rolls back once the
 * canary reached `rollbackAt` percent, all through the running backend's HTTP API. Every request must succeed.
 */
export async function runServingDemo(o: ServingDemoOptions): Promise<ServingDemoResult> {
  const endpoint = o.endpoint ?? 'demo';
  const log = o.log ?? (() => undefined);
  const call = backendCaller(o.url, o.token);
  const first = await call<EndpointView>('POST', `/endpoints/${endpoint}/deploy`, { model: o.champion });
  log(`serving: ${o.champion} deployed to endpoint '${endpoint}' (${first.variants[0]!.id})`);
  const features = first.variants[0]!.features;
  const rows = o.rows ?? Array.from({ length: 64 }, () => features.map(() => Math.round(Math.random() * 800) / 100));

  let requests = 0;
  let failed = 0;
  const byVariant: Record<string, number> = {};
  let running = true;
  const interval = 1000 / (o.rate ?? 50);
  const traffic = (async () => {
    let next = performance.now();
    const inflight = new Set<Promise<void>>();
    while (running) {
      const row = rows[requests % rows.length]!;
      requests++;
      const p = fetch(`${o.url}/endpoints/${endpoint}/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dataframe_split: { columns: features, data: [row] } }),
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (!res.ok) failed++;
          const v = res.headers.get('x-mlops-variant') ?? '?';
          byVariant[v] = (byVariant[v] ?? 0) + 1;
        })
        .catch(() => {
          failed++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
      next += interval;
      await new Promise((d) => setTimeout(d, Math.max(0, next - performance.now())));
    }
    await Promise.all(inflight);
  })();

  try {
    await call('POST', `/endpoints/${endpoint}/deploy`, { model: o.challenger, strategy: 'canary', step_interval_s: o.stepSeconds ?? 1 });
    log(`serving: canary of ${o.challenger} started (1 → 5 → 10 → 25 → 50 → 100 %)`);
    const target = o.rollbackAt ?? 25;
    for (;;) {
      const v = await call<EndpointView>('GET', `/endpoints/${endpoint}`);
      if (!v.canary || v.canary.percent >= target) break;
      await new Promise((d) => setTimeout(d, 100));
    }
  } catch (err) {
    running = false;
    await traffic;
    throw err;
  }
  const rb = await call<{ endpoint: EndpointView; rollback: RollbackRecord }>('POST', `/endpoints/${endpoint}/rollback`, { reason: 'demo' });
  log(`serving: rolled back ${rb.rollback.from} → ${rb.rollback.to} in ${rb.rollback.durationMs.toFixed(2)} ms`);
  await new Promise((d) => setTimeout(d, 500));
  running = false;
  await traffic;
  log(`serving: ${requests} synthetic requests, ${failed} failed; by variant ${JSON.stringify(byVariant)}`);
  return { endpoint, requests, failed, byVariant, rollback: rb.rollback, final: await call<EndpointView>('GET', `/endpoints/${endpoint}`) };
}
