import type { FeatureWindows } from './features';
import type { VariantRecorder } from './metrics';
import type { LoadedModel } from './model';
import type { RollingWindow, WindowSummary } from './window';

export const STRATEGIES = ['replace', 'ab', 'canary', 'shadow'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/**
 * stable: the variant that held 100 % last; candidate: an A/B arm or a canary taking part of the traffic;
 * shadow: mirrored, never answers; previous: the stable before the last promotion, kept warm for rollback.
 */
export type Role = 'stable' | 'candidate' | 'shadow' | 'previous';

export interface Guardrails {
  /** Candidate error rate (inference failures / requests) above which it is rolled back. */
  maxErrorRate: number;
  /** Candidate p99 latency (ms) above which it is rolled back. */
  maxP99Ms: number;
  /** Requests the candidate must have served before a guardrail can judge it. */
  minRequests: number;
}

export const DEFAULT_GUARDRAILS: Guardrails = { maxErrorRate: 0.05, maxP99Ms: 100, minRequests: 20 };
export const DEFAULT_CANARY_STEPS: readonly number[] = [1, 5, 10, 25, 50, 100];
export const DEFAULT_CANARY_INTERVAL_MS = 60_000;

export interface ShadowStats {
  compared: number;
  disagreed: number;
  shadowMsSum: number;
  primaryMsSum: number;
  failed: number;
}

export interface Variant {
  readonly id: string;
  readonly model: LoadedModel;
  role: Role;
  /** Percent of live traffic (stable, candidate) or of mirrored traffic (shadow); 0 for previous. */
  weight: number;
  readonly window: RollingWindow;
  readonly since: number;
  readonly recorder: VariantRecorder;
  readonly features: FeatureWindows;
  readonly shadow: ShadowStats;
}

export interface CanaryState {
  readonly steps: readonly number[];
  index: number;
  readonly intervalMs: number;
  nextAt: number;
}

export interface RollbackRecord {
  at: number;
  reason: string;
  actor: string;
  from: string | null;
  to: string;
  durationMs: number;
}

/** One endpoint's variants and routing table. Every change is synchronous, so no request sees half of one. */
export class Endpoint {
  readonly variants: Variant[] = [];
  /** Stable and candidate with weight > 0, candidate first (see router.ts). */
  arms: Variant[] = [];
  shadowArm: Variant | undefined;
  strategy: Strategy = 'replace';
  canary: CanaryState | null = null;
  guardrails: Guardrails = { ...DEFAULT_GUARDRAILS };
  lastRollback: RollbackRecord | null = null;
  updatedAt = Date.now();
  /** When the live split (stable and candidate, with their weights) was last set: the start of the current test. */
  splitSince = Date.now();
  /** Deploys waiting for or running on this endpoint. */
  pending = 0;
  /** Deploys on one endpoint run one at a time; rollbacks never wait (one synchronous routing change). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string) {}

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  byRole(role: Role): Variant | undefined {
    return this.variants.find((v) => v.role === role);
  }

  get stable(): Variant | undefined {
    return this.byRole('stable');
  }

  find(id: string): Variant | undefined {
    return this.variants.find((v) => v.id === id);
  }

  /** Removes a variant from the endpoint; the caller drains and disposes its model. */
  remove(v: Variant): void {
    const i = this.variants.indexOf(v);
    if (i >= 0) this.variants.splice(i, 1);
  }

  add(v: Variant): void {
    this.variants.push(v);
  }

  /** Recomputes the routing table after roles or weights changed. */
  commit(): void {
    const candidate = this.byRole('candidate');
    const stable = this.stable;
    this.arms = [candidate, stable].filter((v): v is Variant => v !== undefined && v.weight > 0);
    this.shadowArm = this.byRole('shadow');
    this.updatedAt = Date.now();
  }

  /** The stable takes all traffic; returns the candidate and shadow it displaced. */
  dropTrials(): Variant[] {
    const gone = this.variants.filter((v) => v.role === 'candidate' || v.role === 'shadow');
    for (const v of gone) this.remove(v);
    const s = this.stable;
    if (s) s.weight = 100;
    this.canary = null;
    return gone;
  }

  /** `next` becomes stable at 100 %; the old stable becomes previous; returns what left the endpoint. */
  promote(next: Variant): Variant[] {
    const gone: Variant[] = [];
    const old = this.stable;
    const prev = this.byRole('previous');
    if (old && old !== next) {
      if (prev && prev !== next) {
        this.remove(prev);
        gone.push(prev);
      }
      old.role = 'previous';
      old.weight = 0;
    } else if (prev && prev !== next) {
      this.remove(prev);
      gone.push(prev);
    }
    next.role = 'stable';
    next.weight = 100;
    this.canary = null;
    return gone;
  }

  summary(): EndpointView {
    const now = Date.now();
    const stable = this.stable;
    const status = !stable ? 'empty' : this.canary ? 'canary' : this.byRole('candidate') ? 'ab' : this.byRole('shadow') ? 'shadow' : 'serving';
    const variants = this.variants.map((v) => variantView(v, now));
    const unhealthy = variants.some((v) => (v.role === 'stable' || v.role === 'candidate') && v.window.requests >= this.guardrails.minRequests && v.window.errorRate > this.guardrails.maxErrorRate);
    return {
      name: this.name,
      status,
      health: !stable ? 'down' : unhealthy ? 'degraded' : 'ok',
      strategy: this.strategy,
      variants,
      weights: Object.fromEntries(this.variants.filter((v) => v.role === 'stable' || v.role === 'candidate').map((v) => [v.id, v.weight])),
      canary: this.canary ? { steps: [...this.canary.steps], step: this.canary.index, percent: this.canary.steps[this.canary.index]!, interval_ms: this.canary.intervalMs, next_step_at: this.canary.nextAt } : null,
      guardrails: { max_error_rate: this.guardrails.maxErrorRate, max_p99_ms: this.guardrails.maxP99Ms, min_requests: this.guardrails.minRequests },
      last_rollback: this.lastRollback,
      updated_at: this.updatedAt,
    };
  }
}

function variantView(v: Variant, now: number): VariantView {
  const w = v.window.summary(now);
  const s = v.shadow;
  return {
    id: v.id,
    model_name: v.model.resolved.name,
    model_version: v.model.resolved.version,
    features: [...v.model.featureNames],
    role: v.role,
    weight: v.weight,
    since: v.since,
    requests_total: v.window.total,
    errors_total: v.window.errors,
    window: w,
    shadow:
      v.role === 'shadow' || s.compared > 0
        ? {
            compared: s.compared,
            failed: s.failed,
            disagreement_rate: s.compared ? s.disagreed / s.compared : 0,
            mean_latency_ms: s.compared ? s.shadowMsSum / s.compared : null,
            primary_mean_latency_ms: s.compared ? s.primaryMsSum / s.compared : null,
          }
        : null,
  };
}

export interface VariantView {
  id: string;
  model_name: string;
  model_version: number;
  /** Feature names in the model's order (f0, f1, … when it has no signature). */
  features: string[];
  role: Role;
  weight: number;
  since: number;
  requests_total: number;
  errors_total: number;
  window: WindowSummary;
  shadow: { compared: number; failed: number; disagreement_rate: number; mean_latency_ms: number | null; primary_mean_latency_ms: number | null } | null;
}

export interface EndpointView {
  name: string;
  status: 'empty' | 'serving' | 'canary' | 'ab' | 'shadow';
  health: 'ok' | 'degraded' | 'down';
  strategy: Strategy;
  variants: VariantView[];
  weights: Record<string, number>;
  canary: { steps: number[]; step: number; percent: number; interval_ms: number; next_step_at: number } | null;
  guardrails: { max_error_rate: number; max_p99_ms: number; min_requests: number };
  last_rollback: RollbackRecord | null;
  updated_at: number;
}
