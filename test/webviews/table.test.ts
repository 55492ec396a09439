import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UiTableRun } from '../../backend/src/api/v1/contract-table';
import { loadWebview, settle, type Loaded } from './dom';

const AVAILABLE = { metrics: ['acc', 'loss'], params: ['lr', 'opt'], tags: ['team'], truncated: false };
const COLUMNS = ['metrics.acc', 'metrics.loss', 'params.lr', 'params.opt'];

/** Run i: acc = (i * 7919 % n) / n (a shuffle), loss missing for every 10th run, lr numeric text, opt a word. */
function runs(n: number): UiTableRun[] {
  return Array.from({ length: n }, (_, i) => ({
    run_id: `run${String(i).padStart(5, '0')}`,
    name: `r${i}`,
    experiment_id: '1',
    status: 'FINISHED',
    start_time: 1_000_000 - i,
    end_time: null,
    values: [((i * 7919) % n) / n, i % 10 === 0 ? null : i / n, String([0.1, 0.01, 0.001][i % 3]), i % 2 ? 'sgd' : 'adam'],
  }));
}

/** The webview's saved state, copied out of jsdom's realm (deepEqual compares prototypes). */
const saved = <T>(w: Loaded): T => JSON.parse(JSON.stringify(w.state.value)) as T;
const queries = (w: Loaded) => w.posted.filter((m) => m.type === 'table/query') as unknown as { seq: number; query: { filter: string; orderBy: string; columns: string[] } }[];

async function opened(n: number, done = true): Promise<Loaded> {
  const w = await loadWebview('table');
  await w.receive({ type: 'table/init', title: 'Runs: demo', available: AVAILABLE });
  const q = queries(w).at(-1)!;
  await w.receive({ type: 'table/rows', rows: { seq: q.seq, columns: COLUMNS, runs: runs(n), append: false, total: done ? n : n * 2, done } });
  return w;
}

const shownNames = (w: Loaded) => [...w.document.querySelectorAll('#grid .xt-body .xt-row')].map((r) => r.querySelector('.run-link')!.textContent);

void test('table: ready, then the first query asks for every metric then params, newest first', async () => {
  const w = await loadWebview('table');
  try {
    assert.deepEqual(w.posted[0], { type: 'table/ready' });
    await w.receive({ type: 'table/init', title: 'Runs: demo', available: AVAILABLE });
    const q = queries(w);
    assert.equal(q.length, 1);
    assert.deepEqual(q[0]!.query, { filter: '', sort: { key: 'start_time', asc: false }, orderBy: 'start_time DESC', columns: COLUMNS });
    assert.equal(w.document.getElementById('title')?.textContent, 'Runs: demo');
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('table: 10,000 runs × 50 columns keep only the visible rows in the DOM, and scrolling draws the rows scrolled to', async () => {
  const w = await loadWebview('table');
  try {
    const cols = Array.from({ length: 50 }, (_, i) => (i < 25 ? `metrics.m${i}` : `params.p${i}`));
    await w.receive({ type: 'table/init', title: 't', available: { metrics: cols.slice(0, 25).map((c) => c.slice(8)), params: cols.slice(25).map((c) => c.slice(7)), tags: [], truncated: false } });
    const seq = queries(w).at(-1)!.seq;
    const many = Array.from({ length: 10_000 }, (_, i) => ({ run_id: `id${i}`, name: `run-${i}`, experiment_id: '1', status: 'FINISHED', start_time: 1e6 - i, end_time: null, values: cols.map((_, c) => (c < 25 ? i + c : String(c))) }));
    await w.receive({ type: 'table/rows', rows: { seq, columns: cols, runs: many, append: false, total: 10_000, done: true } });
    const rows = w.document.querySelectorAll('#grid .xt-body .xt-row');
    assert.ok(rows.length > 0 && rows.length < 60, `rendered ${rows.length} rows`);
    assert.equal(w.document.querySelectorAll('#grid .xt-head [role=columnheader]').length, 1 + 3 + 50);
    assert.equal(rows[0]!.querySelectorAll('.xt-cell').length, 1 + 3 + 50);
    assert.equal(w.document.getElementById('count')?.textContent, '10,000 of 10,000 runs');
    const grid = w.document.getElementById('grid')!;
    Object.defineProperty(grid, 'scrollTop', { value: 24 * 5000, configurable: true });
    grid.dispatchEvent(new w.window.Event('scroll'));
    await settle(50);
    const names = shownNames(w);
    assert.ok(names.includes('run-5000') && !names.includes('run-0'), `rows after scrolling: ${names[0]} … ${names.at(-1)}`);
    assert.ok(names.length < 60);
    const rendered = w.posted.filter((m) => m.type === 'table/rendered');
    assert.equal(rendered.length, 1, 'one first-paint report for a complete first page');
    assert.equal(rendered[0]!.rows, 10_000);
    assert.equal(rendered[0]!.columns, 50);
    assert.ok((rendered[0]!.domRows as number) < 60);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('table: with every row loaded, a header click sorts here (missing values last both ways); with rows still to come it asks the server', async () => {
  const w = await opened(30);
  try {
    const before = queries(w).length;
    const sortOn = (key: string) => w.document.querySelector<HTMLButtonElement>(`#grid .xt-sort[data-sort="${key}"]`)!.click();
    sortOn('metrics.loss');
    await settle();
    assert.equal(queries(w).length, before, 'no round trip');
    const all = runs(30);
    const byLoss = all.filter((r) => r.values[1] !== null).sort((a, b) => (a.values[1] as number) - (b.values[1] as number));
    assert.deepEqual(shownNames(w).slice(0, 5), byLoss.slice(0, 5).map((r) => r.name));
    assert.equal(w.document.querySelector('#grid .xt-sort.on')?.closest('[role=columnheader]')?.getAttribute('aria-sort'), 'ascending');
    sortOn('metrics.loss');
    await settle();
    assert.deepEqual(shownNames(w).slice(0, 3), byLoss.reverse().slice(0, 3).map((r) => r.name));
    sortOn('params.opt');
    await settle();
    assert.deepEqual(shownNames(w).slice(0, 2), ['r0', 'r2'], "'adam' before 'sgd', ties newest first");
    assert.deepEqual(saved<{ sort: unknown }>(w).sort, { key: 'params.opt', asc: true });
  } finally {
    w.close();
  }
  const partial = await opened(30, false);
  try {
    partial.document.querySelector<HTMLButtonElement>('#grid .xt-sort[data-sort="params.lr"]')!.click();
    await settle();
    assert.equal(queries(partial).at(-1)!.query.orderBy, 'params.`lr` ASC');
    assert.deepEqual(partial.errors, []);
  } finally {
    partial.close();
  }
});

void test("table: Enter in the filter sends MLflow's filter; the backend's 400 message shows inline and the rows stay", async () => {
  const w = await opened(12);
  try {
    const f = w.document.getElementById('filter') as HTMLElement & { value: string };
    f.value = "metrics.acc > 0.5 and params.opt = 'adam'";
    f.dispatchEvent(new w.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await settle();
    const q = queries(w).at(-1)!;
    assert.equal(q.query.filter, "metrics.acc > 0.5 and params.opt = 'adam'");
    await w.receive({ type: 'table/error', seq: q.seq, message: "Invalid filter: expected a value after '>'", filter: true });
    assert.equal(w.document.getElementById('filter-error')?.textContent, "Invalid filter: expected a value after '>'");
    assert.equal(shownNames(w).length, 12, 'the previous rows are still shown');
    await w.receive({ type: 'table/rows', rows: { seq: q.seq - 1, columns: COLUMNS, runs: runs(3), append: false, total: 3, done: true } });
    assert.equal(shownNames(w).length, 12, 'a stale answer is ignored');
    assert.equal((w.state.value as { filter: string }).filter, "metrics.acc > 0.5 and params.opt = 'adam'");
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('table: select by checkbox and by keyboard (↓, Space), then Compare posts the selected runs', async () => {
  const w = await opened(10);
  try {
    const compare = w.document.getElementById('compare')!;
    assert.ok(compare.hasAttribute('disabled'));
    w.document.querySelector<HTMLInputElement>('.xt-row[data-run="run00003"] input[type=checkbox]')!.click();
    await settle();
    const grid = w.document.getElementById('grid')!;
    grid.focus();
    for (const key of ['ArrowDown', ' ']) grid.dispatchEvent(new w.window.KeyboardEvent('keydown', { key, bubbles: true }));
    await settle();
    assert.equal(w.document.querySelector('.xt-row.active')?.getAttribute('data-run'), 'run00001');
    assert.equal(w.document.querySelectorAll('.xt-row[aria-selected=true]').length, 2);
    assert.ok(!compare.hasAttribute('disabled'));
    assert.equal(compare.textContent, 'Compare 2 selected');
    compare.click();
    assert.deepEqual(w.posted.at(-1), { type: 'table/compare', runIds: ['run00001', 'run00003'] });
    grid.dispatchEvent(new w.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    assert.deepEqual(w.posted.at(-1), { type: 'table/openRun', runId: 'run00001' });
    assert.deepEqual(saved<{ selected: string[] }>(w).selected.sort(), ['run00001', 'run00003']);
  } finally {
    w.close();
  }
});

void test('table: the column chooser lists metrics, params and tags; unticking one asks again without it', async () => {
  const w = await opened(5);
  try {
    const boxes = [...w.document.querySelectorAll<HTMLInputElement>('#columns input[data-column]')];
    assert.deepEqual(boxes.map((b) => [b.dataset.column, b.checked]), [['metrics.acc', true], ['metrics.loss', true], ['params.lr', true], ['params.opt', true], ['tags.team', false]]);
    const box = (c: string) => w.document.querySelector<HTMLInputElement>(`#columns input[data-column="${c}"]`)!;
    box('metrics.loss').click();
    box('tags.team').click();
    await settle();
    assert.deepEqual(queries(w).at(-1)!.query.columns, ['metrics.acc', 'params.lr', 'params.opt', 'tags.team']);
    assert.deepEqual(saved<{ columns: string[] }>(w).columns, ['metrics.acc', 'params.lr', 'params.opt', 'tags.team']);
    assert.match(w.document.querySelector('#columns summary')!.textContent!, /Columns \(4 of 5\)/);
  } finally {
    w.close();
  }
});

void test('table: parallel coordinates over the numeric columns and a param-vs-metric scatter, redrawn for the selection', async () => {
  const w = await opened(40);
  try {
    const pcp = w.document.getElementById('parallel')!;
    assert.equal(pcp.dataset.axes, '3', 'acc, loss and the numeric param lr (opt is text)');
    assert.equal(pcp.dataset.lines, '40');
    const scatter = w.document.getElementById('scatter')!;
    assert.equal((w.document.getElementById('plot-x') as HTMLSelectElement).value, 'params.lr');
    assert.equal((w.document.getElementById('plot-y') as HTMLSelectElement).value, 'metrics.acc');
    assert.equal(scatter.dataset.points, '40');
    const y = w.document.getElementById('plot-y') as HTMLSelectElement;
    y.value = 'metrics.loss';
    y.dispatchEvent(new w.window.Event('change'));
    await settle();
    assert.equal(scatter.dataset.points, '36', 'runs without loss are left out');
    const drawn = w.drawCalls();
    w.document.querySelector<HTMLInputElement>('.xt-row[data-run="run00002"] input[type=checkbox]')!.click();
    await settle();
    assert.ok(w.drawCalls() > drawn, 'redrawn for the selection');
    assert.match(w.document.getElementById('plots-caption')!.textContent!, /1 selected highlighted among 40 runs/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('sortRows: missing values last in both directions, like the server; numbers by value, text by code unit', async () => {
  const { sortRows } = await import('../../webviews/src/table/model');
  const rs = runs(10);
  for (const asc of [true, false]) {
    const sorted = sortRows(rs, COLUMNS, { key: 'metrics.loss', asc });
    assert.deepEqual(sorted.at(-1)!.values[1], null, `missing last (${asc ? 'asc' : 'desc'})`);
    const vals = sorted.slice(0, -1).map((r) => r.values[1] as number);
    assert.deepEqual(vals, [...vals].sort((a, b) => (asc ? a - b : b - a)));
  }
  assert.deepEqual(sortRows(rs, COLUMNS, { key: 'params.lr', asc: true }).map((r) => r.values[2]).slice(0, 4), ['0.001', '0.001', '0.001', '0.01']);
});

void test('table: the plots redraw when the colour theme changes while open', async () => {
  const w = await opened(20);
  try {
    const before = w.drawCalls();
    w.document.body.className = 'vscode-light';
    await settle(100);
    assert.ok(w.drawCalls() > before, 'parallel coordinates and scatter drawn again');
    assert.equal(w.document.getElementById('parallel')?.dataset.lines, '20');
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('table: table/changed asks again as a refresh with the same filter, sort and columns (new keys included); the rows swap in keeping selection, scroll and the active row', async () => {
  const w = await opened(100);
  try {
    const grid = w.document.getElementById('grid')!;
    const f = w.document.getElementById('filter') as HTMLElement & { value: string };
    f.value = 'metrics.acc >= 0';
    f.dispatchEvent(new w.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await settle();
    const filtered = queries(w).at(-1)!;
    const byAcc = (rs: UiTableRun[]) => [...rs].sort((a, b) => (a.values[0] as number) - (b.values[0] as number));
    await w.receive({ type: 'table/rows', rows: { seq: filtered.seq, columns: COLUMNS, runs: runs(100), append: false, total: 100, done: true } });
    // Sorted here by acc (every row is loaded), the third row made active and selected by keyboard, another by its box.
    w.document.querySelector<HTMLButtonElement>('#grid .xt-sort[data-sort="metrics.acc"]')!.click();
    grid.focus();
    for (const key of ['ArrowDown', 'ArrowDown', ' ']) grid.dispatchEvent(new w.window.KeyboardEvent('keydown', { key, bubbles: true }));
    await settle();
    const shown = byAcc(runs(100));
    const activeRun = shown[2]!.run_id;
    // Scrolled down to the 50th row (jsdom has no layout: the scroll position is a property here).
    let top = 50 * 24;
    Object.defineProperty(grid, 'scrollTop', { get: () => top, set: (v: number) => (top = v), configurable: true });
    grid.dispatchEvent(new w.window.Event('scroll'));
    await settle(50);
    w.document.querySelector<HTMLInputElement>(`.xt-row[data-run="${shown[52]!.run_id}"] input[type=checkbox]`)!.click();
    await settle();
    const before = queries(w).length;

    await w.receive({ type: 'table/changed', available: { ...AVAILABLE, metrics: ['acc', 'f1', 'loss'] } });
    const q = queries(w).at(-1) as { seq: number; refresh?: boolean; query: { filter: string; sort: { key: string; asc: boolean }; orderBy: string; columns: string[] } };
    assert.equal(queries(w).length, before + 1);
    assert.equal(q.refresh, true);
    assert.equal(q.query.filter, 'metrics.acc >= 0');
    assert.deepEqual(q.query.sort, { key: 'metrics.acc', asc: true });
    assert.equal(q.query.orderBy, 'metrics.`acc` ASC');
    assert.deepEqual(q.query.columns, ['metrics.acc', 'metrics.f1', 'metrics.loss', 'params.lr', 'params.opt'], 'the new metric is a column (default columns)');
    assert.ok(w.document.querySelector('input[type=checkbox][data-column="metrics.f1"]'), 'the chooser lists the new key');
    assert.equal(w.document.getElementById('count')?.textContent, '100 of 100 runs', 'the old rows stay while the refresh loads');

    // A run logged meanwhile sorts first: every row moves down one, and the view moves with them.
    const cols = [...COLUMNS.slice(0, 1), 'metrics.f1', ...COLUMNS.slice(1)];
    const withF1 = (r: UiTableRun): UiTableRun => ({ ...r, values: [r.values[0]!, 0.5, ...r.values.slice(1)] });
    const fresh: UiTableRun = { run_id: 'new-run', name: 'new', experiment_id: '1', status: 'RUNNING', start_time: 2_000_000, end_time: null, values: [-1, 0.9, 0.2, '0.1', 'adam'] };
    await w.receive({ type: 'table/rows', rows: { seq: q.seq, columns: cols, runs: [fresh, ...shown.map(withF1)], append: false, total: 101, done: true } });
    await settle(50);
    assert.equal(w.document.getElementById('count')?.textContent, '101 of 101 runs');
    assert.equal(top, 51 * 24, 'the rows in view stay in view');
    assert.equal(grid.getAttribute('aria-activedescendant'), 'xt-row-3', 'the active row stays on its run');
    assert.equal(shownNames(w).includes(shown[52]!.name), true);
    assert.equal(w.document.querySelector(`.xt-row[data-run="${shown[52]!.run_id}"]`)?.getAttribute('aria-selected'), 'true');
    assert.deepEqual(saved<{ selected: string[] }>(w).selected.sort(), [activeRun, shown[52]!.run_id].sort());
    assert.equal(w.document.querySelectorAll('#grid .xt-head [role=columnheader]').length, 1 + 3 + 5);
    const rendered = w.posted.filter((m) => m.type === 'table/rendered').at(-1)!;
    assert.equal(rendered.refresh, true);
    assert.equal(rendered.rows, 101);

    // At the top, new runs show: the view stays at the top.
    top = 0;
    grid.dispatchEvent(new w.window.Event('scroll'));
    await settle(50);
    await w.receive({ type: 'table/changed', available: { ...AVAILABLE, metrics: ['acc', 'f1', 'loss'] } });
    const again = queries(w).at(-1)!;
    const newer = { ...fresh, run_id: 'newer-run', name: 'newer', values: [-2, 0.9, 0.2, '0.1', 'adam'] };
    await w.receive({ type: 'table/rows', rows: { seq: again.seq, columns: cols, runs: [newer, fresh, ...shown.map(withF1)], append: false, total: 102, done: true } });
    await settle(50);
    assert.equal(top, 0);
    assert.equal(shownNames(w)[0], 'newer');
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});
