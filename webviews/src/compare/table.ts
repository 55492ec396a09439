import type { UiCompareRun } from '../../../backend/src/api/v1/contract-ui';
import { clear, el, fmt } from '../shared/dom';
import { paramColumns, metricColumns } from './diff';

export const ROW_HEIGHT = 24;
/** Rows drawn beyond the visible window, so fast scrolling does not flash blank rows. */
const OVERSCAN = 8;

export interface TableOptions {
  runs: UiCompareRun[];
  colorOf: (runId: string) => string;
  showUnchanged: boolean;
  onOpenRun: (runId: string) => void;
}

/**
 * Runs as rows, differing params and latest metrics as columns. Only the rows in view are in the DOM (a fixed row
 * height and a spacer give the scrollbar its full length), so 10,000 runs cost the same as 30.
 */
export class RunTable {
  readonly root = el('div', { class: 'table-scroll', role: 'table', 'aria-label': 'Runs, params and metrics' });
  private readonly body = el('div', { class: 'table-body' });
  private opts: TableOptions | undefined;
  private cols: { params: { key: string; changed: boolean }[]; metrics: string[] } = { params: [], metrics: [] };

  constructor() {
    this.root.append(this.body);
    this.root.addEventListener('scroll', () => this.draw());
  }

  render(opts: TableOptions): void {
    this.opts = opts;
    this.cols = { params: paramColumns(opts.runs, opts.showUnchanged), metrics: metricColumns(opts.runs) };
    this.draw();
  }

  private header(): HTMLElement {
    const row = el('div', { class: 'row header', role: 'row' }, el('span', { class: 'cell swatch-cell' }), el('span', { class: 'cell name', role: 'columnheader' }, 'Run'));
    for (const p of this.cols.params) row.append(el('span', { class: `cell param${p.changed ? ' changed' : ''}`, role: 'columnheader', title: `param ${p.key}` }, p.key));
    for (const m of this.cols.metrics) row.append(el('span', { class: 'cell metric', role: 'columnheader', title: `latest ${m}` }, m));
    return row;
  }

  private draw(): void {
    const o = this.opts;
    if (!o) return;
    const viewport = this.root.clientHeight || 400;
    const first = Math.max(0, Math.floor(this.root.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(o.runs.length, Math.ceil((this.root.scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN);
    clear(this.body);
    this.body.style.height = `${(o.runs.length + 1) * ROW_HEIGHT}px`;
    const head = this.header();
    head.style.top = '0px';
    this.body.append(head);
    for (let i = first; i < last; i++) {
      const r = o.runs[i]!;
      const row = el('div', { class: 'row', role: 'row', 'data-run': r.run_id });
      row.style.top = `${(i + 1) * ROW_HEIGHT}px`;
      const swatch = el('span', { class: 'cell swatch-cell' }, el('span', { class: 'swatch' }));
      (swatch.firstChild as HTMLElement).style.background = o.colorOf(r.run_id);
      const link = el('a', { href: '#', class: 'run-link', title: `Open run ${r.run_id}` }, r.name || r.run_id.slice(0, 8));
      link.addEventListener('click', (e) => {
        e.preventDefault();
        o.onOpenRun(r.run_id);
      });
      row.append(swatch, el('span', { class: 'cell name' }, link));
      for (const p of this.cols.params) row.append(el('span', { class: `cell param${p.changed ? ' changed' : ''}` }, r.params[p.key] ?? '–'));
      for (const m of this.cols.metrics) row.append(el('span', { class: 'cell metric' }, fmt(r.latest[m])));
      this.body.append(row);
    }
  }
}
