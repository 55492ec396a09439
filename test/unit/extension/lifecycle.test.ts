import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_MS, backoffDelay, statusView } from '../../../extension/src/backend/state';
import { formatDuration, formatMetric } from '../../../extension/src/util/format';

void test('status bar text for each backend state', () => {
  assert.equal(statusView({ kind: 'starting', detail: 'x' }).text, '$(sync~spin) MLOps: starting');
  assert.equal(statusView({ kind: 'running', url: 'http://127.0.0.1:1', pid: 7, external: false }).text, '$(pulse) MLOps');
  assert.match(statusView({ kind: 'running', url: 'http://127.0.0.1:1', pid: 7, external: false }).tooltip, /pid 7/);
  assert.equal(statusView({ kind: 'stopped', detail: 'by you' }).text, '$(circle-slash) MLOps: stopped');
  const restarting = statusView({ kind: 'error', detail: 'killed', retryInMs: 500 });
  assert.deepEqual([restarting.text, restarting.error], ['$(sync~spin) MLOps: restarting', true]);
  assert.equal(statusView({ kind: 'error', detail: 'gave up', retryInMs: null }).text, '$(error) MLOps: error');
});

void test('restart backoff doubles and then gives up', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(backoffDelay), BACKOFF_MS);
  assert.equal(backoffDelay(BACKOFF_MS.length + 1), null);
  assert.equal(backoffDelay(0), null);
});

void test('durations and metric values read well in a tree', () => {
  assert.deepEqual([850, 12_000, 185_000, 7_800_000, 2 * 86_400_000 + 3_600_000].map(formatDuration), ['850ms', '12s', '3m 05s', '2h 10m', '2d 1h']);
  assert.deepEqual([0, 0.912345, 1234.5678, 1e-5, 2.5e7].map(formatMetric), ['0', '0.9123', '1235', '1.00e-5', '2.50e+7']);
});
