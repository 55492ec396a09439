import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReportView } from '../../backend/src/api/v1/contract-report';
import { loadWebview } from './dom';

const report: ReportView = {
  from: Date.UTC(2026, 10, 5),
  to: Date.UTC(2026, 11, 5),
  days: 30,
  figures: [
    { id: 'deployments_per_month', title: 'Deployments per month', value: 4, unit: 'per_month', text: '4.0 a month (4 in 30 days)', how: 'endpoint.deploy events in the audit log' },
    { id: 'ab_concluded', title: 'A/B tests concluded', value: null, unit: 'share', text: 'no data (no A/B experiment ended in the window)', how: 'online A/B experiments that ended' },
  ],
  deployments_by_month: [
    { month: '2026-11', deployments: 3 },
    { month: '2026-12', deployments: 1 },
  ],
  retrains_by_trigger: { manual: 0, schedule: 0, drift: 0, performance: 0 },
  experiments: null,
  fixes: [],
  rollbacks: [{ endpoint: 'iris', at: Date.UTC(2026, 11, 1), actor: 'guardrail', reason: 'error rate', live_ms: 30 * 60_000 }],
};

void test('report: each figure with how it is computed, no data marked, charts only where there is data; the window is asked for and kept', async () => {
  const w = await loadWebview('report');
  try {
    assert.deepEqual(w.posted, [{ type: 'report/ready' }]);
    await w.receive({ type: 'report/data', report, since: '30d' });
    const d = w.document;
    const row = (id: string) => d.querySelector(`tr[data-figure="${id}"]`)!;
    assert.match(row('deployments_per_month').textContent ?? '', /4\.0 a month \(4 in 30 days\).*endpoint\.deploy events in the audit log/);
    assert.equal(row('deployments_per_month').className, '');
    assert.equal(row('ab_concluded').className, 'no-data');
    assert.match(d.querySelector('#retrains')?.textContent ?? '', /No data in this window/);
    assert.doesNotMatch(d.querySelector('#deployments')?.textContent ?? '', /No data/);
    assert.match(d.querySelector('#rollbacks')?.textContent ?? '', /iris.*guardrail.*30 min/);
    const select = d.getElementById('since') as HTMLSelectElement;
    assert.equal(select.value, '30d');
    select.value = '90d';
    select.dispatchEvent(new w.window.Event('change'));
    assert.deepEqual(w.posted.slice(1), [{ type: 'report/since', since: '90d' }]);
    assert.deepEqual(JSON.parse(JSON.stringify(w.state.value)), { since: '90d' });
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
  const again = await loadWebview('report', { since: '90d' });
  try {
    assert.deepEqual(again.posted, [{ type: 'report/since', since: '90d' }, { type: 'report/ready' }]);
  } finally {
    again.close();
  }
});
