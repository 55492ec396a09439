import { isAbsolute } from 'node:path';
import { Cron } from 'croner';
import { invalid } from '../../util/errors';
import { normalizeDeploy } from '../serving/settings';
import { normalizeExperiment, type ExperimentConfig } from './online';

/** What a retrain's challenger does once trained and accepted offline (the serving engine's strategies). */
export interface RolloutPolicy {
  strategy: 'canary' | 'shadow' | 'ab';
  /** canary: the ramp in percent ending at 100. */
  steps?: number[];
  step_interval_s?: number;
  /** ab: the challenger's share; shadow: the mirrored share. */
  weight?: number;
  /** The serving engine's guardrails while the challenger takes traffic (error rate, p99, minimum requests). */
  guardrails?: { max_error_rate?: number; max_p99_ms?: number; min_requests?: number };
}

/** A retraining policy of one registered model on one endpoint (issue 13). Durations are seconds. */
export interface RetrainPolicy {
  model: string;
  endpoint: string;
  /** The mlops.yaml pipeline that trains (absolute path on the backend's machine). */
  pipeline: string;
  /** Extra pipeline parameters. */
  params: Record<string, string | number | boolean>;
  /** The step whose output folder holds the trained model.onnx (and MLmodel): it becomes the challenger version. */
  model_step: string;
  data: {
    /** The pipeline parameter that receives the exported training CSV's path. */
    param: string;
    /** Only labelled predictions logged in the last this many hours (0: no time limit). */
    window_hours: number;
    /** At most this many labelled rows, newest first. */
    max_rows: number;
    /** Refuse to train on fewer labelled rows. */
    min_rows: number;
    /** Every n-th exported row goes to holdout.csv instead of train.csv. */
    holdout_every: number;
    /** The original training data (a CSV with the same feature columns and the label column) appended to train.csv. */
    base_file: string | null;
    label_column: string;
  };
  /** schedule_every_s (an interval) or schedule_cron (five fields, in schedule_tz, UTC by default): one of them. */
  triggers: { manual: boolean; schedule_every_s: number | null; schedule_cron: string | null; schedule_tz: string; on_drift: boolean; on_performance: boolean };
  /** After a retrain started by a schedule or an incident, automated triggers wait this long. */
  cooldown_s: number;
  max_concurrent: number;
  /** Retrains started in any 24 hours, all triggers together. */
  daily_budget: number;
  rollout: RolloutPolicy;
  /** rollout.strategy ab: the online experiment that decides (require and margin default to promotion's). */
  experiment: ExperimentConfig;
  promotion: {
    /** The offline comparison on the holdout must reach this verdict (better, or non_inferior within margin). */
    require: 'better' | 'non_inferior';
    margin: number;
    /** And the challenger's holdout accuracy must be at least this. */
    min_accuracy: number;
  };
}

export type PolicyInput = Partial<Omit<RetrainPolicy, 'data' | 'triggers' | 'promotion' | 'rollout' | 'experiment'>> & {
  experiment?: Partial<RetrainPolicy['experiment']>;
  data?: Partial<RetrainPolicy['data']>;
  triggers?: Partial<RetrainPolicy['triggers']>;
  promotion?: Partial<RetrainPolicy['promotion']>;
  rollout?: Partial<RolloutPolicy>;
};

const num = (v: unknown, what: string, min: number, max: number, int = false): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) throw invalid(`${what} must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}; got ${JSON.stringify(v)}`);
  return v;
};

const KEYS: Record<string, readonly string[]> = {
  '': ['model', 'endpoint', 'pipeline', 'params', 'model_step', 'data', 'triggers', 'cooldown_s', 'max_concurrent', 'daily_budget', 'rollout', 'experiment', 'promotion'],
  experiment: ['metric', 'min_samples', 'alpha', 'max_duration_s', 'require', 'margin', 'on_inconclusive'],
  data: ['param', 'window_hours', 'max_rows', 'min_rows', 'holdout_every', 'base_file', 'label_column'],
  triggers: ['manual', 'schedule_every_s', 'schedule_cron', 'schedule_tz', 'on_drift', 'on_performance'],
  rollout: ['strategy', 'steps', 'step_interval_s', 'weight', 'guardrails'],
  promotion: ['require', 'margin', 'min_accuracy'],
};

/** Names misspelt settings (the schema validator would drop them silently). */
export function unknownPolicyKeys(body: unknown): string[] {
  const out: string[] = [];
  const walk = (o: unknown, at: string) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    for (const k of Object.keys(o)) {
      if (!KEYS[at]!.includes(k)) out.push(at ? `${at}.${k}` : k);
      else if (at === '' && k in KEYS) walk((o as Record<string, unknown>)[k], k);
    }
  };
  walk(body, '');
  return out;
}

/** Fills the defaults over what was given and checks every setting; the error names the setting. */
export function normalizePolicy(model: string, endpoint: string, i: PolicyInput): RetrainPolicy {
  const bad = unknownPolicyKeys(i);
  if (bad.length) throw invalid(`Unknown retrain policy setting(s): ${bad.join(', ')}`);
  if (typeof i.pipeline !== 'string' || !isAbsolute(i.pipeline)) throw invalid(`pipeline must be the absolute path of an mlops.yaml; got ${JSON.stringify(i.pipeline)}`);
  const d = i.data ?? {};
  const t = i.triggers ?? {};
  const p = i.promotion ?? {};
  const r = i.rollout ?? {};
  if (d.base_file != null && (typeof d.base_file !== 'string' || !isAbsolute(d.base_file))) throw invalid(`data.base_file must be an absolute path; got ${JSON.stringify(d.base_file)}`);
  const name = (v: unknown, what: string, dflt: string) => {
    const s = v ?? dflt;
    if (typeof s !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]{0,99}$/.test(s)) throw invalid(`${what} must be a name of letters, digits, - and _; got ${JSON.stringify(v)}`);
    return s;
  };
  const strategy = r.strategy ?? 'canary';
  if (!['canary', 'shadow', 'ab'].includes(strategy)) throw invalid(`rollout.strategy must be canary, shadow or ab; got ${JSON.stringify(strategy)}`);
  const rollout: RolloutPolicy = { strategy };
  if (r.steps !== undefined) rollout.steps = r.steps;
  if (r.step_interval_s !== undefined) rollout.step_interval_s = r.step_interval_s;
  if (r.weight !== undefined) rollout.weight = r.weight;
  if (r.guardrails !== undefined) rollout.guardrails = r.guardrails;
  // The serving engine's own checks, so a policy that could never deploy is refused when it is set.
  normalizeDeploy({ model: `${model}/1`, ...rollout });
  const require = p.require ?? 'non_inferior';
  if (require !== 'better' && require !== 'non_inferior') throw invalid(`promotion.require must be better or non_inferior; got ${JSON.stringify(require)}`);
  const params = i.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params) || Object.values(params).some((v) => !['string', 'number', 'boolean'].includes(typeof v))) throw invalid('params must map names to strings, numbers or booleans');
  const margin = num(p.margin ?? 0.01, 'promotion.margin', 0, 0.99);
  const experiment = normalizeExperiment({ require, margin, ...(i.experiment ?? {}) });
  const policy: RetrainPolicy = {
    model,
    endpoint,
    pipeline: i.pipeline,
    params,
    model_step: name(i.model_step, 'model_step', 'train'),
    data: {
      param: name(d.param, 'data.param', 'data'),
      window_hours: num(d.window_hours ?? 0, 'data.window_hours', 0, 24 * 366),
      max_rows: num(d.max_rows ?? 100_000, 'data.max_rows', 1, 1_000_000, true),
      min_rows: num(d.min_rows ?? 50, 'data.min_rows', 1, 1_000_000, true),
      holdout_every: num(d.holdout_every ?? 5, 'data.holdout_every', 2, 100, true),
      base_file: d.base_file ?? null,
      label_column: name(d.label_column, 'data.label_column', 'label'),
    },
    triggers: {
      manual: t.manual ?? true,
      schedule_every_s: t.schedule_every_s == null ? null : num(t.schedule_every_s, 'triggers.schedule_every_s', 60, 366 * 86_400),
      schedule_cron: t.schedule_cron ?? null,
      schedule_tz: t.schedule_tz ?? 'UTC',
      on_drift: t.on_drift ?? true,
      on_performance: t.on_performance ?? true,
    },
    cooldown_s: num(i.cooldown_s ?? 3600, 'cooldown_s', 0, 30 * 86_400),
    max_concurrent: num(i.max_concurrent ?? 1, 'max_concurrent', 1, 100, true),
    daily_budget: num(i.daily_budget ?? 4, 'daily_budget', 1, 10_000, true),
    rollout,
    experiment,
    promotion: { require, margin, min_accuracy: num(p.min_accuracy ?? 0, 'promotion.min_accuracy', 0, 1) },
  };
  for (const k of ['manual', 'on_drift', 'on_performance'] as const) if (typeof policy.triggers[k] !== 'boolean') throw invalid(`triggers.${k} must be true or false`);
  const { schedule_cron: cron, schedule_every_s: every } = policy.triggers;
  if (cron !== null) {
    if (every !== null) throw invalid('Set triggers.schedule_every_s or triggers.schedule_cron, not both');
    // Five fields: at most once a minute, like schedule_every_s's minimum.
    cronOf(policy.triggers);
  }
  return policy;
}

function cronOf(t: RetrainPolicy['triggers']): Cron {
  if (typeof t.schedule_cron !== 'string' || t.schedule_cron.length > 200) throw invalid(`triggers.schedule_cron must be a cron expression; got ${JSON.stringify(t.schedule_cron)}`);
  if (t.schedule_cron.trim().split(/\s+/).length !== 5) throw invalid(`triggers.schedule_cron must have five fields (minute hour day-of-month month day-of-week); got '${t.schedule_cron}'`);
  try {
    const c = new Cron(t.schedule_cron, { timezone: t.schedule_tz, paused: true });
    // An unknown time zone is found only when a time is computed.
    c.nextRun(new Date(0));
    return c;
  } catch (err) {
    throw invalid(`triggers.schedule_cron '${t.schedule_cron}' (${t.schedule_tz}): ${(err as Error).message}`);
  }
}

/** The policy's first scheduled time after `after` (ms), or null when it has no schedule. */
export function nextScheduled(p: RetrainPolicy, after: number): number | null {
  const t = p.triggers;
  if (t.schedule_every_s !== null) return after + t.schedule_every_s * 1000;
  if (t.schedule_cron === null || t.schedule_cron === undefined) return null;
  return cronOf(t).nextRun(new Date(after))?.getTime() ?? null;
}

/** The schedule as one comparable string (an unchanged schedule keeps its next time). */
export const scheduleKey = (p: RetrainPolicy): string => JSON.stringify([p.triggers.schedule_every_s, p.triggers.schedule_cron ?? null, p.triggers.schedule_tz ?? 'UTC']);

