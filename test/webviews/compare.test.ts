import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadWebview, settle } from './dom';
import { compareData } from './fixtures';
import { smooth, withAlpha, xValues } from '../../webviews/src/compare/series';
import { seriesColor } from '../../webviews/src/shared/theme';

void test('compare: posts ready first, then renders the param diff and one chart per metric with a series per run', async () => {
  const w = await loadWebview('compare');
  try {
    assert.deepEqual(w.posted[0], { type: 'compare/ready' });
    await w.receive({ type: 'compare/data', data: compareData(3, 50) });
    const d = w.document;
    assert.equal(d.getElementById('title')?.textContent, 'Comparing 3 runs');
    const header = [...d.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
    assert.deepEqual(header, ['', 'Run', 'depth', 'lr', 'accuracy', 'loss'], 'only params that differ, then latest metrics');
    const cards = [...d.querySelectorAll('section.chart-card')];
    assert.deepEqual(cards.map((c) => [c.getAttribute('data-metric'), c.getAttribute('data-series')]), [['accuracy', '3'], ['loss', '3']]);
    assert.ok(w.drawCalls() > 0, 'Chart.js drew on the canvases');
    await settle(100);
    const rendered = w.posted.find((m) => m.type === 'compare/rendered');
    assert.ok(rendered, 'reports first paint');
    assert.equal(rendered.charts, 2);
    assert.equal(rendered.series, 6);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('compare: clicking a run posts openRun; the unchanged-params toggle is remembered in state', async () => {
  const w = await loadWebview('compare');
  try {
    await w.receive({ type: 'compare/data', data: compareData(3, 5) });
    const link = w.document.querySelector<HTMLAnchorElement>('.row[data-run="run0001"] .run-link');
    assert.ok(link);
    link.click();
    assert.deepEqual(w.posted.at(-1), { type: 'compare/openRun', runId: 'run0001' });
    const box = w.document.getElementById('show-unchanged') as HTMLElement & { checked: boolean };
    box.checked = true;
    box.dispatchEvent(new w.window.Event('change'));
    await settle();
    assert.deepEqual((w.state.value as { showUnchanged: boolean }).showUnchanged, true);
    const header = [...w.document.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
    assert.ok(header.includes('optimizer'), 'unchanged param shown after toggling');
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('compare: 1,000 runs keep only the visible rows in the DOM (virtualised table)', async () => {
  const w = await loadWebview('compare');
  try {
    await w.receive({ type: 'compare/data', data: compareData(1000, 3) });
    const rows = w.document.querySelectorAll('.row[data-run]').length;
    assert.ok(rows > 0 && rows < 60, `rendered ${rows} rows`);
    assert.equal(w.document.querySelector('section.chart-card')?.getAttribute('data-series'), '1000');
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('compare: an error and a set of deleted runs are shown, never a blank view', async () => {
  const w = await loadWebview('compare');
  try {
    await w.receive({ type: 'compare/error', message: 'Could not load the runs: backend down' });
    assert.match(w.document.getElementById('error')?.textContent ?? '', /backend down/);
    await w.receive({ type: 'compare/data', data: { runs: [], metrics: [], missing: ['abc'] } });
    assert.match(w.document.getElementById('empty')?.textContent ?? '', /no longer|None of the selected runs/);
    const d = compareData(2, 3);
    await w.receive({ type: 'compare/data', data: { ...d, missing: ['gone1'] } });
    assert.match(w.document.getElementById('missing')?.textContent ?? '', /gone1/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('compare: the refresh button asks the host to reload', async () => {
  const w = await loadWebview('compare');
  try {
    await w.receive({ type: 'compare/data', data: compareData(2, 3) });
    const btn = [...w.document.querySelectorAll('vscode-button')].find((b) => b.textContent === 'Refresh') as HTMLElement;
    btn.click();
    assert.deepEqual(w.posted.at(-1), { type: 'compare/refresh' });
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('compare charts: debiased smoothing, time axes and colours with alpha', () => {
  assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
  // EMA with w = 0.5, debiased: 1; (0.25 + 0.5·2 → 1.25 / 0.75); …
  const s = smooth([1, 2, 3], 0.5);
  assert.equal(s[0], 1, 'the first point is not pulled towards 0');
  assert.ok(Math.abs(s[1]! - 5 / 3) < 1e-12 && Math.abs(s[2]! - 17 / 7) < 1e-12, JSON.stringify(s));
  assert.deepEqual(smooth([1, Number.NaN, 1], 0.9).map((v) => (Number.isNaN(v) ? 'nan' : v)), [1, 'nan', 1]);
  const series = { run_id: 'r', steps: [0, 10, 20], values: [1, 2, 3], t0: 1_000, dt: [0, 60_000, 180_000] };
  assert.deepEqual(xValues(series, 'step', 1_000), [0, 10, 20]);
  assert.deepEqual(xValues(series, 'relative', 1_000), [0, 1, 3]);
  assert.deepEqual(xValues(series, 'wall', 1_000), [1_000, 61_000, 181_000]);
  assert.deepEqual(xValues({ ...series, dt: [] }, 'relative', 0), [0, 10, 20], 'no timestamps: steps');
  assert.equal(withAlpha('hsl(200, 70%, 58%)', 0.25), 'hsla(200, 70%, 58%, 0.25)');
  assert.equal(withAlpha('#3794ff', 0.5), '#3794ff80');
  // 40 runs get 40 different colours.
  assert.equal(new Set(Array.from({ length: 40 }, (_, i) => seriesColor(i))).size, 40);
});

void test('compare: one legend hides and highlights runs in every chart; smoothing, log scale and the x axis are remembered', async () => {
  const w = await loadWebview('compare');
  try {
    await w.receive({ type: 'compare/data', data: compareData(4, 20) });
    const d = w.document;
    const items = [...d.querySelectorAll<HTMLButtonElement>('#legend .legend-item')];
    assert.deepEqual(items.map((i) => i.textContent), ['run-0', 'run-1', 'run-2', 'run-3']);
    // Each entry's colour is set through the CSSOM (the CSP refuses style attributes), as the table's swatches are.
    assert.ok(items.every((i) => i.querySelector<HTMLElement>('.swatch')!.style.background !== ''));
    const cards = () => [...d.querySelectorAll('section.chart-card')];
    assert.deepEqual(cards().map((c) => c.getAttribute('data-visible')), ['4', '4']);

    // Hiding run-1 takes it out of both charts and is kept in the state; "Show all" brings it back.
    items[1]!.click();
    await settle();
    assert.deepEqual(cards().map((c) => c.getAttribute('data-visible')), ['3', '3']);
    assert.deepEqual([...(w.state.value as { hidden: string[] }).hidden], ['run0001']);
    assert.equal(d.querySelector('#legend .legend-item[data-run="run0001"]')?.getAttribute('aria-pressed'), 'false');
    d.getElementById('legend-show-all')!.click();
    await settle();
    assert.deepEqual(cards().map((c) => c.getAttribute('data-visible')), ['4', '4']);

    // Pointing at a legend entry highlights that run in every chart; leaving clears it.
    const before = w.drawCalls();
    d.querySelector('#legend .legend-item[data-run="run0002"]')!.dispatchEvent(new w.window.Event('mouseenter'));
    assert.deepEqual(cards().map((c) => c.getAttribute('data-highlight')), ['run0002', 'run0002']);
    assert.ok(w.drawCalls() > before, 'the charts were redrawn with the new styles');
    d.querySelector('#legend .legend-item[data-run="run0002"]')!.dispatchEvent(new w.window.Event('mouseleave'));
    assert.deepEqual(cards().map((c) => c.getAttribute('data-highlight')), ['', '']);

    const slider = d.getElementById('smoothing') as HTMLInputElement;
    slider.value = '0.6';
    slider.dispatchEvent(new w.window.Event('change'));
    const log = d.getElementById('log-scale') as HTMLElement & { checked: boolean };
    log.checked = true;
    log.dispatchEvent(new w.window.Event('change'));
    const axis = d.getElementById('x-axis') as HTMLElement & { value: string };
    axis.value = 'relative';
    axis.dispatchEvent(new w.window.Event('change'));
    await settle();
    const c = cards()[0]!;
    assert.deepEqual([c.getAttribute('data-smoothing'), c.getAttribute('data-scale'), c.getAttribute('data-x')], ['0.6', 'logarithmic', 'relative']);
    assert.match(c.querySelector('canvas')!.getAttribute('aria-label')!, /by minutes since the run started/);
    const st = w.state.value as { smoothing: number; logScale: boolean; xAxis: string };
    assert.deepEqual([st.smoothing, st.logScale, st.xAxis], [0.6, true, 'relative']);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }

  // A reopened panel starts from the saved settings.
  const again = await loadWebview('compare', { showUnchanged: false, filter: '', hidden: ['run0000'], smoothing: 0.3, logScale: false, xAxis: 'wall' });
  try {
    await again.receive({ type: 'compare/data', data: compareData(2, 5) });
    const c = again.document.querySelector('section.chart-card')!;
    assert.deepEqual([c.getAttribute('data-visible'), c.getAttribute('data-smoothing'), c.getAttribute('data-x')], ['1', '0.3', 'wall']);
    assert.deepEqual(again.errors, []);
  } finally {
    again.close();
  }
});
