import type { UiTableColumns } from '../../../backend/src/api/v1/contract-table';
import { clear, el } from '../shared/dom';

/** At most this many keys are listed at once; typing in the search box narrows them. */
const LISTED = 300;

/**
 * The column chooser: a search box and a checkbox per metric, param and tag key (native inputs, so Tab and Space
 * reach every one). `onChange` gets the new column list, in the order metrics, params, tags.
 */
export class ColumnChooser {
  readonly root = el('details', { class: 'xt-chooser', id: 'columns' });
  private readonly summary = el('summary', {}, 'Columns');
  private readonly search = el('input', { type: 'search', id: 'column-search', placeholder: 'Find a column', 'aria-label': 'Find a column' });
  private readonly list = el('div', { class: 'xt-chooser-list', role: 'group', 'aria-label': 'Columns shown' });
  private available: UiTableColumns = { metrics: [], params: [], tags: [], truncated: false };
  private chosen = new Set<string>();

  constructor(private readonly onChange: (columns: string[]) => void) {
    const all = el('button', { type: 'button', id: 'columns-none' }, 'Hide all');
    all.addEventListener('click', () => this.set(new Set()));
    this.root.append(this.summary, el('div', { class: 'toolbar' }, this.search, all), this.list);
    this.search.addEventListener('input', () => this.draw());
  }

  show(available: UiTableColumns, chosen: readonly string[]): void {
    this.available = available;
    this.chosen = new Set(chosen);
    this.draw();
  }

  private set(next: Set<string>): void {
    this.chosen = next;
    this.draw();
    const order = [...this.available.metrics.map((k) => `metrics.${k}`), ...this.available.params.map((k) => `params.${k}`), ...this.available.tags.map((k) => `tags.${k}`)];
    this.onChange(order.filter((c) => next.has(c)));
  }

  private draw(): void {
    const total = this.available.metrics.length + this.available.params.length + this.available.tags.length;
    this.summary.textContent = `Columns (${this.chosen.size} of ${total}${this.available.truncated ? '+' : ''})`;
    const q = this.search.value.trim().toLowerCase();
    clear(this.list);
    let listed = 0;
    for (const [entity, keys] of [['metrics', this.available.metrics], ['params', this.available.params], ['tags', this.available.tags]] as const) {
      const match = keys.filter((k) => !q || k.toLowerCase().includes(q));
      if (match.length === 0) continue;
      const group = el('fieldset', {}, el('legend', {}, entity));
      for (const k of match) {
        if (listed++ >= LISTED) break;
        const col = `${entity}.${k}`;
        const box = el('input', { type: 'checkbox', 'data-column': col });
        box.checked = this.chosen.has(col);
        box.addEventListener('change', () => {
          const next = new Set(this.chosen);
          if (box.checked) next.add(col);
          else next.delete(col);
          this.set(next);
        });
        group.append(el('label', {}, box, ` ${k}`));
      }
      this.list.append(group);
    }
    if (listed > LISTED) this.list.append(el('p', { class: 'muted' }, `Showing ${LISTED} keys; type to find others.`));
  }
}
