import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointView, VariantView } from '../../../backend/src/services/serving/endpoint';
import { deployPlan, rollbackPlan, splitText } from '../../../extension/src/endpoints/plan';

const v = (version: number, role: VariantView['role'], weight: number): VariantView =>
  ({ id: `v${version}`, model_name: 'iris', model_version: version, role, weight }) as VariantView;
const ep = (status: EndpointView['status'], ...variants: VariantView[]): EndpointView => ({ name: 'e', status, variants }) as EndpointView;

void test('rollback returns to the previous version, or drops a trial back to the stable one', () => {
  assert.deepEqual(rollbackPlan(ep('serving', v(2, 'stable', 100), v(1, 'previous', 0))), { from: 'iris/2', to: 'iris/1' });
  assert.deepEqual(rollbackPlan(ep('ab', v(1, 'stable', 90), v(2, 'candidate', 10), v(0, 'previous', 0))), { from: 'iris/2', to: 'iris/1' });
  assert.match((rollbackPlan(ep('serving', v(1, 'stable', 100))) as { problem: string }).problem, /nothing to roll back to: it has only ever served iris\/1/);
  assert.match((rollbackPlan(ep('empty')) as { problem: string }).problem, /serves nothing yet/);
});

void test('deploy plan: the split now and after each strategy; a running canary is named before it is replaced', () => {
  const serving = ep('serving', v(1, 'stable', 100));
  assert.deepEqual(deployPlan(undefined, 'iris/2', 'replace'), { live: false, now: 'nothing', next: 'iris/2 100%' });
  assert.deepEqual(deployPlan(serving, 'iris/2', 'replace'), { live: true, now: 'iris/1 100%', next: 'iris/2 100%' });
  assert.equal(deployPlan(serving, 'iris/2', 'ab', 25).next, 'iris/1 75% + iris/2 25%');
  assert.match(deployPlan(serving, 'iris/2', 'canary').next, /^iris\/1 99% \+ iris\/2 1%, then ramping/);
  assert.equal(deployPlan(serving, 'iris/2', 'shadow', 50).next, 'iris/1 100% (mirroring 50% to iris/2)');
  const canary = deployPlan(ep('canary', v(1, 'stable', 95), v(2, 'candidate', 5)), 'iris/3', 'replace');
  assert.equal(canary.warning, 'A canary of iris/2 is running at 5%: this deploy stops it and replaces it.');
  assert.equal(canary.now, 'iris/1 95% + iris/2 5%');
  assert.equal(splitText(ep('shadow', v(1, 'stable', 100), v(2, 'shadow', 50))), 'iris/1 100% (mirroring to iris/2)');
});
