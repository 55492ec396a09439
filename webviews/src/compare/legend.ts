import type { UiCompareRun } from '../../../backend/src/api/v1/contract-ui';
import { el } from '../shared/dom';

export interface LegendEvents {
  toggle(runId: string): void;
  showAll(): void;
  hover(runId: string | null): void;
}

/**
 * One legend for every chart: a button per run (its colour and name). A click (or Enter/Space) hides or shows the run
 * in all charts; pointing at it (or focusing it) draws its lines on top and fades the others.
 */
export class Legend {
  readonly root = el('div', { class: 'legend', id: 'legend', role: 'group', 'aria-label': 'Runs in the charts' });

  render(runs: readonly UiCompareRun[], colorOf: (id: string) => string, hidden: ReadonlySet<string>, on: LegendEvents): void {
    this.root.replaceChildren();
    for (const r of runs) {
      const off = hidden.has(r.run_id);
      // The colour through the CSSOM: the webview's CSP refuses inline style attributes.
      const swatch = el('span', { class: 'swatch' });
      swatch.style.background = colorOf(r.run_id);
      const item = el(
        'button',
        { class: `legend-item${off ? ' off' : ''}`, 'data-run': r.run_id, 'aria-pressed': String(!off), title: `${off ? 'Show' : 'Hide'} ${r.name} in the charts` },
        swatch,
        el('span', { class: 'name' }, r.name),
      );
      item.addEventListener('click', () => on.toggle(r.run_id));
      item.addEventListener('mouseenter', () => on.hover(r.run_id));
      item.addEventListener('focus', () => on.hover(r.run_id));
      item.addEventListener('mouseleave', () => on.hover(null));
      item.addEventListener('blur', () => on.hover(null));
      this.root.append(item);
    }
    if (hidden.size > 0) {
      const all = el('button', { class: 'legend-all', id: 'legend-show-all' }, `Show all (${hidden.size} hidden)`);
      all.addEventListener('click', () => on.showAll());
      this.root.append(all);
    }
  }
}
