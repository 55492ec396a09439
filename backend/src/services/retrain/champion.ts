import type { CoreContext } from '../../context';
import { GATED_ALIAS } from '../gates/service';

/** NAME/VERSION of a serving variant. */
function split(variant: string): { name: string; version: string } {
  const i = variant.lastIndexOf('/');
  return { name: variant.slice(0, i), version: variant.slice(i + 1) };
}

/** Why @champion may not move to the variant's version (its model's promotion gate), or null. */
export function championRefusal(core: Pick<CoreContext, 'gates'>, variant: string): string | null {
  const { name, version } = split(variant);
  const g = core.gates.check(name, version);
  const failed = g.results.filter((r) => !r.passed);
  return failed.length ? `the promotion gate of ${name} refuses @${GATED_ALIAS} → ${version}: ${failed.map((r) => r.message).join('; ')}` : null;
}

/**
 * Points @champion at the variant's version (a no-op when it is there already). Called from the serving engine's
 * hooks, inside the transaction that saves the endpoint's promotion, after `championRefusal` allowed it.
 */
export function moveChampion(core: Pick<CoreContext, 'gates'>, variant: string, actor: string, reason: string): void {
  const { name, version } = split(variant);
  core.gates.setAlias(name, GATED_ALIAS, version, { actor, reason });
}
