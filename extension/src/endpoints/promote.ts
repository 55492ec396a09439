import type { EndpointView } from './model';

/** What a Promote click will do, worded for the confirmation dialog. */
export interface PromotePlan {
  /** The variant serving 100 % now, if any. */
  current: string | null;
  next: string;
  question: string;
}

/**
 * The dialog for promoting `variant` on an endpoint: it names the change from the current stable to the new one.
 * A variant that is not the endpoint's candidate (or shadow) cannot be promoted: the error says which one can.
 */
export function promotePlan(view: EndpointView | undefined, endpoint: string, variant: string): PromotePlan {
  if (!view) throw new Error(`Endpoint '${endpoint}' does not exist any more.`);
  const current = view.variants.find((v) => v.role === 'stable')?.id ?? null;
  const promotable = view.variants.find((v) => v.role === 'candidate') ?? view.variants.find((v) => v.role === 'shadow');
  if (promotable?.id !== variant) {
    const why = variant === current ? `${variant} is already the stable variant` : `${variant} is not the candidate`;
    throw new Error(`Cannot promote ${variant} on ${endpoint}: ${why}${promotable ? `; ${promotable.id} can be promoted` : ''}. Refresh the A/B view.`);
  }
  return {
    current,
    next: variant,
    question: `Promote on ${endpoint}: ${current ?? 'nothing'} → ${variant}? ${variant} will serve 100% of traffic${current ? `; ${current} stays warm as the previous version for a rollback` : ''}.`,
  };
}
