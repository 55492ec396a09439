import '../shared/elements';
import type { DriftEndpoint, DriftToHost, DriftToWebview } from '../protocol/drift';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';

const host = new Host<DriftToHost, DriftToWebview, Record<string, never>>();
const app = document.getElementById('app')!;
const RANK = { high: 0, medium: 1, low: 2, none: 3 } as const;

function show(r: DriftEndpoint): void {
  clear(app);
  const check = document.createElement('vscode-button');
  check.textContent = 'Run Drift Check';
  check.addEventListener('click', () => host.send({ type: 'drift/check' }));
  const drifted = r.features.filter((f) => f.severity !== 'none').length;
  const rows = [...r.features]
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.score - a.score)
    .map((f) => el('tr', { 'data-feature': f.feature, class: `sev-${f.severity}` }, el('td', {}, f.feature), el('td', {}, f.severity), el('td', {}, f.test), el('td', {}, fmt(f.score)), el('td', {}, fmt(f.p_value ?? null))));
  app.append(
    el('div', { class: 'toolbar' }, el('h2', {}, `Drift report: ${r.endpoint}`), check),
    el('p', { id: 'summary' }, `${drifted} of ${r.features.length} features drifted${r.checked_at ? ` (checked ${new Date(r.checked_at).toLocaleString()})` : ''}.`),
    el('table', { id: 'features' }, el('thead', {}, el('tr', {}, el('th', {}, 'Feature'), el('th', {}, 'Severity'), el('th', {}, 'Test'), el('th', {}, 'Score'), el('th', {}, 'p-value'))), el('tbody', {}, ...rows)),
  );
}

host.listen({
  'drift/data': (m) => show(m.report),
  'drift/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'drift/ready' });
