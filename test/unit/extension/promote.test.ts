import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promotePlan } from '../../../extension/src/endpoints/promote';
import type { EndpointView, VariantView } from '../../../extension/src/endpoints/model';

const variant = (id: string, role: VariantView['role'], weight: number) => ({ id, role, weight }) as VariantView;
const view = (...variants: VariantView[]) => ({ name: 'churn', variants }) as EndpointView;

void test('the Promote dialog says current → new; the stable or a stale variant cannot be promoted', () => {
  const ep = view(variant('churn-classifier/1', 'candidate', 50), variant('churn-classifier/3', 'stable', 50));
  const plan = promotePlan(ep, 'churn', 'churn-classifier/1');
  assert.equal(plan.question, 'Promote on churn: churn-classifier/3 → churn-classifier/1? churn-classifier/1 will serve 100% of traffic; churn-classifier/3 stays warm as the previous version for a rollback.');
  assert.deepEqual([plan.current, plan.next], ['churn-classifier/3', 'churn-classifier/1']);
  assert.throws(() => promotePlan(ep, 'churn', 'churn-classifier/3'), /Cannot promote churn-classifier\/3 on churn: churn-classifier\/3 is already the stable variant; churn-classifier\/1 can be promoted/);
  assert.throws(() => promotePlan(view(variant('churn-classifier/3', 'stable', 100)), 'churn', 'churn-classifier/1'), /churn-classifier\/1 is not the candidate\. Refresh/);
  assert.throws(() => promotePlan(undefined, 'churn', 'churn-classifier/1'), /does not exist any more/);
});
