import assert from 'node:assert/strict';
import { test } from 'node:test';
import { categoryData, histogramData, samplesText, thresholdsText, timelineData } from '../../webviews/src/drift/shape';
import type { CategoryBins, NumericBins } from '../../webviews/src/protocol/drift';
import { IRIS_BINS, IRIS_DRIFT, IRIS_TIMELINE } from '../fixtures/drift';
import { loadWebview } from './dom';

const [binsA, binsB, binsC] = IRIS_BINS.variants[0]!.features as [NumericBins, NumericBins, CategoryBins];

void test('drift chart data: both sides over the same bins in percent, bins labelled by range; categories keep the backend order', () => {
  const b = histogramData(binsB);
  assert.deepEqual(b.labels, ['0–0.5', '0.5–1', '1–1.5', '1.5–2']);
  assert.deepEqual(b.reference, [50, 50, 0, 0]);
  assert.deepEqual(b.current, [0, 12.5, 37.5, 50]);
  assert.equal(b.labels.length, b.reference.length);
  const c = categoryData(binsC);
  assert.deepEqual(c, { labels: ['x', 'y', 'new'], reference: [70, 30, 0], current: [20, 30, 50] });
  assert.equal(samplesText(binsA), 'reference 2000 rows (every value kept) · current 600 rows');
  assert.equal(samplesText(binsB), 'reference 2000 rows (from a 2048-point sketch) · current 600 rows');
  assert.equal(samplesText(binsC), 'reference 2000 rows · current 600 rows');
  const f = IRIS_DRIFT.variants[0]!.features.find((x) => x.feature === 'b')!;
  assert.equal(thresholdsText(f), 'PSI > 0.2 · KS p < 0.05 · Wass/σ ≥ 0.1 · JS ≥ 0.1');
  const tl = timelineData(IRIS_TIMELINE.variants[0]!.features[1]!);
  assert.deepEqual(tl.score.map((p) => p.y), [0.01, 0.1, 0.4]);
  assert.deepEqual(tl.threshold.map((p) => p.y), [0.3, 0.25, 0.2]);
  assert.deepEqual(tl.score.map((p) => p.x), IRIS_TIMELINE.variants[0]!.checks.map((x) => x.t));
  assert.deepEqual(tl.drifted, [2]);
});

void test('drift report page: a distribution chart per feature (histogram or category bars) with sizes and thresholds, a history chart per feature; redrawn on a theme change', async () => {
  const w = await loadWebview('drift');
  try {
    const d = w.document;
    await w.receive({ type: 'drift/data', data: { report: IRIS_DRIFT, bins: IRIS_BINS, timeline: IRIS_TIMELINE } });
    const dist = [...d.querySelectorAll('section[data-variant="iris/1"] canvas[data-chart="distribution"]')] as HTMLCanvasElement[];
    assert.deepEqual(dist.map((c) => [c.dataset.feature, c.dataset.kind]), [['a', 'histogram'], ['b', 'histogram'], ['c', 'categories']]);
    const card = dist[1]!.closest('section')!;
    assert.match(card.textContent ?? '', /b · high/);
    assert.match(card.textContent ?? '', /reference 2000 rows \(from a 2048-point sketch\) · current 600 rows/);
    assert.match(card.textContent ?? '', /thresholds: PSI > 0\.2 · KS p < 0\.05/);
    const hist = [...d.querySelectorAll('canvas[data-chart="history"]')] as HTMLCanvasElement[];
    assert.deepEqual(hist.map((c) => [c.dataset.feature, c.dataset.points]), [['a', '3'], ['b', '3'], ['c', '3']]);
    assert.match(d.querySelector('[data-role="history-summary"]')?.textContent ?? '', /^3 checks from .* dataset drift in 1\. PSI per feature; the dashed line is the threshold/);
    assert.ok(w.drawCalls() > 0, 'Chart.js drew');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(w.posted.at(-1), { type: 'drift/rendered', charts: 6, theme: 'vscode-dark' });

    // VS Code switches theme: new CSS variables on <html> and a new body class; every chart is drawn again.
    const before = w.drawCalls();
    d.documentElement.style.setProperty('--vscode-charts-blue', '#1a85ff');
    d.body.classList.add('vscode-light');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(dist[0]!.dataset.color, '#1a85ff');
    assert.ok(w.drawCalls() > before);
    for (let i = 0; i < 20 && w.posted.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(w.posted.at(-1), { type: 'drift/rendered', charts: 6, theme: 'vscode-light' });

    // No monitor yet and no bins: the tables stay, each chart area says why it is empty.
    await w.receive({ type: 'drift/data', data: { report: IRIS_DRIFT, bins: null, timeline: null } });
    assert.equal(d.querySelectorAll('canvas').length, 0);
    assert.match(d.querySelector('[data-role="no-history"]')?.textContent ?? '', /No stored checks yet/);
    assert.equal(d.querySelectorAll('tbody tr').length, 3);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});
