import type { UiTableRun } from '../../../backend/src/api/v1/contract-table';
import { clear, el, fmt } from '../shared/dom';
import { ATTRIBUTES, splitColumn, visibleRange } from './model';

export const ROW_HEIGHT = 24;

export interface GridCallbacks {
  onSort: (key: string) => void;
  onToggle: (runId: string) => void;
  onOpenRun: (runId: string) => void;
}

const when = (t: number): string => new Date(t).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
const cellText = (v: number | string | null | undefined): string => (typeof v === 'number' ? fmt(v) : (v ?? '–'));

/**
 * The runs grid, virtualised: a body as tall as all rows gives the scrollbar its length, and only the rows in view
 * (plus a few either side) are in the DOM, so 10,000 runs × 50 columns cost what 40 rows do. Keyboard: the grid
 * is one tab stop; ↑/↓, PageUp/PageDown, Home/End move the active row, Space selects it, Enter opens it; the
 * header's sort buttons are tab stops of their own.
 */
export class RunGrid {
  readonly root = el('div', { class: 'xt-scroll', id: 'grid', role: 'grid', tabindex: '0', 'aria-label': 'Runs', 'aria-multiselectable': 'true' });
  private readonly body = el('div', { class: 'xt-body' });
  private readonly head = el('div', { class: 'xt-row xt-head', role: 'row' });
  private runs: readonly UiTableRun[] = [];
  private columns: readonly string[] = [];
  private selected: ReadonlySet<string> = new Set();
  private sort = { key: 'start_time', asc: false };
  private active = 0;
  private frame = 0;

  constructor(private readonly cb: GridCallbacks) {
    this.root.append(this.head, this.body);
    this.root.addEventListener('scroll', () => this.schedule());
    this.root.addEventListener('keydown', (e) => this.key(e));
  }

  setColumns(columns: readonly string[], sort: { key: string; asc: boolean }): void {
    this.columns = columns;
    this.sort = sort;
    this.drawHead();
  }

  /**
   * `keep` (new rows of the same query): the active row stays on its run, and unless the grid is scrolled to the top
   * (where new runs should show), the run at the top of the view stays there while rows are added or removed above it.
   */
  setRuns(runs: readonly UiTableRun[], selected: ReadonlySet<string>, keep = false): void {
    const top = Math.floor(this.root.scrollTop / ROW_HEIGHT);
    const anchor = keep && this.root.scrollTop > 0 ? this.runs[top]?.run_id : undefined;
    const active = keep ? this.runs[this.active]?.run_id : undefined;
    this.runs = runs;
    this.selected = selected;
    const at = (id: string | undefined) => (id === undefined ? -1 : runs.findIndex((r) => r.run_id === id));
    const moved = at(anchor);
    if (moved >= 0) this.root.scrollTop += (moved - top) * ROW_HEIGHT;
    const now = at(active);
    this.active = now >= 0 ? now : Math.min(this.active, Math.max(0, runs.length - 1));
    this.draw();
  }

  /** Rows now in the DOM (the test and the first-paint report read it). */
  get domRows(): number {
    return this.body.childElementCount;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private drawHead(): void {
    const button = (key: string, label: string, title: string) => {
      const on = this.sort.key === key;
      const b = el('button', { class: `xt-sort${on ? ' on' : ''}`, 'data-sort': key, title: `Sort by ${title}` }, `${label}${on ? (this.sort.asc ? ' ▲' : ' ▼') : ''}`);
      b.addEventListener('click', () => this.cb.onSort(key));
      const cls = key === 'run_name' ? 'xt-cell xt-name' : 'xt-cell';
      return el('span', { class: cls, role: 'columnheader', 'aria-sort': on ? (this.sort.asc ? 'ascending' : 'descending') : 'none' }, b);
    };
    clear(this.head);
    this.head.append(el('span', { class: 'xt-cell xt-check', role: 'columnheader', 'aria-label': 'Selected' }));
    for (const a of ATTRIBUTES) this.head.append(button(a.key, a.label, a.label.toLowerCase()));
    for (const c of this.columns) {
      const { entity, key } = splitColumn(c);
      const h = button(c, key, c);
      h.classList.add(`xt-${entity}`);
      this.head.append(h);
    }
  }

  private draw(): void {
    const { first, last } = visibleRange(this.root.scrollTop, this.root.clientHeight || 400, ROW_HEIGHT, this.runs.length);
    this.body.style.height = `${this.runs.length * ROW_HEIGHT}px`;
    const rows: HTMLElement[] = [];
    for (let i = first; i < last; i++) rows.push(this.row(this.runs[i]!, i));
    this.body.replaceChildren(...rows);
    if (this.runs.length) this.root.setAttribute('aria-activedescendant', `xt-row-${this.active}`);
    else this.root.removeAttribute('aria-activedescendant');
  }

  private row(r: UiTableRun, i: number): HTMLElement {
    const on = this.selected.has(r.run_id);
    const row = el('div', { class: `xt-row${on ? ' selected' : ''}${i === this.active ? ' active' : ''}`, role: 'row', id: `xt-row-${i}`, 'data-run': r.run_id, 'aria-selected': String(on), 'aria-rowindex': String(i + 2) });
    row.style.top = `${i * ROW_HEIGHT}px`;
    const box = el('input', { type: 'checkbox', tabindex: '-1', 'aria-label': `Select ${r.name}` });
    box.checked = on;
    box.addEventListener('change', () => this.cb.onToggle(r.run_id));
    const link = el('a', { href: '#', tabindex: '-1', class: 'run-link', title: `Open run ${r.run_id}` }, r.name || r.run_id.slice(0, 8));
    link.addEventListener('click', (e) => {
      e.preventDefault();
      this.cb.onOpenRun(r.run_id);
    });
    row.append(
      el('span', { class: 'xt-cell xt-check', role: 'gridcell' }, box),
      el('span', { class: 'xt-cell xt-name', role: 'gridcell' }, link),
      el('span', { class: `xt-cell status-${r.status.toLowerCase()}`, role: 'gridcell' }, r.status),
      el('span', { class: 'xt-cell', role: 'gridcell' }, when(r.start_time)),
    );
    for (let c = 0; c < this.columns.length; c++) {
      const v = r.values[c];
      row.append(el('span', { class: `xt-cell${typeof v === 'number' ? ' num' : ''}`, role: 'gridcell', title: v === null || v === undefined ? '' : String(v) }, cellText(v)));
    }
    row.addEventListener('click', (e) => {
      if ((e.target as HTMLElement).closest('input, a')) return;
      this.active = i;
      this.root.focus();
      this.draw();
    });
    return row;
  }

  private key(e: KeyboardEvent): void {
    if (e.target !== this.root || this.runs.length === 0) return;
    const page = Math.max(1, Math.floor((this.root.clientHeight || 400) / ROW_HEIGHT) - 1);
    const to = { ArrowDown: this.active + 1, ArrowUp: this.active - 1, Home: 0, End: this.runs.length - 1, PageDown: this.active + page, PageUp: this.active - page }[e.key];
    const r = this.runs[this.active];
    if ((e.key === ' ' || e.key === 'Enter') && r) {
      e.preventDefault();
      if (e.key === ' ') this.cb.onToggle(r.run_id);
      else this.cb.onOpenRun(r.run_id);
      return;
    }
    if (to === undefined) return;
    e.preventDefault();
    this.active = Math.max(0, Math.min(this.runs.length - 1, to));
    // Keep the active row in view: the header row is sticky, so leave its height free at the top.
    const top = this.active * ROW_HEIGHT;
    const view = (this.root.clientHeight || 400) - ROW_HEIGHT;
    if (top < this.root.scrollTop) this.root.scrollTop = top;
    else if (top + ROW_HEIGHT > this.root.scrollTop + view) this.root.scrollTop = top + ROW_HEIGHT - view;
    this.draw();
  }
}
