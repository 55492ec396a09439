import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AbResult } from '../../webviews/src/protocol/ab';
import type { MonitoringData } from '../../webviews/src/protocol/monitoring';
import { AB_DRIFT, IRIS_DRIFT } from '../fixtures/drift';
import { loadWebview, settle } from './dom';

const ab: AbResult = {
  endpoint: 'iris',
  variants: [
    { id: 'v1', model: 'iris/1', role: 'stable', weight: 200 / 3, requests: 1000, metrics: [{ name: 'accuracy', value: 0.91, low: 0.89, high: 0.93 }] },
    { id: 'v2', model: 'iris/2', role: 'candidate', weight: 100 / 3, requests: 990, metrics: [{ name: 'accuracy', value: 0.95, low: 0.93, high: 0.96 }] },
  ],
  tests: [{ metric: 'accuracy', variant: 'v2', p_value: 0.004, effect: 0.04, significant: true }],
  srm: { p_value: 0.82, mismatch: false },
  verdict: 'v2 wins on accuracy',
  sequences: [],
};

void test('A/B results: shows variants with intervals, tests, SRM and verdict; Promote and Roll Back post typed messages', async () => {
  const w = await loadWebview('ab');
  try {
    assert.deepEqual(w.posted, [{ type: 'ab/ready' }]);
    await w.receive({ type: 'ab/data', result: ab });
    const d = w.document;
    assert.equal(d.getElementById('verdict')?.textContent, 'v2 wins on accuracy');
    assert.match(d.getElementById('srm')?.textContent ?? '', /p = 0\.82 \(ok\)/);
    assert.match(d.querySelector('tr[data-variant="v2"]')?.textContent ?? '', /0\.95 \[0\.93, 0\.96\]/);
    assert.deepEqual([...d.querySelectorAll('#variants tbody tr')].map((row) => row.children[2]?.textContent), ['66.67%', '33.33%']);
    assert.match(d.getElementById('tests')?.textContent ?? '', /0\.004.*significant/);
    const buttons = [...d.querySelectorAll('vscode-button')] as HTMLElement[];
    buttons.find((b) => b.textContent === 'Promote v2')!.click();
    buttons.find((b) => b.textContent === 'Roll Back')!.click();
    assert.deepEqual(w.posted.slice(1), [{ type: 'ab/promote', variant: 'v2' }, { type: 'ab/rollBack' }]);
    await w.receive({ type: 'ab/data', result: { ...ab, srm: { p_value: 0.0001, mismatch: true } } });
    assert.match(d.getElementById('srm')?.textContent ?? '', /MISMATCH/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('A/B results: Promote is offered only for the candidate, whatever the order, and posts that variant', async () => {
  const w = await loadWebview('ab');
  try {
    // The stable churn-classifier/3 sorts after the candidate churn-classifier/1 (an older version under test).
    const churn: AbResult = {
      endpoint: 'churn',
      variants: [
        { id: 'churn-classifier/1', model: 'churn-classifier/1', role: 'candidate', weight: 50, requests: 400, metrics: [] },
        { id: 'churn-classifier/3', model: 'churn-classifier/3', role: 'stable', weight: 50, requests: 410, metrics: [] },
      ],
      tests: [],
      srm: null,
      verdict: 'Inconclusive so far',
      sequences: [],
    };
    await w.receive({ type: 'ab/data', result: churn });
    const labels = [...w.document.querySelectorAll('vscode-button')].map((b) => b.textContent);
    assert.deepEqual(labels, ['Promote churn-classifier/1', 'Roll Back', 'Refresh']);
    ([...w.document.querySelectorAll('vscode-button')][0] as HTMLElement).click();
    assert.deepEqual(w.posted.at(-1), { type: 'ab/promote', variant: 'churn-classifier/1' });
    await w.receive({ type: 'ab/data', result: { ...churn, variants: [{ ...churn.variants[1]!, weight: 100 }] } });
    assert.deepEqual([...w.document.querySelectorAll('vscode-button')].map((b) => b.textContent), ['Roll Back', 'Refresh']);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('monitoring: three time-series charts and a drift heatmap; empty series say so', async () => {
  const w = await loadWebview('monitoring');
  try {
    assert.deepEqual(w.posted, [{ type: 'monitoring/ready' }]);
    const t0 = 1_700_000_000_000;
    const data: MonitoringData = {
      endpoint: 'iris',
      volume: [{ name: 'v1', points: [{ t: t0, v: 10 }, { t: t0 + 60_000, v: 12 }] }],
      latencyP99: [{ name: 'v1', points: [{ t: t0, v: 4.2 }] }],
      accuracy: [],
      heatmap: { features: ['sepal_length', 'petal_width'], buckets: [t0, t0 + 60_000], scores: [[0.01, 0.3], [null, 0.05]] },
      incidents: [{ id: 7, kind: 'data_drift', severity: 'warning', status: 'open', opened_at: t0 + 30_000, resolved_at: null, summary: 'iris/1: data drift on 2 of 4 features' }],
      refresh_ms: 50,
    };
    const plain = await loadWebview('monitoring');
    let without: number;
    try {
      await plain.receive({ type: 'monitoring/data', data: { ...data, incidents: [] } });
      without = plain.drawCalls();
    } finally {
      plain.close();
    }
    await w.receive({ type: 'monitoring/data', data });
    const d = w.document;
    assert.equal(d.querySelectorAll('#volume canvas, #latency canvas').length, 2);
    assert.match(d.getElementById('accuracy')?.textContent ?? '', /No data yet/);
    const cells = [...d.querySelectorAll('#heatmap td')];
    assert.equal(cells.length, 4);
    assert.equal(cells[1]!.textContent, '0.3');
    assert.ok(w.drawCalls() > 0);
    // The incident: a row in the list and a marker drawn on the charts (more drawing than the same data without it).
    assert.match(d.querySelector('#incidents tr[data-incident="7"]')?.textContent ?? '', /#7 data drift.*warning.*open.*data drift on 2 of 4 features/);
    assert.ok(w.drawCalls() > without, `markers drawn (${w.drawCalls()} vs ${without})`);
    // It refreshes itself: the panel asks the host for fresh data after refresh_ms.
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(w.posted.at(-1), { type: 'monitoring/refresh' });
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('monitoring: minutes without data break the latency line, volume counts them as 0; two variants get a legend; the time range is kept', async () => {
  const now = Date.now();
  const m = (k: number) => Math.floor(now / 60_000) * 60_000 - k * 60_000;
  const data: MonitoringData = {
    endpoint: 'iris',
    // 90, 89 and 88 minutes ago, then a 60-minute silence, then the last 28 minutes.
    volume: [
      { name: 'iris/1', points: [m(90), m(89), m(88), m(28), m(27)].map((t) => ({ t, v: 5 })) },
      { name: 'iris/2', points: [m(28), m(27)].map((t) => ({ t, v: 2 })) },
    ],
    latencyP99: [{ name: 'iris/1', points: [m(90), m(89), m(88), m(28), m(27)].map((t) => ({ t, v: 3 })) }],
    accuracy: [{ name: 'iris/1', points: [{ t: m(90), v: 0.9 }] }],
    heatmap: null,
    incidents: [],
    refresh_ms: 60_000,
  };
  const w = await loadWebview('monitoring');
  try {
    await w.receive({ type: 'monitoring/data', data });
    const card = (id: string) => w.document.getElementById(id)!;
    assert.equal(card('latency').dataset.gaps, '1', 'one break in the latency line, across the silence');
    assert.equal(card('volume').dataset.gaps, '0', 'the silent minutes count as 0 requests');
    assert.equal(card('volume').dataset.legend, 'true', 'two variants: a legend names them');
    assert.equal(card('latency').dataset.legend, 'false');
    // The last hour: accuracy had its only point 90 minutes ago.
    const range = w.document.getElementById('range') as HTMLElement & { value: string };
    range.value = '1h';
    range.dispatchEvent(new w.window.Event('change'));
    await settle();
    assert.equal(card('latency').dataset.range, '1h');
    assert.equal(card('latency').dataset.gaps, '0', 'inside the last hour there is no silence');
    assert.match(card('accuracy').textContent ?? '', /No data in this time range/);
    assert.deepEqual({ ...(w.state.value as object) }, { range: '1h' });
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('drift report: per variant, reference named, features most drifted first with each method; Run Drift Check posts drift/check; errors are shown', async () => {
  const w = await loadWebview('drift');
  try {
    await w.receive({ type: 'drift/data', data: { report: IRIS_DRIFT, bins: null, timeline: null } });
    const d = w.document;
    assert.deepEqual([...d.querySelectorAll('section[data-variant="iris/1"] tbody tr')].map((r) => r.getAttribute('data-feature')), ['b', 'c', 'a']);
    assert.match(d.getElementById('summary')?.textContent ?? '', /2 of 3 features drifted over the newest 1000 served rows/);
    assert.match(d.querySelector('.reference')?.textContent ?? '', /training profile \(artifact .*reference_data\.csv, 2000 rows\)/);
    assert.deepEqual([...d.querySelectorAll('thead th')].map((h) => h.textContent), ['Feature', 'Severity', 'PSI', 'KS p', 'Wass/σ', 'JS', 'Votes', 'n ref / cur']);
    assert.deepEqual([...d.querySelectorAll('tr[data-feature="b"] td')].map((c) => c.textContent), ['b', 'high', '0.4 *', '1.00e-4 *', '0.05 *', '0.05 *', '4/4', '2000 / 600']);
    (d.querySelector('vscode-button') as HTMLElement).click();
    assert.deepEqual(w.posted.at(-1), { type: 'drift/check' });

    await w.receive({ type: 'drift/data', data: { report: AB_DRIFT, bins: null, timeline: null } });
    assert.match(d.querySelector('section[data-variant="churn/2"] .reference')?.textContent ?? '', /fallback: first served window/);
    assert.match(d.querySelector('section[data-variant="churn/3"] .status')?.textContent ?? '', /needs at least 30/);

    await w.receive({ type: 'drift/error', message: "Endpoint 'x' does not exist" });
    assert.match(d.getElementById('error')?.textContent ?? '', /does not exist/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});
