import type { AbResult } from '../../../webviews/src/protocol/ab';
import type { MonitoringData, Series } from '../../../webviews/src/protocol/monitoring';

type Loose = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const arr = (v: unknown): Loose[] => (Array.isArray(v) ? (v as Loose[]) : []);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : v === undefined || v === null ? d : String(v));

/** Reads the serving feature's A/B answer into the webview's shape; unknown fields are ignored, missing ones empty. */
export function toAbResult(endpoint: string, body: unknown): AbResult {
  const b = (body ?? {}) as Loose;
  const srm = (b.srm ?? null) as Loose | null;
  return {
    endpoint,
    variants: arr(b.variants).map((v) => ({
      id: str(v.id ?? v.variant),
      model: str(v.model ?? (v.model_name ? `${str(v.model_name)}/${str(v.model_version)}` : '')),
      weight: num(v.weight) ?? 0,
      requests: num(v.requests ?? v.n ?? v.requests_total) ?? 0,
      metrics: arr(v.metrics).map((m) => ({ name: str(m.name ?? m.metric), value: num(m.value ?? m.mean) ?? NaN, low: num(m.low ?? m.ci_low), high: num(m.high ?? m.ci_high) })),
    })),
    tests: arr(b.tests).map((t) => ({ metric: str(t.metric), variant: str(t.variant), p_value: num(t.p_value), effect: num(t.effect ?? t.lift), significant: t.significant === true })),
    srm: srm ? { p_value: num(srm.p_value) ?? NaN, mismatch: srm.mismatch === true } : null,
    verdict: str(b.verdict, 'No verdict yet: keep the test running.'),
  };
}

function series(v: unknown): Series[] {
  return arr(v).map((s) => ({ name: str(s.name ?? s.variant, 'all'), points: arr(s.points).map((p) => ({ t: num(p.t ?? p.ts) ?? 0, v: num(p.v ?? p.value) ?? NaN })) }));
}

export function toMonitoring(endpoint: string, body: unknown): MonitoringData {
  const b = (body ?? {}) as Loose;
  const h = (b.heatmap ?? null) as Loose | null;
  return {
    endpoint,
    volume: series(b.volume),
    latencyP99: series(b.latency_p99 ?? b.latencyP99),
    accuracy: series(b.accuracy),
    heatmap: h
      ? {
          features: arr(h.features).map((f) => str(f)),
          buckets: arr(h.buckets).map((x) => num(x) ?? 0),
          scores: arr(h.scores).map((row) => (Array.isArray(row) ? row.map((x) => num(x)) : [])),
        }
      : null,
  };
}
