import { analyzeAb, type MetricData } from '../stats/abreport';
import { labelMatch } from './labels';

/** One live arm of the current test, as the engine routes it. */
export interface AbArm {
  id: string;
  model: string;
  role: 'stable' | 'candidate';
  /** Percent of live traffic actually set. */
  weight: number;
}

/** A logged prediction of one of the arms, since the test started. */
export interface AbRow {
  variant: string;
  latency: number;
  prediction: string;
  label: string | null;
}

export interface AbVariantResult {
  id: string;
  model: string;
  role: 'stable' | 'candidate';
  weight: number;
  requests: number;
  metrics: { name: string; value: number; low: number; high: number }[];
}

export interface AbAnalysis {
  endpoint: string;
  /** When the current split began (ms since epoch): rows before it belong to another test. */
  since: number | null;
  control: string | null;
  variants: AbVariantResult[];
  tests: { metric: string; variant: string; p_value: number; effect: number; significant: boolean }[];
  srm: { p_value: number; mismatch: boolean; observed: Record<string, number>; expected_shares: Record<string, number> } | null;
  verdict: string;
}

const Z95 = 1.959963984540054;
/** Requests per arm before a comparison is attempted (Welch's t needs two; fewer says nothing). */
const MIN_PER_ARM = 2;

/**
 * The stats engine's A/B analysis of the endpoint's live arms (stable and candidate with a share of traffic),
 * over the predictions they served since the current split was set, against the weights actually set. Accuracy
 * (where feedback labels arrived; labels.ts decides a match) and latency, each treatment against the stable.
 */
export function analyseAb(endpoint: string, arms: readonly AbArm[], since: number | null, rows: readonly AbRow[]): AbAnalysis {
  const live = arms.filter((a) => a.weight > 0);
  const requests = new Map(arms.map((a) => [a.id, 0]));
  for (const r of rows) requests.set(r.variant, (requests.get(r.variant) ?? 0) + 1);
  const plain = (): AbVariantResult[] => arms.map((a) => ({ ...a, requests: requests.get(a.id) ?? 0, metrics: [] }));
  const base = { endpoint, since, control: arms.find((a) => a.role === 'stable')?.id ?? null, tests: [], srm: null };
  if (arms.length === 0) return { ...base, variants: [], verdict: 'Nothing is deployed on this endpoint.' };
  if (live.length < 2) {
    return { ...base, variants: plain(), verdict: `Only ${live.map((a) => a.id).join('') || arms[0]!.id} takes traffic: start an A/B test (MLOps: Start A/B Test).` };
  }
  const short = live.filter((a) => (requests.get(a.id) ?? 0) < MIN_PER_ARM);
  if (short.length) {
    return { ...base, variants: plain(), verdict: `Not enough traffic since the test started: ${short.map((a) => `${a.id} has served ${requests.get(a.id) ?? 0}`).join(', ')}.` };
  }
  const ids = live.map((a) => a.id);
  const idx = new Map(ids.map((v, i) => [v, i]));
  const inTest = rows.filter((r) => idx.has(r.variant));
  const control = live.find((a) => a.role === 'stable')?.id ?? ids[0]!;
  const split = Object.fromEntries(live.map((a) => [a.id, a.weight]));
  const metrics: MetricData[] = [];
  const accuracy = accuracyData(ids, idx, inTest);
  if (accuracy) metrics.push(accuracy);
  const latency: MetricData = { name: 'latency_ms', kind: 'continuous', variants: ids, arm: inTest.map((r) => idx.get(r.variant)!), values: inTest.map((r) => r.latency) };
  // Accuracy: higher is better; latency: lower is better. One analysis each, as the stats engine takes one direction.
  const reports = [...metrics.map((m) => analyzeAb([m], { control, higherIsBetter: true, split })), analyzeAb([latency], { control, higherIsBetter: false, split })];
  const summaries = reports.flatMap((r) => r.metrics);
  const variants = live.map((a) => ({
    ...a,
    requests: requests.get(a.id) ?? 0,
    metrics: summaries.flatMap((m) =>
      m.arms.filter((s) => s.variant === a.id).map((s) => {
        const half = (Z95 * s.std) / Math.sqrt(Math.max(s.n, 1));
        return { name: m.name, value: s.mean, low: s.mean - half, high: s.mean + half };
      }),
    ),
  }));
  const comparisons = reports.flatMap((r) => r.comparisons);
  const srm = reports[reports.length - 1]!.srm;
  const decisive = comparisons.filter((c) => c.verdict !== 'inconclusive');
  const verdict = srm.mismatch
    ? `inconclusive (sample-ratio mismatch): ${ids.map((v) => `${v} served ${srm.observed[v]}`).join(', ')} against weights ${ids.map((v) => `${fmt(split[v]!)} %`).join(' / ')} (p = ${fmt(srm.pValue)}); the traffic split is off, so no comparison can be trusted.`
    : decisive.length
      ? decisive.map((c) => `${c.metric}: ${c.verdict === 'treatment wins' ? `${c.treatment} wins` : `${c.control} (control) wins`} (${c.reason})`).join('; ')
      : `Inconclusive so far (${comparisons.map((c) => c.reason).join('; ')})`;
  return {
    ...base,
    control,
    variants,
    tests: comparisons.map((c) => ({ metric: c.metric, variant: c.treatment, p_value: c.adjustedPValue, effect: c.absolute.estimate, significant: c.verdict !== 'inconclusive' })),
    srm: { p_value: srm.pValue, mismatch: srm.mismatch, observed: srm.observed, expected_shares: srm.expectedShares },
    verdict,
  };
}

/** One binary observation per labelled row (1 when its prediction equals its label); null unless every arm has some. */
function accuracyData(ids: string[], idx: Map<string, number>, rows: readonly AbRow[]): MetricData | null {
  const arm: number[] = [];
  const values: number[] = [];
  for (const r of rows) {
    const m = r.label === null ? null : labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label) as unknown);
    if (!m) continue;
    for (let i = 0; i < m.total; i++) {
      arm.push(idx.get(r.variant)!);
      values.push(i < m.right ? 1 : 0);
    }
  }
  return arm.length > 0 && new Set(arm).size === ids.length ? { name: 'accuracy', kind: 'binary', variants: ids, arm, values } : null;
}

const fmt = (v: number): string => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : String(Number(v.toPrecision(4))));
