/**
 * Makes a table's body rows reachable by keyboard: Tab lands on one row (roving tabindex), ↑/↓, Home/End and
 * PageUp/PageDown move between rows, and Enter runs `onEnter` for the row when given.
 */
export function keyboardRows(table: HTMLTableElement, onEnter?: (row: HTMLTableRowElement) => void): void {
  const rows = () => [...table.tBodies].flatMap((b) => [...b.rows]);
  rows().forEach((r, i) => r.setAttribute('tabindex', i === 0 ? '0' : '-1'));
  table.addEventListener('keydown', (e) => {
    const all = rows();
    const at = all.indexOf((e.target as HTMLElement).closest('tr') as HTMLTableRowElement);
    if (at < 0) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1, PageDown: at + 10, PageUp: at - 10 }[e.key];
    if (e.key === 'Enter' && onEnter) {
      onEnter(all[at]!);
      e.preventDefault();
      return;
    }
    if (to === undefined) return;
    const next = all[Math.max(0, Math.min(all.length - 1, to))]!;
    all[at]!.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
    e.preventDefault();
  });
}
