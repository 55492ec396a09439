import { chiSquareGoodnessOfFit } from '../stats/chisquare';
import { quantileSorted, sortedCopy } from '../stats/quantiles';
import { SequentialTest } from '../stats/sequential';
import type { AbRow } from '../serving/ab';
import { labelMatch } from '../serving/labels';
import { invalid } from '../../util/errors';

/** How an online A/B experiment between the champion (control) and a challenger (treatment) is judged. */
export interface ExperimentConfig {
  /** The success metric the verdict is taken on (labelled predictions; latency and errors are the engine's guardrails). */
  metric: 'accuracy';
  /** Labelled predictions per arm before any verdict (the always-valid test allows looking earlier; we do not decide earlier). */
  min_samples: number;
  /** The sequential test's level: P(a wrong verdict at any look) ≤ α. */
  alpha: number;
  /** No verdict by then: inconclusive. */
  max_duration_s: number;
  /** better: the challenger must be ahead (lower confidence bound > 0); non_inferior: no worse than `margin`. */
  require: 'better' | 'non_inferior';
  margin: number;
  /** What an inconclusive experiment does: keep the champion (roll the challenger back) or promote it. */
  on_inconclusive: 'keep_champion' | 'promote';
}

export const EXPERIMENT_DEFAULTS: ExperimentConfig = {
  metric: 'accuracy',
  min_samples: 1000,
  alpha: 0.05,
  max_duration_s: 7 * 86_400,
  require: 'non_inferior',
  margin: 0.01,
  on_inconclusive: 'keep_champion',
};

/** Sample-ratio mismatch below this p-value: the split is off and no comparison is trusted. */
const SRM_ALPHA = 0.001;

const num = (v: unknown, what: string, min: number, max: number, int = false): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) throw invalid(`${what} must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}; got ${JSON.stringify(v)}`);
  return v;
};

export function normalizeExperiment(i: Partial<ExperimentConfig> = {}): ExperimentConfig {
  const known = Object.keys(EXPERIMENT_DEFAULTS);
  const bad = Object.keys(i).filter((k) => !known.includes(k));
  if (bad.length) throw invalid(`Unknown experiment setting(s): ${bad.join(', ')}`);
  const c = { ...EXPERIMENT_DEFAULTS, ...i };
  if (c.metric !== 'accuracy') throw invalid(`experiment.metric must be accuracy; got ${JSON.stringify(c.metric)}`);
  if (c.require !== 'better' && c.require !== 'non_inferior') throw invalid(`experiment.require must be better or non_inferior; got ${JSON.stringify(c.require)}`);
  if (c.on_inconclusive !== 'keep_champion' && c.on_inconclusive !== 'promote') throw invalid(`experiment.on_inconclusive must be keep_champion or promote; got ${JSON.stringify(c.on_inconclusive)}`);
  return {
    metric: c.metric,
    min_samples: num(c.min_samples, 'experiment.min_samples', 10, 10_000_000, true),
    alpha: num(c.alpha, 'experiment.alpha', 0.0001, 0.5),
    max_duration_s: num(c.max_duration_s, 'experiment.max_duration_s', 60, 366 * 86_400),
    require: c.require,
    margin: num(c.margin, 'experiment.margin', 0, 1),
    on_inconclusive: c.on_inconclusive,
  };
}

export interface ArmStats {
  variant: string;
  requests: number;
  labelled: number;
  accuracy: number | null;
  p99_ms: number | null;
}

export interface ExperimentAnalysis {
  control: ArmStats;
  treatment: ArmStats;
  /** Treatment − control accuracy, the always-valid p-value, the confidence sequence now and its running intersection. */
  difference: number;
  p_value: number;
  interval: [number, number] | null;
  running_interval: [number, number] | null;
  srm: { p_value: number; mismatch: boolean } | null;
  /** promote / reject when the evidence says so; null while it does not (yet). */
  decision: 'promote' | 'reject' | null;
  reason: string;
}

const finite = (x: [number, number]): [number, number] | null => (Number.isFinite(x[0]) && Number.isFinite(x[1]) ? x : null);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} pts`;

/**
 * One look at an experiment: every row the two arms served since it started, in arrival order, through the
 * mSPRT (stats/sequential.ts; tightest near min_samples per arm). The running intersection of the confidence
 * sequence decides: its lower bound above the threshold (0, or −margin for non-inferiority) promotes, its upper bound
 * below it rejects. Stateless: the same rows give the same answer after a restart.
 */
export function analyseExperiment(rows: readonly AbRow[], control: string, treatment: string, weights: { control: number; treatment: number }, c: ExperimentConfig): ExperimentAnalysis {
  const seq = new SequentialTest({ alpha: c.alpha, tuningN: Math.max(100, c.min_samples), minPerArm: 10 });
  const arms = [control, treatment];
  const requests = [0, 0];
  const right = [0, 0];
  const labelled = [0, 0];
  const latency: number[][] = [[], []];
  for (const r of rows) {
    const a = arms.indexOf(r.variant);
    if (a < 0) continue;
    requests[a]!++;
    latency[a]!.push(r.latency);
    const m = r.label === null ? null : labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label) as unknown);
    if (!m) continue;
    for (let i = 0; i < m.total; i++) seq.add(a as 0 | 1, i < m.right ? 1 : 0);
    labelled[a]! += m.total;
    right[a]! += m.right;
  }
  const arm = (i: number): ArmStats => ({
    variant: arms[i]!,
    requests: requests[i]!,
    labelled: labelled[i]!,
    accuracy: labelled[i]! ? right[i]! / labelled[i]! : null,
    p99_ms: latency[i]!.length ? quantileSorted(sortedCopy(latency[i]!), 0.99) : null,
  });
  const s = seq.state();
  const srm = requests[0]! + requests[1]! >= 20 ? chiSquareGoodnessOfFit(requests, [weights.control, weights.treatment]) : null;
  const base = {
    control: arm(0),
    treatment: arm(1),
    difference: s.difference,
    p_value: s.pValue,
    interval: finite(s.interval),
    running_interval: finite(s.runningInterval),
    srm: srm ? { p_value: srm.pValue, mismatch: srm.pValue < SRM_ALPHA } : null,
  };
  const short = Math.min(labelled[0]!, labelled[1]!);
  if (short < c.min_samples) return { ...base, decision: null, reason: `waiting for ${c.min_samples} labelled predictions per arm (control ${labelled[0]}, treatment ${labelled[1]})` };
  if (base.srm?.mismatch) return { ...base, decision: null, reason: `sample-ratio mismatch (p = ${base.srm.p_value.toExponential(2)}): the arms served ${requests[0]} / ${requests[1]} against weights ${weights.control} / ${weights.treatment}; no verdict while the split is off` };
  const [lo, hi] = base.running_interval ?? [-Infinity, Infinity];
  const threshold = c.require === 'better' ? 0 : -c.margin;
  const what = `accuracy ${pct(base.treatment.accuracy!)} vs ${pct(base.control.accuracy!)} (${pts(s.difference)}; ${Math.round((1 - c.alpha) * 100)}% confidence sequence ${pts(lo)} to ${pts(hi)}, always-valid p = ${s.pValue.toPrecision(3)})`;
  const rule = c.require === 'better' ? 'better than the champion' : `no more than ${pts(c.margin).slice(1)} worse than the champion`;
  if (lo > threshold) return { ...base, decision: 'promote', reason: `the challenger is ${rule}: ${what}` };
  if (hi < threshold) return { ...base, decision: 'reject', reason: `the challenger is not ${rule}: ${what}` };
  return { ...base, decision: null, reason: `no verdict yet: ${what}` };
}
