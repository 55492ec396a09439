import type { EndpointView, VariantView } from '../../../backend/src/services/serving/endpoint';

const label = (v: VariantView): string => `${v.model_name}/${v.model_version}`;

/** Where a rollback leaves an endpoint, as the serving engine does it: trials dropped, else previous made stable. */
export function rollbackPlan(ep: EndpointView): { from: string; to: string } | { problem: string } {
  const stable = ep.variants.find((v) => v.role === 'stable');
  if (!stable) return { problem: `${ep.name} serves nothing yet: there is nothing to roll back.` };
  const trials = ep.variants.filter((v) => v.role === 'candidate' || v.role === 'shadow');
  if (trials.length) return { from: trials.map(label).join(', '), to: label(stable) };
  const prev = ep.variants.find((v) => v.role === 'previous');
  if (!prev) return { problem: `${ep.name} has nothing to roll back to: it has only ever served ${label(stable)}.` };
  return { from: label(stable), to: label(prev) };
}

/** The live split as people read it: `iris/1 100%` or `iris/1 90% + iris/2 10%` (shadows mirrored, not served). */
export function splitText(ep: Pick<EndpointView, 'variants'> | undefined): string {
  const live = ep?.variants.filter((v) => v.role === 'stable' || v.role === 'candidate') ?? [];
  const shadows = ep?.variants.filter((v) => v.role === 'shadow') ?? [];
  if (!live.length) return 'nothing';
  return `${live.map((v) => `${label(v)} ${v.weight}%`).join(' + ')}${shadows.length ? ` (mirroring to ${shadows.map(label).join(', ')})` : ''}`;
}

/** What a deploy will route, before it does: the split after it, and a warning when it replaces a canary in flight. */
export function deployPlan(ep: EndpointView | undefined, target: string, strategy: 'replace' | 'canary' | 'ab' | 'shadow', weight?: number): { live: boolean; now: string; next: string; warning?: string } {
  const live = !!ep?.variants.some((v) => v.role === 'stable');
  const stable = ep?.variants.find((v) => v.role === 'stable');
  const base = stable ? label(stable) : undefined;
  const next =
    !base || strategy === 'replace'
      ? `${target} 100%`
      : strategy === 'canary'
        ? `${base} 99% + ${target} 1%, then ramping to ${target} 100% while the guardrails hold`
        : strategy === 'ab'
          ? `${base} ${100 - (weight ?? 10)}% + ${target} ${weight ?? 10}%`
          : `${base} 100% (mirroring ${weight ?? 100}% to ${target})`;
  const canary = ep?.status === 'canary' ? ep.variants.find((v) => v.role === 'candidate') : undefined;
  const warning = canary ? `A canary of ${label(canary)} is running at ${canary.weight}%: this deploy stops it and replaces it.` : undefined;
  return { live, now: splitText(ep), next, ...(warning ? { warning } : {}) };
}
