import { invalid } from '../../util/errors';
import { DEFAULT_CANARY_INTERVAL_MS, DEFAULT_CANARY_STEPS, STRATEGIES, type Endpoint, type Guardrails, type Role, type Strategy } from './endpoint';

/** A deploy as the API takes it (snake_case fields, as the rest of the HTTP API). */
export interface DeployRequest {
  model: string;
  strategy?: string;
  /** ab: the new variant's share (default 50); shadow: the mirrored share (default 100). */
  weight?: number;
  /** canary: the ramp in percent, ending at 100. */
  steps?: number[];
  /** canary: seconds between steps. */
  step_interval_s?: number;
  guardrails?: { max_error_rate?: number; max_p99_ms?: number; min_requests?: number };
}

export interface DeploySettings {
  strategy: Strategy;
  weight: number;
  steps: readonly number[];
  intervalMs: number;
  guardrails: Partial<Guardrails> | null;
}

export function normalizeDeploy(r: DeployRequest): DeploySettings {
  const strategy = (r.strategy ?? 'replace') as Strategy;
  if (!STRATEGIES.includes(strategy)) throw invalid(`Unknown strategy '${r.strategy}'; use one of ${STRATEGIES.join(', ')}`);
  const weight = r.weight ?? (strategy === 'shadow' ? 100 : 50);
  if (strategy === 'ab' && !(typeof weight === 'number' && weight > 0 && weight < 100)) throw invalid(`A/B weight must be between 0 and 100 (exclusive); got ${String(r.weight)}`);
  if (strategy === 'shadow' && !(typeof weight === 'number' && weight > 0 && weight <= 100)) throw invalid(`Shadow weight (mirrored share) must be in (0, 100]; got ${String(r.weight)}`);
  if (strategy !== 'ab' && strategy !== 'shadow' && r.weight !== undefined) throw invalid(`--weight applies to the ab and shadow strategies, not ${strategy}`);
  const steps = r.steps ?? DEFAULT_CANARY_STEPS;
  if (!Array.isArray(steps) || steps.length === 0 || steps.some((s, i) => typeof s !== 'number' || !(s > 0 && s <= 100) || (i > 0 && s <= steps[i - 1]!)) || steps[steps.length - 1] !== 100) {
    throw invalid(`Canary steps must be increasing percentages in (0, 100] ending at 100; got ${JSON.stringify(r.steps)}`);
  }
  const intervalS = r.step_interval_s ?? DEFAULT_CANARY_INTERVAL_MS / 1000;
  if (typeof intervalS !== 'number' || !(intervalS >= 0.1 && intervalS <= 86_400)) throw invalid(`step_interval_s must be from 0.1 to 86400 seconds; got ${String(r.step_interval_s)}`);
  return { strategy, weight, steps, intervalMs: Math.round(intervalS * 1000), guardrails: r.guardrails ? normalizeGuardrails(r.guardrails) : null };
}

function normalizeGuardrails(g: NonNullable<DeployRequest['guardrails']>): Partial<Guardrails> {
  const out: Partial<Guardrails> = {};
  if (g.max_error_rate !== undefined) {
    if (!(g.max_error_rate >= 0 && g.max_error_rate <= 1)) throw invalid(`guardrails.max_error_rate must be from 0 to 1; got ${g.max_error_rate}`);
    out.maxErrorRate = g.max_error_rate;
  }
  if (g.max_p99_ms !== undefined) {
    if (!(g.max_p99_ms > 0)) throw invalid(`guardrails.max_p99_ms must be positive; got ${g.max_p99_ms}`);
    out.maxP99Ms = g.max_p99_ms;
  }
  if (g.min_requests !== undefined) {
    if (!(Number.isInteger(g.min_requests) && g.min_requests >= 1)) throw invalid(`guardrails.min_requests must be a positive integer; got ${g.min_requests}`);
    out.minRequests = g.min_requests;
  }
  return out;
}

export function validateEndpointName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw invalid(`Invalid endpoint name '${name}': use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
}

/** What is stored per endpoint (and written to the audit log as before/after). */
export interface PersistedEndpoint {
  strategy: Strategy;
  variants: { id: string; role: Role; weight: number }[];
  /** next_at: when the next step is due (epoch ms), so a restarted backend resumes the ramp on time. */
  canary: { steps: number[]; step: number; interval_ms: number; next_at?: number } | null;
  guardrails: Guardrails;
}

export function snapshot(ep: Endpoint): PersistedEndpoint {
  return {
    strategy: ep.strategy,
    variants: ep.variants.map((v) => ({ id: v.id, role: v.role, weight: v.weight })),
    canary: ep.canary ? { steps: [...ep.canary.steps], step: ep.canary.index, interval_ms: ep.canary.intervalMs, next_at: ep.canary.nextAt } : null,
    guardrails: { ...ep.guardrails },
  };
}
