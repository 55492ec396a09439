import '../shared/elements';
import type { Chart } from 'chart.js';
import type { DriftBins, DriftEndpoint, DriftFeature, DriftPageData, DriftTimeline, DriftToHost, DriftToWebview, VariantDrift } from '../protocol/drift';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';
import { onThemeChange, readTheme, type Theme } from '../shared/theme';
import { overlayChart, timelineChart } from './charts';
import { categoryData, histogramData, methodName, samplesText, thresholdsText, timelineData } from './shape';

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

let theme = readTheme();
let charts: Chart[] = [];
/** What to draw once the page is in the DOM, and again on a theme change. */
let pending: ((t: Theme) => Chart)[] = [];

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

function chartCard(title: string, attrs: Record<string, string>, draw: (c: HTMLCanvasElement, t: Theme) => Chart, ...notes: string[]): HTMLElement {
  const canvas = el('canvas', { role: 'img', 'aria-label': title, ...attrs });
  pending.push((t) => draw(canvas, t));
  return el('section', { class: 'chart-card small' }, el('h4', {}, title), el('div', { class: 'chart-box' }, canvas), ...notes.map((n) => el('p', { class: 'muted note' }, n)));
}

/** Reference vs current per feature (same bins, each side normalised), with the sample sizes and thresholds used. */
function distributions(v: VariantDrift, bins: DriftBins | null): HTMLElement {
  const vb = bins?.variants.find((x) => x.variant === v.variant);
  if (!vb || vb.status !== 'ok' || vb.features.length === 0) return el('p', { class: 'muted', 'data-role': 'no-bins' }, vb?.message ?? 'No distributions to draw.');
  const byName = new Map(v.features.map((f) => [f.feature, f]));
  const cards = vb.features.map((b) => {
    const f = byName.get(b.feature);
    const kind = b.kind === 'numeric' ? 'histogram' : 'categories';
    const data = b.kind === 'numeric' ? histogramData(b) : categoryData(b);
    const notes = [samplesText(b), ...(f ? [`thresholds: ${thresholdsText(f)}`] : []), ...(b.kind === 'categorical' && b.folded ? [`${b.folded} rarer categories in (other)`] : [])];
    return chartCard(`${b.feature}${f ? ` · ${f.severity}` : ''}`, { 'data-feature': b.feature, 'data-chart': 'distribution' }, (c, t) => overlayChart(c, data, t, kind), ...notes);
  });
  const omitted = vb.omitted ? [el('p', { class: 'muted' }, `${vb.omitted} more features not drawn.`)] : [];
  return el('div', {}, el('div', { class: 'charts small', 'data-role': 'distributions' }, ...cards), ...omitted);
}

/** The data-drift monitor's stored checks: the score per feature over time against the threshold each check used. */
function history(v: VariantDrift, timeline: DriftTimeline | null): HTMLElement {
  const tv = timeline?.variants.find((x) => x.variant === v.variant);
  if (!timeline || !tv || tv.features.every((f) => f.points.length === 0)) return el('p', { class: 'muted', 'data-role': 'no-history' }, 'No stored checks yet: the data-drift monitor stores one per interval (Monitors view).');
  const name = methodName(timeline.method);
  const drifted = tv.checks.filter((c) => c.status === 'fail').length;
  const first = tv.checks[0]!;
  const last = tv.checks[tv.checks.length - 1]!;
  const summary = `${tv.checks.length} checks from ${new Date(first.t).toLocaleString()} to ${new Date(last.t).toLocaleString()}; dataset drift in ${drifted}. ${name} per feature; the dashed line is the threshold each check used.`;
  const cards = tv.features.map((f) => chartCard(f.feature, { 'data-feature': f.feature, 'data-chart': 'history', 'data-points': String(f.points.length) }, (c, t) => timelineChart(c, timelineData(f), t, name)));
  return el('div', {}, el('p', { class: 'muted', 'data-role': 'history-summary' }, summary), el('div', { class: 'charts small', 'data-role': 'history' }, ...cards));
}

function variantSection(v: VariantDrift, d: DriftPageData): HTMLElement {
  const section = el('section', { 'data-variant': v.variant });
  const window = v.window.rows ? `${v.window.rows} served rows${v.window.to_ts ? ` up to ${new Date(v.window.to_ts).toLocaleString()}` : ''}` : 'no served rows';
  section.append(el('h3', {}, `${v.variant} (${v.role})`), el('p', { class: `reference ${v.reference?.kind ?? 'none'}` }, `Reference: ${referenceText(v)} · current: ${window}`));
  if (v.status !== 'ok') {
    section.append(el('p', { class: 'muted status' }, v.message ?? v.status), el('h4', {}, 'History'), history(v, d.timeline));
    return section;
  }
  const drifted = v.features.filter((f) => f.drift).length;
  section.append(el('p', { class: 'summary' }, `${drifted} of ${v.features.length} features drifted${v.drift ? ' — dataset drift' : ''}.`));
  const shown = METHODS.filter(([m]) => v.features.some((f) => f.methods.some((x) => x.method === m)));
  const rows = [...v.features]
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.votes - a.votes || a.feature.localeCompare(b.feature))
    .map((f) =>
      el(
        'tr',
        { 'data-feature': f.feature, class: `sev-${f.severity}` },
        el('td', {}, f.feature),
        el('td', {}, f.severity),
        ...shown.map(([m]) => methodCell(f, m)),
        el('td', {}, `${f.votes}/${f.methods.length}`),
        el('td', { class: 'muted' }, `${f.reference_count} / ${f.current_count}`),
      ),
    );
  section.append(
    el(
      'table',
      { class: 'features' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Feature'), el('th', {}, 'Severity'), ...shown.map(([, h]) => el('th', {}, h)), el('th', {}, 'Votes'), el('th', {}, 'n ref / cur'))),
      el('tbody', {}, ...rows),
    ),
  );
  for (const s of v.skipped) section.append(el('p', { class: 'muted' }, `Skipped ${s.feature}: ${s.reason}`));
  section.append(el('h4', {}, 'Distributions: reference vs current'), distributions(v, d.bins), el('h4', {}, 'History'), history(v, d.timeline));
  return section;
}

function drawCharts(): void {
  for (const c of charts) c.destroy();
  charts = pending.map((draw) => draw(theme));
  requestAnimationFrame(() => host.send({ type: 'drift/rendered', charts: charts.length, theme: theme.kind }));
}

function reset(): void {
  for (const c of charts) c.destroy();
  charts = [];
  pending = [];
  clear(app);
}

function show(d: DriftPageData): void {
  const r: DriftEndpoint = d.report;
  reset();
  const check = document.createElement('vscode-button');
  check.textContent = 'Run Drift Check';
  check.addEventListener('click', () => host.send({ type: 'drift/check' }));
  const features = r.variants.flatMap((v) => v.features);
  const drifted = features.filter((f) => f.drift).length;
  app.append(
    el('div', { class: 'toolbar' }, el('h2', {}, `Drift report: ${r.endpoint}`), check),
    el('p', { id: 'summary' }, `${drifted} of ${features.length} features drifted over the newest ${r.window} served rows (checked ${new Date(r.checked_at).toLocaleString()}). * = the method says drift; a feature drifts when 2 methods agree.`),
    ...(r.variants.length ? r.variants.map((v) => variantSection(v, d)) : [el('p', { class: 'muted' }, 'This endpoint serves nothing.')]),
  );
  drawCharts();
}

onThemeChange((t) => {
  theme = t;
  if (pending.length) drawCharts();
});

host.listen({
  'drift/data': (m) => show(m.data),
  'drift/error': (m) => {
    reset();
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'drift/ready' });
