import '../shared/elements';
import type { AbResult, AbToHost, AbToWebview } from '../protocol/ab';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';

const host = new Host<AbToHost, AbToWebview, Record<string, never>>();
const app = document.getElementById('app')!;

function button(label: string, onClick: () => void, secondary = false): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onClick);
  return b;
}

function show(r: AbResult): void {
  clear(app);
  const metricNames = [...new Set(r.variants.flatMap((v) => v.metrics.map((m) => m.name)))];
  const head = el('tr', {}, el('th', {}, 'Variant'), el('th', {}, 'Model'), el('th', {}, 'Weight'), el('th', {}, 'Requests'), ...metricNames.map((n) => el('th', {}, n)));
  const rows = r.variants.map((v) =>
    el(
      'tr',
      { 'data-variant': v.id },
      el('td', {}, v.id),
      el('td', {}, v.model),
      el('td', {}, `${fmt(v.weight)}%`),
      el('td', {}, String(v.requests)),
      ...metricNames.map((n) => {
        const m = v.metrics.find((x) => x.name === n);
        return el('td', {}, m ? `${fmt(m.value)}${m.low != null && m.high != null ? ` [${fmt(m.low)}, ${fmt(m.high)}]` : ''}` : '–');
      }),
    ),
  );
  const tests = r.tests.map((t) => el('tr', {}, el('td', {}, t.metric), el('td', {}, t.variant), el('td', {}, fmt(t.effect)), el('td', {}, fmt(t.p_value)), el('td', {}, t.significant ? 'significant' : 'not significant')));
  const srm = r.srm ? `Sample-ratio check: p = ${fmt(r.srm.p_value)}${r.srm.mismatch ? ' (MISMATCH: traffic split is off; do not trust the results)' : ' (ok)'}` : 'Sample-ratio check: not enough traffic yet';
  // Only the arm under test can be promoted (the stable serves the rest already), whatever order the arms come in.
  const candidates = r.variants.filter((v) => v.role === 'candidate');
  app.append(
    el('h2', {}, `A/B results: ${r.endpoint}`),
    el('p', { class: 'verdict', id: 'verdict' }, r.verdict),
    el('p', { class: r.srm?.mismatch ? 'warning' : 'muted', id: 'srm' }, srm),
    el('table', { id: 'variants' }, el('thead', {}, head), el('tbody', {}, ...rows)),
    el('h3', {}, 'Tests against control'),
    el('table', { id: 'tests' }, el('thead', {}, el('tr', {}, el('th', {}, 'Metric'), el('th', {}, 'Variant'), el('th', {}, 'Effect'), el('th', {}, 'p-value'), el('th', {}, 'Result'))), el('tbody', {}, ...tests)),
    el('div', { class: 'toolbar' }, ...candidates.map((v) => button(`Promote ${v.id}`, () => host.send({ type: 'ab/promote', variant: v.id }))), button('Roll Back', () => host.send({ type: 'ab/rollBack' }), true), button('Refresh', () => host.send({ type: 'ab/refresh' }), true)),
  );
}

host.listen({
  'ab/data': (m) => show(m.result),
  'ab/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'ab/ready' });
