import '../shared/elements';
import type { Chart } from 'chart.js';
import type { AbResult, AbToHost, AbToWebview } from '../protocol/ab';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';
import { onThemeChange, readTheme } from '../shared/theme';
import { sequenceChart, sequenceSummary } from './sequence';

const host = new Host<AbToHost, AbToWebview, Record<string, never>>();
const app = document.getElementById('app')!;
let theme = readTheme();
let charts: Chart[] = [];
let last: AbResult | undefined;

/** One card per candidate and metric: the difference over time with both intervals (redrawn on a theme change). */
function drawSequences(r: AbResult, root: HTMLElement): void {
  for (const c of charts) c.destroy();
  charts = [];
  root.replaceChildren();
  if (r.sequences.length === 0) {
    root.append(el('p', { class: 'muted', id: 'no-sequence' }, 'No comparison over time yet: two arms need traffic (and labels, for accuracy).'));
    return;
  }
  for (const s of r.sequences) {
    const canvas = el('canvas', { role: 'img', 'aria-label': `${s.metric} difference over time`, 'data-metric': s.metric, 'data-variant': s.variant });
    root.append(el('section', { class: 'chart-card' }, el('h3', {}, `${s.metric}: ${s.variant} − ${s.control}`), el('div', { class: 'chart-box' }, canvas), el('p', { class: 'muted note', 'data-role': 'sequence-summary' }, sequenceSummary(s))));
    charts.push(sequenceChart(canvas, s, theme));
  }
  requestAnimationFrame(() => host.send({ type: 'ab/rendered', charts: charts.length, theme: theme.kind }));
}

function button(label: string, onClick: () => void, secondary = false): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onClick);
  return b;
}

function show(r: AbResult): void {
  last = r;
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
  const ci = (metric: string, variant: string) => {
    const p = r.sequences.find((s) => s.metric === metric && s.variant === variant)?.points.at(-1);
    return p ? `[${fmt(p.ci_low)}, ${fmt(p.ci_high)}]` : '–';
  };
  const tests = r.tests.map((t) =>
    el('tr', {}, el('td', {}, t.metric), el('td', {}, t.variant), el('td', {}, fmt(t.effect)), el('td', {}, ci(t.metric, t.variant)), el('td', {}, fmt(t.p_value)), el('td', {}, t.significant ? 'significant' : 'not significant')),
  );
  const srm = r.srm ? `Sample-ratio check: p = ${fmt(r.srm.p_value)}${r.srm.mismatch ? ' (MISMATCH: traffic split is off; do not trust the results)' : ' (ok)'}` : 'Sample-ratio check: not enough traffic yet';
  // Only the arm under test can be promoted (the stable serves the rest already), whatever order the arms come in.
  const candidates = r.variants.filter((v) => v.role === 'candidate');
  app.append(
    el('h2', {}, `A/B results: ${r.endpoint}`),
    el('p', { class: 'verdict', id: 'verdict' }, r.verdict),
    el('p', { class: r.srm?.mismatch ? 'warning' : 'muted', id: 'srm' }, srm),
    el('table', { id: 'variants' }, el('thead', {}, head), el('tbody', {}, ...rows)),
    el('h3', {}, 'Tests against control'),
    el('table', { id: 'tests' }, el('thead', {}, el('tr', {}, el('th', {}, 'Metric'), el('th', {}, 'Variant'), el('th', {}, 'Effect'), el('th', {}, '95 % CI'), el('th', {}, 'p-value'), el('th', {}, 'Result'))), el('tbody', {}, ...tests)),
    el('div', { class: 'toolbar' }, ...candidates.map((v) => button(`Promote ${v.id}`, () => host.send({ type: 'ab/promote', variant: v.id }))), button('Roll Back', () => host.send({ type: 'ab/rollBack' }), true), button('Refresh', () => host.send({ type: 'ab/refresh' }), true)),
    el('h3', {}, 'Difference over time: fixed-n 95 % interval (valid at one planned look) and the always-valid sequence (valid at every look)'),
  );
  const sequences = el('div', { class: 'charts', id: 'sequences' });
  app.append(sequences);
  drawSequences(r, sequences);
}

onThemeChange((t) => {
  theme = t;
  const root = document.getElementById('sequences');
  if (last && root) drawSequences(last, root);
});

host.listen({
  'ab/data': (m) => show(m.result),
  'ab/error': (m) => {
    for (const c of charts) c.destroy();
    charts = [];
    last = undefined;
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'ab/ready' });
