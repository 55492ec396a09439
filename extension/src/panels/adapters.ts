import type { AbResult, AbSequencePoint } from '../../../webviews/src/protocol/ab';
import type { LoggedPrediction } from '../../../backend/src/services/serving/repository';
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
      role: v.role === 'candidate' ? ('candidate' as const) : ('stable' as const),
      weight: num(v.weight) ?? 0,
      requests: num(v.requests ?? v.n ?? v.requests_total) ?? 0,
      metrics: arr(v.metrics).map((m) => ({ name: str(m.name ?? m.metric), value: num(m.value ?? m.mean) ?? NaN, low: num(m.low ?? m.ci_low), high: num(m.high ?? m.ci_high) })),
    })),
    tests: arr(b.tests).map((t) => ({ metric: str(t.metric), variant: str(t.variant), p_value: num(t.p_value), effect: num(t.effect ?? t.lift), significant: t.significant === true })),
    srm: srm ? { p_value: num(srm.p_value) ?? NaN, mismatch: srm.mismatch === true } : null,
    verdict: str(b.verdict, 'No verdict yet: keep the test running.'),
    sequences: arr(b.sequences).map((q) => ({
      metric: str(q.metric),
      variant: str(q.variant),
      control: str(q.control),
      alpha: num(q.alpha) ?? 0.05,
      tuning_n: num(q.tuning_n) ?? 0,
      points: arr(q.points).filter((p) => SEQUENCE_KEYS.every((k) => num(p[k]) !== null)) as unknown as AbSequencePoint[],
    })),
  };
}

const SEQUENCE_KEYS = ['t', 'n_control', 'n_treatment', 'difference', 'ci_low', 'ci_high', 'cs_low', 'cs_high', 'p_value'] as const;

const MINUTE = 60_000;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)] ?? NaN;
}

/**
 * The monitoring charts from an endpoint's logged predictions: per variant and minute, the request count, the
 * p99 latency and (where feedback labels arrived) the share of predicted rows equal to their label.
 */
export function toMonitoring(endpoint: string, predictions: readonly LoggedPrediction[]): MonitoringData {
  const groups = new Map<string, Map<number, LoggedPrediction[]>>();
  for (const p of predictions) {
    const byMinute = groups.get(p.variant) ?? new Map<number, LoggedPrediction[]>();
    const t = Math.floor(p.ts / MINUTE) * MINUTE;
    byMinute.set(t, [...(byMinute.get(t) ?? []), p]);
    groups.set(p.variant, byMinute);
  }
  const make = (f: (ps: LoggedPrediction[]) => number | null): Series[] =>
    [...groups.entries()].map(([name, byMinute]) => ({
      name,
      points: [...byMinute.entries()]
        .sort((a, b) => a[0] - b[0])
        .flatMap(([t, ps]) => {
          const v = f(ps);
          return v === null ? [] : [{ t, v }];
        }),
    }));
  return {
    endpoint,
    volume: make((ps) => ps.length),
    latencyP99: make((ps) => p99(ps.map((p) => p.latencyMs))),
    // The backend says which rows match their label (one definition for /metrics, Monitoring and A/B).
    accuracy: make((ps) => {
      let right = 0;
      let total = 0;
      for (const p of ps) {
        right += p.match?.right ?? 0;
        total += p.match?.total ?? 0;
      }
      return total ? right / total : null;
    }),
    heatmap: null,
  };
}
