import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReportView } from '../../backend/src/api/v1/contract-report';
import { sequenceLines, sequenceSummary } from '../../webviews/src/ab/sequence';
import type { AbResult, AbSequence } from '../../webviews/src/protocol/ab';
import type { MonitoringData } from '../../webviews/src/protocol/monitoring';
import { loadWebview, settle, type Loaded } from './dom';
import { compareData } from './fixtures';

const t0 = 1_700_000_000_000;

/** Accuracy of iris/2 − iris/1 at three looks: the fixed-n interval leaves 0 before the always-valid sequence does. */
const SEQ: AbSequence = {
  metric: 'accuracy',
  variant: 'iris/2',
  control: 'iris/1',
  alpha: 0.05,
  tuning_n: 5000,
  points: [
    { t: t0, n_control: 50, n_treatment: 50, difference: -0.1, ci_low: -0.2, ci_high: 0.0, cs_low: -0.6, cs_high: 0.4, p_value: 1 },
    { t: t0 + 60_000, n_control: 100, n_treatment: 100, difference: -0.12, ci_low: -0.18, ci_high: -0.06, cs_low: -0.4, cs_high: 0.16, p_value: 0.4 },
    { t: t0 + 120_000, n_control: 2000, n_treatment: 2000, difference: -0.11, ci_low: -0.13, ci_high: -0.09, cs_low: -0.16, cs_high: -0.06, p_value: 0.001 },
  ],
};

const AB: AbResult = {
  endpoint: 'iris',
  variants: [
    { id: 'iris/1', model: 'iris/1', role: 'stable', weight: 50, requests: 2000, metrics: [] },
    { id: 'iris/2', model: 'iris/2', role: 'candidate', weight: 50, requests: 2000, metrics: [] },
  ],
  tests: [{ metric: 'accuracy', variant: 'iris/2', p_value: 0.001, effect: -0.11, significant: true }],
  srm: { p_value: 0.5, mismatch: false },
  verdict: 'accuracy: iris/1 (control) wins',
  sequences: [SEQ, { ...SEQ, metric: 'latency_ms' }],
};

/** VS Code's theme switch as the webview sees it: new CSS variables on <html> and a new body class. */
async function switchTheme(w: Loaded): Promise<void> {
  w.document.documentElement.style.setProperty('--vscode-charts-blue', '#1a85ff');
  w.document.documentElement.style.setProperty('--vscode-descriptionForeground', '#616161');
  w.document.body.classList.add('vscode-light');
  await settle(150);
}

const themes = (w: Loaded, selector: string) => [...w.document.querySelectorAll<HTMLElement>(selector)].map((c) => c.dataset.theme ?? c.dataset.color);

void test('A/B page: the difference over time with its fixed-n interval and always-valid sequence, shaped from the backend points', () => {
  const l = sequenceLines(SEQ);
  assert.deepEqual(l.difference.map((p) => p.y), [-0.1, -0.12, -0.11]);
  assert.deepEqual(l.ciHigh.map((p) => p.y), [0, -0.06, -0.09]);
  assert.deepEqual(l.csHigh.map((p) => p.y), [0.4, 0.16, -0.06]);
  assert.deepEqual(l.csLow.map((p) => p.x), SEQ.points.map((p) => p.t));
  assert.match(sequenceSummary(SEQ), /^iris\/2 − iris\/1: -0\.11 \(95 % CI -0\.13 to -0\.09; always-valid -0\.16 to -0\.06, p = 0\.001\) after 2000 \+ 2000 observations\. The always-valid sequence excludes 0/);
  assert.match(sequenceSummary({ ...SEQ, points: SEQ.points.slice(0, 2) }), /still contains 0: keep the test running/);
});

void test('A/B page: one sequence chart per candidate and metric, the CI in the tests table; redrawn on a theme change', async () => {
  const w = await loadWebview('ab');
  try {
    await w.receive({ type: 'ab/data', result: AB });
    const canvases = () => [...w.document.querySelectorAll<HTMLCanvasElement>('#sequences canvas')];
    assert.deepEqual(canvases().map((c) => [c.dataset.metric, c.dataset.kind, c.dataset.points]), [['accuracy', 'sequence', '3'], ['latency_ms', 'sequence', '3']]);
    assert.match(w.document.querySelector('#tests tbody tr')?.textContent ?? '', /accuracy.*iris\/2.*-0\.11.*\[-0\.13, -0\.09\].*0\.001.*significant/);
    assert.match(w.document.querySelector('[data-role="sequence-summary"]')?.textContent ?? '', /always-valid -0\.16 to -0\.06/);
    const before = w.drawCalls();
    assert.deepEqual(canvases().map((c) => c.dataset.color), ['#3794ff', '#3794ff']);
    await switchTheme(w);
    assert.deepEqual(canvases().map((c) => c.dataset.color), ['#1a85ff', '#1a85ff']);
    assert.ok(w.drawCalls() > before);
    const rendered = () => w.posted.filter((m) => m.type === 'ab/rendered').map((m) => m.theme);
    for (let i = 0; i < 40 && rendered().length < 2; i++) await settle(50);
    assert.deepEqual(rendered(), ['vscode-dark', 'vscode-light']);
    await w.receive({ type: 'ab/data', result: { ...AB, sequences: [] } });
    assert.match(w.document.getElementById('no-sequence')?.textContent ?? '', /No comparison over time yet/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('Run Comparison, Monitoring and the report redraw their charts in the new theme while open', async () => {
  const monitoring: MonitoringData = {
    endpoint: 'iris',
    volume: [{ name: 'v1', points: [{ t: t0, v: 10 }, { t: t0 + 60_000, v: 12 }] }],
    latencyP99: [{ name: 'v1', points: [{ t: t0, v: 4 }] }],
    accuracy: [],
    heatmap: null,
  };
  const report: ReportView = {
    from: t0,
    to: t0 + 30 * 86_400_000,
    days: 30,
    figures: [],
    deployments_by_month: [{ month: '2026-11', deployments: 3 }],
    retrains_by_trigger: { manual: 1, schedule: 0, drift: 0, performance: 0 },
    experiments: null,
    fixes: [],
    rollbacks: [],
  };
  const cases: [string, unknown, string][] = [
    ['compare', { type: 'compare/data', data: compareData(3, 20) }, '.chart-card[data-theme]'],
    ['monitoring', { type: 'monitoring/data', data: monitoring }, 'canvas[data-theme]'],
    ['report', { type: 'report/data', report, since: '30d' }, 'canvas[data-theme]'],
  ];
  for (const [view, data, selector] of cases) {
    const w = await loadWebview(view);
    try {
      await w.receive(data);
      const n = themes(w, selector).length;
      assert.ok(n > 0, `${view} drew charts`);
      assert.ok(themes(w, selector).every((k) => k === 'vscode-dark'), `${view}: ${themes(w, selector).join()}`);
      const before = w.drawCalls();
      await switchTheme(w);
      assert.deepEqual(themes(w, selector), Array.from({ length: n }, () => 'vscode-light'), `${view} redrew every chart in the light theme`);
      assert.ok(w.drawCalls() > before, `${view} drew again`);
      assert.deepEqual(w.errors, [], view);
    } finally {
      w.close();
    }
  }
});
