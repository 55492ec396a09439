/**
 * A/B analysis of one or more metrics across variants: per-arm summaries, a sample-ratio-mismatch check, each
 * treatment against the control (Welch's t for continuous metrics, the two-proportion z-test for binary ones),
 * Holm–Bonferroni across every (metric, treatment) comparison, optionally the always-valid sequential test, and a
 * verdict with its reason.
 */
import type { Interval, TTestResult } from './abtest';
import {
  cohensD, holmBonferroni, meanDifferenceCI, proportionDifferenceCI, proportionRelativeCI, relativeDifferenceCI,
  studentTTest, summarize, twoProportionZTest, welchTTest,
} from './abtest';
import { chi2Contingency, chiSquareGoodnessOfFit } from './chisquare';
import { percentiles } from './quantiles';
import type { SequentialState } from './sequential';
import { SequentialTest } from './sequential';

export type MetricKind = 'continuous' | 'binary';
export type Verdict = 'treatment wins' | 'control wins' | 'inconclusive';

export interface AbOptions {
  alpha: number;
  /** SRM is flagged below this p-value. */
  srmAlpha: number;
  control?: string;
  /** Intended traffic shares by variant; equal shares when absent. */
  split?: Record<string, number>;
  higherIsBetter: boolean;
  sequential: boolean;
  tuningN: number;
}

export const AB_DEFAULTS: AbOptions = { alpha: 0.05, srmAlpha: 0.001, higherIsBetter: true, sequential: false, tuningN: 5000 };

/** One metric's observations in arrival order. */
export interface MetricData {
  name: string;
  kind: MetricKind;
  variants: string[];
  /** Index into `variants` for each observation. */
  arm: Uint32Array | number[];
  values: Float64Array | number[];
}

export interface ArmSummary {
  variant: string;
  n: number;
  mean: number;
  std: number;
  conversions?: number;
  percentiles?: Record<string, number>;
}

export interface Comparison {
  metric: string;
  treatment: string;
  control: string;
  test: 'welch_t' | 'two_proportion_z';
  statistic: number;
  df?: number;
  pValue: number;
  adjustedPValue: number;
  student?: TTestResult;
  chi2?: { pearson: { statistic: number; pValue: number }; yates: { statistic: number; pValue: number } };
  cohensD?: number;
  absolute: Interval;
  relative: Interval | null;
  sequential?: SequentialState;
  verdict: Verdict;
  reason: string;
}

export interface SrmCheck {
  observed: Record<string, number>;
  expectedShares: Record<string, number>;
  statistic: number;
  pValue: number;
  mismatch: boolean;
}

export interface AbReport {
  control: string;
  alpha: number;
  srm: SrmCheck;
  metrics: { name: string; kind: MetricKind; arms: ArmSummary[] }[];
  comparisons: Comparison[];
}

export function analyzeAb(metrics: readonly MetricData[], options: Partial<AbOptions> = {}): AbReport {
  const o = { ...AB_DEFAULTS, ...options };
  if (metrics.length === 0) throw new Error('no metric to analyse');
  const variants = metrics[0]!.variants;
  if (variants.length < 2) throw new Error(`need at least two variants, found ${variants.length} (${variants.join(', ') || 'none'})`);
  const control = o.control ?? (variants.includes('control') ? 'control' : [...variants].sort()[0]!);
  const ci = variants.indexOf(control);
  if (ci < 0) throw new Error(`control variant '${control}' not found; variants: ${variants.join(', ')}`);
  const srm = srmCheck(metrics[0]!, o);
  const perMetric = metrics.map((m) => ({ m, groups: groupByArm(m) }));
  const comparisons: Omit<Comparison, 'adjustedPValue' | 'verdict' | 'reason'>[] = [];
  for (const { m, groups } of perMetric) {
    for (let ti = 0; ti < variants.length; ti++) {
      if (ti === ci) continue;
      const base = m.kind === 'binary' ? compareBinary(groups[ti]!, groups[ci]!) : compareContinuous(groups[ti]!, groups[ci]!);
      const seq = o.sequential ? sequentialFor(m, ti, ci, o) : undefined;
      comparisons.push({ metric: m.name, treatment: variants[ti]!, control, ...base, ...(seq ? { sequential: seq } : {}) });
    }
  }
  const adjusted = holmBonferroni(comparisons.map((c) => c.sequential?.pValue ?? c.pValue));
  return {
    control,
    alpha: o.alpha,
    srm,
    metrics: perMetric.map(({ m, groups }) => ({ name: m.name, kind: m.kind, arms: groups.map((g, i) => armSummary(variants[i]!, g, m.kind)) })),
    comparisons: comparisons.map((c, i) => ({ ...c, adjustedPValue: adjusted[i]!, ...verdictFor(c, adjusted[i]!, srm, o) })),
  };
}

function groupByArm(m: MetricData): number[][] {
  const groups: number[][] = m.variants.map(() => []);
  for (let i = 0; i < m.values.length; i++) groups[m.arm[i]!]!.push(m.values[i]!);
  return groups;
}

function armSummary(variant: string, values: number[], kind: MetricKind): ArmSummary {
  const s = summarize(values);
  const base = { variant, n: s.n, mean: s.mean, std: Math.sqrt(s.variance) };
  if (kind === 'binary') return { ...base, conversions: values.reduce((a, b) => a + b, 0) };
  return s.n ? { ...base, percentiles: percentiles(values) } : base;
}

function srmCheck(m: MetricData, o: AbOptions): SrmCheck {
  const counts = m.variants.map(() => 0);
  for (let i = 0; i < m.arm.length; i++) counts[m.arm[i]!]!++;
  const shares = m.variants.map((v) => {
    const s = o.split ? o.split[v] : 1;
    if (s === undefined || !(s > 0)) throw new Error(`intended split has no positive share for variant '${v}'`);
    return s;
  });
  const total = shares.reduce((a, b) => a + b, 0);
  const r = chiSquareGoodnessOfFit(counts, shares);
  return {
    observed: Object.fromEntries(m.variants.map((v, i) => [v, counts[i]!])),
    expectedShares: Object.fromEntries(m.variants.map((v, i) => [v, shares[i]! / total])),
    statistic: r.statistic,
    pValue: r.pValue,
    mismatch: r.pValue < o.srmAlpha,
  };
}

function compareContinuous(t: number[], c: number[]) {
  const st = summarize(t);
  const sc = summarize(c);
  const w = welchTTest(st, sc);
  return {
    test: 'welch_t' as const, statistic: w.statistic, df: w.df, pValue: w.pValue, student: studentTTest(st, sc),
    cohensD: cohensD(st, sc), absolute: meanDifferenceCI(st, sc), relative: relativeDifferenceCI(st, sc),
  };
}

function compareBinary(t: number[], c: number[]) {
  const pt = { successes: t.reduce((a, b) => a + b, 0), n: t.length };
  const pc = { successes: c.reduce((a, b) => a + b, 0), n: c.length };
  const z = twoProportionZTest(pt, pc);
  const table = [[pt.successes, pt.n - pt.successes], [pc.successes, pc.n - pc.successes]];
  const degenerate = table.every((r) => r[0] === 0) || table.every((r) => r[1] === 0);
  const chi2 = degenerate ? undefined : {
    pearson: pick(chi2Contingency(table, false)),
    yates: pick(chi2Contingency(table, true)),
  };
  return {
    test: 'two_proportion_z' as const, statistic: z.statistic, pValue: z.pValue, ...(chi2 ? { chi2 } : {}),
    absolute: proportionDifferenceCI(pt, pc), relative: proportionRelativeCI(pt, pc),
  };
}

const pick = (r: { statistic: number; pValue: number }) => ({ statistic: r.statistic, pValue: r.pValue });

function sequentialFor(m: MetricData, ti: number, ci: number, o: AbOptions): SequentialState {
  const s = new SequentialTest({ alpha: o.alpha, tuningN: o.tuningN });
  for (let i = 0; i < m.values.length; i++) {
    const a = m.arm[i];
    if (a === ti) s.add(1, m.values[i]!);
    else if (a === ci) s.add(0, m.values[i]!);
  }
  return s.state();
}

function verdictFor(c: Omit<Comparison, 'adjustedPValue' | 'verdict' | 'reason'>, adj: number, srm: SrmCheck, o: AbOptions): { verdict: Verdict; reason: string } {
  if (srm.mismatch) {
    return { verdict: 'inconclusive', reason: `sample ratio mismatch (p = ${fmt(srm.pValue)} < ${o.srmAlpha}): the traffic split is broken, so no comparison can be trusted` };
  }
  const test = c.sequential ? 'always-valid sequential p' : c.test === 'welch_t' ? "Welch's t-test p" : 'two-proportion z-test p';
  const diff = `difference ${fmt(c.absolute.estimate)}`;
  if (adj >= o.alpha) return { verdict: 'inconclusive', reason: `${test} = ${fmt(adj)} (Holm-adjusted) ≥ α = ${o.alpha}; ${diff} is not significant` };
  const treatmentBetter = c.absolute.estimate > 0 === o.higherIsBetter;
  return {
    verdict: treatmentBetter ? 'treatment wins' : 'control wins',
    reason: `${test} = ${fmt(adj)} (Holm-adjusted) < α = ${o.alpha}; ${diff} favours the ${treatmentBetter ? 'treatment' : 'control'}`,
  };
}

const fmt = (v: number): string => (Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : String(Number(v.toPrecision(4))));
