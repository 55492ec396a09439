import '../shared/elements';
import type { DriftEndpoint, DriftFeature, DriftToHost, DriftToWebview, VariantDrift } from '../protocol/drift';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';

const host = new Host<DriftToHost, DriftToWebview, Record<string, never>>();
const app = document.getElementById('app')!;
const RANK = { high: 0, medium: 1, low: 2, none: 3 } as const;
const METHODS = [
  ['psi', 'PSI'],
  ['ks', 'KS p'],
  ['wasserstein_norm', 'Wass/σ'],
  ['jensen_shannon', 'JS'],
  ['chi2', 'χ² p'],
] as const;

/** A method's cell: the p-value for tests, the score for distances; marked when the method votes drift. */
function methodCell(f: DriftFeature, method: string): HTMLTableCellElement {
  const m = f.methods.find((x) => x.method === method);
  if (!m) return el('td', {}, '');
  const value = m.p_value ?? m.score;
  return el('td', { class: m.drift ? 'vote' : '', title: `threshold ${fmt(m.threshold)}` }, `${fmt(value)}${m.drift ? ' *' : ''}`);
}

function referenceText(v: VariantDrift): string {
  if (!v.reference) return 'no reference';
  const r = v.reference;
  return r.kind === 'training' ? `training profile (${r.source}${r.rows !== null ? `, ${r.rows} rows` : ''})` : `fallback: first served window (${r.source})`;
}

function variantSection(v: VariantDrift): HTMLElement {
  const section = el('section', { 'data-variant': v.variant });
  const window = v.window.rows ? `${v.window.rows} served rows${v.window.to_ts ? ` up to ${new Date(v.window.to_ts).toLocaleString()}` : ''}` : 'no served rows';
  section.append(el('h3', {}, `${v.variant} (${v.role})`), el('p', { class: `reference ${v.reference?.kind ?? 'none'}` }, `Reference: ${referenceText(v)} · current: ${window}`));
  if (v.status !== 'ok') {
    section.append(el('p', { class: 'muted status' }, v.message ?? v.status));
    return section;
  }
  const drifted = v.features.filter((f) => f.drift).length;
  section.append(el('p', { class: 'summary' }, `${drifted} of ${v.features.length} features drifted${v.drift ? ' — dataset drift' : ''}.`));
  const shown = METHODS.filter(([m]) => v.features.some((f) => f.methods.some((x) => x.method === m)));
  const rows = [...v.features]
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.votes - a.votes || a.feature.localeCompare(b.feature))
    .map((f) =>
      el('tr', { 'data-feature': f.feature, class: `sev-${f.severity}` }, el('td', {}, f.feature), el('td', {}, f.severity), ...shown.map(([m]) => methodCell(f, m)), el('td', {}, `${f.votes}/${f.methods.length}`)),
    );
  section.append(
    el('table', { class: 'features' }, el('thead', {}, el('tr', {}, el('th', {}, 'Feature'), el('th', {}, 'Severity'), ...shown.map(([, h]) => el('th', {}, h)), el('th', {}, 'Votes'))), el('tbody', {}, ...rows)),
  );
  for (const s of v.skipped) section.append(el('p', { class: 'muted' }, `Skipped ${s.feature}: ${s.reason}`));
  return section;
}

function show(r: DriftEndpoint): void {
  clear(app);
  const check = document.createElement('vscode-button');
  check.textContent = 'Run Drift Check';
  check.addEventListener('click', () => host.send({ type: 'drift/check' }));
  const features = r.variants.flatMap((v) => v.features);
  const drifted = features.filter((f) => f.drift).length;
  app.append(
    el('div', { class: 'toolbar' }, el('h2', {}, `Drift report: ${r.endpoint}`), check),
    el('p', { id: 'summary' }, `${drifted} of ${features.length} features drifted over the newest ${r.window} served rows (checked ${new Date(r.checked_at).toLocaleString()}). * = the method says drift; a feature drifts when 2 methods agree.`),
    ...(r.variants.length ? r.variants.map(variantSection) : [el('p', { class: 'muted' }, 'This endpoint serves nothing.')]),
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
