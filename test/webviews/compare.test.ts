import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadWebview, settle } from './dom';
import { compareData } from './fixtures';

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
