/**
 * The A/B page's sequence over time: for each candidate against the stable and each metric, the difference in
 * means as the traffic arrived, with the fixed-n 95 % interval (valid at one pre-planned look only) and the
 * always-valid confidence sequence of the mSPRT (valid however often it is looked at; stats/sequential.ts).
 * Bounded: at most MAX_POINTS points per line, evenly over the observations, the last one always kept.
 */
import { normalQuantile, SequentialTest } from '../stats';
import type { AbArm, AbRow } from './ab';
import { labelMatch } from './labels';

export const MAX_POINTS = 120;
const ALPHA = 0.05;

/** A logged prediction of an arm with its time (the prediction log's ts). */
export interface TimedAbRow extends AbRow {
  ts: number;
}

export interface AbSequencePoint {
  t: number;
  n_control: number;
  n_treatment: number;
  /** Treatment mean − control mean. */
  difference: number;
  /** Fixed-n 95 % interval: Δ̂ ± 1.96·√V. */
  ci_low: number;
  ci_high: number;
  /** Always-valid 95 % confidence sequence at this look. */
  cs_low: number;
  cs_high: number;
  /** Always-valid p-value (never rises). */
  p_value: number;
}

export interface AbSequence {
  metric: string;
  variant: string;
  control: string;
  alpha: number;
  /** Per-arm size where the sequence is tightest (the mSPRT's tuning). */
  tuning_n: number;
  points: AbSequencePoint[];
}

type Obs = { t: number; arm: 0 | 1; x: number };

/**
 * `bounds`: the range the true difference lies in (±1 for a difference of proportions); the intervals are cut to it,
 * which keeps them valid (the truth is inside both) and keeps the first looks from filling the chart.
 */
function line(metric: string, variant: string, control: string, obs: readonly Obs[], bounds: [number, number] = [-Infinity, Infinity]): AbSequence {
  const cut = (x: number) => Math.min(bounds[1], Math.max(bounds[0], x));
  const test = new SequentialTest({ alpha: ALPHA });
  const z = normalQuantile(1 - ALPHA / 2);
  const every = Math.max(1, Math.ceil(obs.length / MAX_POINTS));
  const points: AbSequencePoint[] = [];
  obs.forEach((o, i) => {
    test.add(o.arm, o.x);
    if ((i + 1) % every !== 0 && i !== obs.length - 1) return;
    const s = test.state();
    if (!Number.isFinite(s.interval[0]) || !Number.isFinite(s.variance)) return;
    const half = z * Math.sqrt(s.variance);
    const [csLow, csHigh] = s.interval;
    points.push({ t: o.t, n_control: s.n[0], n_treatment: s.n[1], difference: s.difference, ci_low: cut(s.difference - half), ci_high: cut(s.difference + half), cs_low: cut(csLow), cs_high: cut(csHigh), p_value: s.pValue });
  });
  return { metric, variant, control, alpha: ALPHA, tuning_n: test.options.tuningN, points };
}

/** One line per candidate and metric (accuracy where both arms have labelled rows, and latency); [] without a test. */
export function abSequences(arms: readonly AbArm[], rows: readonly TimedAbRow[]): AbSequence[] {
  const live = arms.filter((a) => a.weight > 0);
  const control = live.find((a) => a.role === 'stable');
  if (!control || live.length < 2) return [];
  const out: AbSequence[] = [];
  for (const cand of live.filter((a) => a.id !== control.id)) {
    const armOf = (r: TimedAbRow): 0 | 1 | null => (r.variant === control.id ? 0 : r.variant === cand.id ? 1 : null);
    const latency: Obs[] = [];
    const accuracy: Obs[] = [];
    for (const r of rows) {
      const arm = armOf(r);
      if (arm === null) continue;
      latency.push({ t: r.ts, arm, x: r.latency });
      const m = r.label === null ? null : labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label) as unknown);
      for (let i = 0; m && i < m.total; i++) accuracy.push({ t: r.ts, arm, x: i < m.right ? 1 : 0 });
    }
    if (new Set(accuracy.map((o) => o.arm)).size === 2) out.push(line('accuracy', cand.id, control.id, accuracy, [-1, 1]));
    out.push(line('latency_ms', cand.id, control.id, latency));
  }
  return out.filter((s) => s.points.length > 0);
}
