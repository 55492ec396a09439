import type { Guardrails, Variant } from './endpoint';

/**
 * Error rate is judged absolutely. Latency is judged against the stable variant in the same window as well: a
 * candidate is "too slow" only when its p99 is over the limit and 1.5× the stable's, so a machine that is slow for
 * everyone (another process eating the CPU) does not roll back a good model.
 */
export function guardrailBreach(v: Variant, stable: Variant | undefined, g: Guardrails, now: number): { code: string; message: string } | null {
  const s = v.window.summary(now);
  if (s.requests < g.minRequests) return null;
  if (s.errorRate > g.maxErrorRate) {
    return { code: 'error_rate', message: `guardrail: ${v.id} error rate ${(s.errorRate * 100).toFixed(1)} % > ${(g.maxErrorRate * 100).toFixed(1)} % over ${s.requests} requests` };
  }
  // A p99 needs about a hundred samples to mean more than "the slowest request".
  if (s.p99Ms !== null && s.requests >= Math.max(g.minRequests, 100) && s.p99Ms > g.maxP99Ms) {
    const base = stable?.window.summary(now).p99Ms ?? null;
    if (base === null || s.p99Ms > base * 1.5) {
      const vs = base === null ? '' : ` (stable ${stable!.id}: ${base.toFixed(1)} ms)`;
      return { code: 'p99_latency', message: `guardrail: ${v.id} p99 latency ${s.p99Ms.toFixed(1)} ms > ${g.maxP99Ms} ms over ${s.requests} requests${vs}` };
    }
  }
  return null;
}

export function samePredictions(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
  return true;
}

function sameValue(x: unknown, y: unknown): boolean {
  if (typeof x === 'number' && typeof y === 'number') return Math.abs(x - y) <= 1e-6 + 1e-4 * Math.abs(x);
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((xi, i) => sameValue(xi, y[i]));
  return x === y;
}
