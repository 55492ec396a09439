import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReportView } from '../../backend/src/api/v1/contract-report';
import type { MonitoringData } from '../../webviews/src/protocol/monitoring';
import { loadWebview, settle, type Loaded } from './dom';
import { compareData } from './fixtures';

const t0 = 1_700_000_000_000;

/** VS Code's theme switch as the webview sees it: new CSS variables on <html> and a new body class. */
async function switchTheme(w: Loaded): Promise<void> {
  w.document.documentElement.style.setProperty('--vscode-charts-blue', '#1a85ff');
  w.document.documentElement.style.setProperty('--vscode-descriptionForeground', '#616161');
  w.document.body.classList.add('vscode-light');
  await settle(150);
}

const themes = (w: Loaded, selector: string) => [...w.document.querySelectorAll<HTMLElement>(selector)].map((c) => c.dataset.theme ?? c.dataset.color);

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
