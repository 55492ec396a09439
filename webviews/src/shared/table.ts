import { el } from './dom';
import { keyboardRows } from './keyboard';

/** A keyboard-reachable table (rows focusable, ↑/↓ between them) with an accessible name; `empty` when no rows. */
export function dataTable(id: string, label: string, head: string[], rows: (string | Node)[][], empty: string): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'empty', id }, empty);
  const t = el(
    'table',
    { id, 'aria-label': label },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
  keyboardRows(t);
  return t;
}
