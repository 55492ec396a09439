import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MonitorConfig } from '../../../backend/src/api/v1/contract-monitors';
import type { LogRow } from '../../../backend/src/services/monitors/compute';
import { conceptDrift, stillAbove, type ConceptStream } from '../../../backend/src/services/monitors/concept';
import { MONITOR_DEFAULTS } from '../../../backend/src/services/monitors/service';

/** Requests of 20 rows, each labelled: a share `wrong` of the rows (drawn per row, seeded) predicted wrong. */
function requests(from: number, count: number, wrong: number, seed: number): LogRow[] {
  let s = seed;
  const u = () => (s = (s * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, i) => {
    const labels = Array.from({ length: 20 }, () => (u() < 0.5 ? 1 : 0));
    const preds = labels.map((l) => (u() < wrong ? 1 - l : l));
    const id = from + i;
    return { id, ts: id * 60_000, prediction: JSON.stringify(preds), label: JSON.stringify(labels), label_ts: id * 60_000 + 5, latency_ms: 1 };
  });
}

const config: MonitorConfig = { ...MONITOR_DEFAULTS.concept_drift, window_rows: 300, min_rows: 100 };

/** Feeds `rows` in checks of `batch` requests, as the monitor does every interval; returns each check's part. */
function checks(rows: LogRow[], batch: number, cfg: MonitorConfig = config) {
  let stream: ConceptStream | null = null;
  const out = [];
  for (let i = 0; i < rows.length; i += batch) {
    const part = conceptDrift({ variant: 'm/1', config: cfg, rows: rows.slice(i, i + batch), stream, more: false });
    stream = JSON.parse(JSON.stringify(part.state)) as ConceptStream;
    out.push(part);
  }
  return out;
}

void test('a 5-point rise of the error rate is found once enough rows after it are in, however long the calm before it', () => {
  for (const calmHours of [3, 24]) {
    // One 20-row request a minute; checks every 5 minutes.
    const rows = [...requests(1, calmHours * 60, 0.05, calmHours), ...requests(calmHours * 60 + 1, 12 * 60, 0.1, calmHours + 1)];
    const parts = checks(rows, 5);
    const first = parts.findIndex((p) => p.status === 'fail');
    assert.ok(first > 0, `calm ${calmHours} h: found`);
    const minutes = first * 5 + 5 - calmHours * 60;
    assert.ok(minutes > 0 && minutes <= 180, `calm ${calmHours} h: found ${minutes} min after the change`);
    assert.equal(parts.slice(0, first).filter((p) => p.status === 'fail').length, 0, 'no alarm before the change');
    assert.match(parts[first]!.summary, /^concept drift \(adwin\): the error rate rose from [3-6]\.\d% to ([6-9]|1\d)\.\d% from labelled row \d+ of \d+/);
    // The change persists: every later check fails (the incident stays open) and says so.
    const later = parts.slice(first + 1);
    assert.ok(later.length > 10);
    assert.ok(later.every((p) => p.status === 'fail'), later.find((p) => p.status !== 'fail')?.summary);
    assert.match(later.at(-1)!.summary, /^concept drift persists \(adwin\): error rate (9|1\d)\.\d% over the \d+ labelled rows since the change, [3-6]\.\d% before it/);
  }
});

void test('when the error rate comes back, the checks pass again; no check reads a row twice', () => {
  const rows = [...requests(1, 600, 0.05, 1), ...requests(601, 600, 0.3, 2), ...requests(1201, 2400, 0.05, 3)];
  const parts = checks(rows, 10);
  assert.ok(parts.some((p) => p.status === 'fail'));
  assert.equal(parts.at(-1)!.status, 'pass', parts.at(-1)!.summary);
  assert.equal(parts.reduce((s, p) => s + p.rows, 0), rows.length * 20, 'every row fed once');
  assert.equal(parts.at(-1)!.state.rows, rows.length * 20);
});

void test('stationary labels: no alarm over 30 simulated days of checks (one detector state across them)', () => {
  const parts = checks(requests(1, 30 * 1440, 0.05, 9), 5);
  assert.deepEqual(parts.filter((p) => p.status === 'fail').map((p) => p.summary), []);
});

void test('Page–Hinkley as the detector: finds the rise, goes on from its state, and fails while it persists', () => {
  const cfg = { ...config, detector: 'page_hinkley' as const };
  const parts = checks([...requests(1, 600, 0.05, 4), ...requests(601, 600, 0.3, 5)], 5, cfg);
  // The rise is at check 120 (600 requests of 5 per check); Page–Hinkley (λ 20) may alarm on the calm part too.
  const first = parts.findIndex((p, i) => i >= 120 && p.status === 'fail');
  assert.ok(first >= 120 && first < 125, `found at check ${first}`);
  assert.ok(parts.slice(first).every((p) => p.status === 'fail'), parts.slice(first).find((p) => p.status !== 'fail')?.summary);
});

void test('too few labelled requests is insufficient data; stillAbove needs a rise beyond the bound', () => {
  const part = conceptDrift({ variant: 'm/1', config, rows: requests(1, 50, 0.05, 1), stream: null, more: false });
  assert.equal(part.status, 'insufficient_data');
  assert.equal(part.state.requests, 50);
  assert.equal(stillAbove({ n: 10_000, total: 500 }, { n: 10_000, total: 520 }, 0.002), false);
  assert.equal(stillAbove({ n: 10_000, total: 500 }, { n: 10_000, total: 1000 }, 0.002), true);
  assert.equal(stillAbove({ n: 10_000, total: 1000 }, { n: 10_000, total: 500 }, 0.002), false, 'a fall is not a rise');
});
