import '../shared/elements';
import type { UiTableColumns, UiTableRun } from '../../../backend/src/api/v1/contract-table';
import type { TableRows, TableState, TableToHost, TableToWebview } from '../protocol/table';
import { clear, el } from '../shared/dom';
import { Host } from '../shared/host';
import { onThemeChange, readTheme } from '../shared/theme';
import { ColumnChooser } from './columns';
import { RunGrid } from './grid';
import { defaultColumns, numericColumns, orderBy, sortRows } from './model';
import { Plots } from './plots';

const host = new Host<TableToHost, TableToWebview, TableState>();
let state = host.state({ filter: '', sort: { key: 'start_time', asc: false }, columns: null, selected: [], plotX: '', plotY: '' });
const app = document.getElementById('app')!;
let theme = readTheme();

/** The rows of the current query as they arrive, the order the server sent them in, and what is shown. */
const cur = { seq: 0, sentAt: 0, painted: false, refresh: false, runs: [] as UiTableRun[], columns: [] as string[], total: 0, done: false, serverSort: state.sort, shown: [] as UiTableRun[] };
let available: UiTableColumns = { metrics: [], params: [], tags: [], truncated: false };
let selected = new Set(state.selected);

const save = (next: Partial<TableState>) => {
  state = { ...state, ...next };
  host.saveState(state);
};

const grid = new RunGrid({ onSort: (k) => sortBy(k), onToggle: (id) => toggle(id), onOpenRun: (runId) => host.send({ type: 'table/openRun', runId }) });
const chooser = new ColumnChooser((columns) => {
  save({ columns });
  query();
});
const plots = new Plots((plotX, plotY) => {
  save({ plotX, plotY });
  drawPlots();
});
const title = el('h2', { id: 'title' }, 'Experiments table');
const filter = document.createElement('vscode-textfield') as HTMLElement & { value: string };
filter.id = 'filter';
filter.setAttribute('placeholder', "MLflow filter, e.g. metrics.rmse < 1 and params.lr = '0.01'");
filter.setAttribute('aria-label', 'Filter runs (MLflow search syntax); Enter applies');
const filterError = el('p', { class: 'error', id: 'filter-error', role: 'alert' });
const count = el('span', { id: 'count', class: 'muted', 'aria-live': 'polite' });
const compare = document.createElement('vscode-button');
compare.id = 'compare';
const clearSel = document.createElement('vscode-button');
clearSel.id = 'clear-selection';
clearSel.setAttribute('secondary', '');
clearSel.textContent = 'Clear selection';
const refresh = document.createElement('vscode-button');
refresh.id = 'refresh';
refresh.setAttribute('secondary', '');
refresh.textContent = 'Refresh';
const banner = el('p', { class: 'error', id: 'error' });

/** Asks for the rows of the user's filter, sort and columns; a refresh keeps what is shown until the new rows swap in. */
function query(refresh = false): void {
  cur.seq++;
  cur.sentAt = performance.now();
  cur.painted = false;
  cur.refresh = refresh;
  cur.serverSort = state.sort;
  if (!refresh) {
    filterError.textContent = '';
    banner.textContent = '';
    count.textContent = 'Loading runs…';
  }
  const q = { filter: state.filter, sort: state.sort, orderBy: orderBy(state.sort), columns: state.columns ?? defaultColumns(available) };
  host.send({ type: 'table/query', seq: cur.seq, query: q, ...(refresh ? { refresh } : {}) });
}

/** All matching rows are here: sorting needs no round trip. */
const complete = () => cur.done && cur.runs.length >= cur.total;

function sortBy(key: string): void {
  save({ sort: { key, asc: state.sort.key === key ? !state.sort.asc : key !== 'start_time' } });
  grid.setColumns(cur.columns, state.sort);
  if (!complete()) return query();
  show();
}

function toggle(runId: string): void {
  if (selected.has(runId)) selected.delete(runId);
  else selected.add(runId);
  save({ selected: [...selected] });
  updateSelection();
  grid.setRuns(cur.shown, selected);
  drawPlots();
}

function updateSelection(): void {
  compare.textContent = `Compare ${selected.size} selected`;
  if (selected.size >= 2) compare.removeAttribute('disabled');
  else compare.setAttribute('disabled', '');
  compare.title = selected.size >= 2 ? 'Open the selected runs in the Run Comparison' : 'Select two or more runs (Space or the checkboxes)';
}

function drawPlots(): void {
  if (!cur.done) return;
  const numeric = numericColumns(cur.shown, cur.columns);
  const metrics = numeric.filter((c) => c.startsWith('metrics.'));
  const x = numeric.includes(state.plotX) ? state.plotX : (numeric.find((c) => c.startsWith('params.')) ?? numeric[0] ?? '');
  const y = metrics.includes(state.plotY) ? state.plotY : (metrics[0] ?? '');
  plots.draw({ runs: cur.shown, columns: cur.columns, numeric, selected, x, y }, theme);
}

/** `keep`: new rows of the same query (a refresh): the rows in view and the active row stay where they are. */
function show(keep = false): void {
  const same = cur.serverSort.key === state.sort.key && cur.serverSort.asc === state.sort.asc;
  cur.shown = same ? cur.runs : sortRows(cur.runs, cur.columns, state.sort);
  grid.setRuns(cur.shown, selected, keep);
  count.textContent = `${cur.runs.length.toLocaleString('en-US')}${cur.done ? '' : '…'} of ${cur.total.toLocaleString('en-US')} runs`;
  drawPlots();
}

function rows(r: TableRows): void {
  if (r.seq !== cur.seq) return;
  cur.runs = r.append ? cur.runs.concat(r.runs) : r.runs;
  if (!r.append) {
    cur.columns = r.columns;
    grid.setColumns(cur.columns, state.sort);
  }
  cur.total = r.total;
  cur.done = r.done;
  show(cur.refresh);
  const report = !cur.painted || r.done;
  cur.painted = true;
  const refresh = cur.refresh ? { refresh: true } : {};
  // After the browser paints the frame with these rows.
  if (report) requestAnimationFrame(() => host.send({ type: 'table/rendered', seq: r.seq, ms: performance.now() - cur.sentAt, rows: cur.runs.length, columns: cur.columns.length, domRows: grid.domRows, complete: r.done, ...refresh }));
}

function layout(): void {
  filter.setAttribute('value', state.filter);
  filter.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key !== 'Enter') return;
    save({ filter: filter.value.trim() });
    query();
  });
  compare.addEventListener('click', () => selected.size >= 2 && host.send({ type: 'table/compare', runIds: cur.shown.filter((r) => selected.has(r.run_id)).map((r) => r.run_id).concat([...selected].filter((id) => !cur.shown.some((r) => r.run_id === id))) }));
  clearSel.addEventListener('click', () => {
    selected = new Set();
    save({ selected: [] });
    updateSelection();
    grid.setRuns(cur.shown, selected);
    drawPlots();
  });
  refresh.addEventListener('click', () => query());
  updateSelection();
  clear(app);
  app.append(title, el('div', { class: 'toolbar xt-toolbar' }, filter, count, compare, clearSel, refresh), filterError, banner, chooser.root, grid.root, plots.root);
}

host.listen({
  'table/init': (m) => {
    available = m.available;
    title.textContent = m.title;
    chooser.show(available, state.columns ?? defaultColumns(available));
    query();
  },
  'table/rows': (m) => rows(m.rows),
  'table/changed': (m) => {
    available = m.available;
    chooser.show(available, state.columns ?? defaultColumns(available));
    query(true);
  },
  'table/error': (m) => {
    if (m.seq !== cur.seq) return;
    count.textContent = `${cur.runs.length.toLocaleString('en-US')} runs (previous result)`;
    (m.filter ? filterError : banner).textContent = m.message;
  },
});
onThemeChange((t) => {
  theme = t;
  drawPlots();
});
layout();
host.send({ type: 'table/ready' });
