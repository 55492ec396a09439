import { Chart, Filler, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip } from 'chart.js';
import type { AbSequence } from '../protocol/ab';
import { fmt } from '../shared/dom';
import { timeScales } from '../shared/lineChart';
import type { Theme } from '../shared/theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Legend, Tooltip);

type Pt = { x: number; y: number };

/** The chart's lines from a sequence: the difference, its fixed-n interval and the always-valid sequence, by time. */
export function sequenceLines(s: AbSequence): { difference: Pt[]; ciLow: Pt[]; ciHigh: Pt[]; csLow: Pt[]; csHigh: Pt[] } {
  const at = (k: 'difference' | 'ci_low' | 'ci_high' | 'cs_low' | 'cs_high') => s.points.map((p) => ({ x: p.t, y: p[k] }));
  return { difference: at('difference'), ciLow: at('ci_low'), ciHigh: at('ci_high'), csLow: at('cs_low'), csHigh: at('cs_high') };
}

/** "now: −0.26 (95 % CI −0.32 to −0.2; always-valid −0.63 to 0.11, p = 0.23) after 189 + 211". */
export function sequenceSummary(s: AbSequence): string {
  const p = s.points[s.points.length - 1];
  if (!p) return 'No comparison yet.';
  const excludes = p.cs_low > 0 || p.cs_high < 0;
  return `${s.variant} − ${s.control}: ${fmt(p.difference)} (95 % CI ${fmt(p.ci_low)} to ${fmt(p.ci_high)}; always-valid ${fmt(p.cs_low)} to ${fmt(p.cs_high)}, p = ${fmt(p.p_value)}) after ${p.n_control} + ${p.n_treatment} observations. ${excludes ? 'The always-valid sequence excludes 0: the difference is real, however often you looked.' : 'The always-valid sequence still contains 0: keep the test running before deciding.'}`;
}

/** The difference over time between two thin fixed-n bounds and a shaded always-valid band; 0 as a reference line. */
export function sequenceChart(canvas: HTMLCanvasElement, s: AbSequence, theme: Theme): Chart<'line', Pt[]> {
  canvas.dataset.kind = 'sequence';
  canvas.dataset.color = theme.accent;
  canvas.dataset.points = String(s.points.length);
  const l = sequenceLines(s);
  const band = { borderColor: theme.accent2, borderDash: [5, 4], borderWidth: 1, pointRadius: 0 };
  const ci = { borderColor: theme.muted, borderDash: [2, 2], borderWidth: 1, pointRadius: 0 };
  const zero = s.points.length ? [{ x: s.points[0]!.t, y: 0 }, { x: s.points[s.points.length - 1]!.t, y: 0 }] : [];
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: 'always-valid 95 % sequence', data: l.csLow, ...band },
        { label: 'sequence (upper)', data: l.csHigh, ...band, fill: '-1', backgroundColor: `${theme.accent2}22` },
        { label: 'fixed-n 95 % CI', data: l.ciLow, ...ci },
        { label: 'CI (upper)', data: l.ciHigh, ...ci },
        { label: `difference (${s.metric})`, data: l.difference, borderColor: theme.accent, backgroundColor: theme.accent, borderWidth: 2, pointRadius: 0 },
        { label: '0', data: zero, borderColor: theme.foreground, borderWidth: 0.5, pointRadius: 0 },
      ],
    },
    options: {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: timeScales(theme, `${s.metric}: ${s.variant} − ${s.control}`),
      plugins: {
        legend: { display: true, labels: { color: theme.foreground, boxWidth: 12, filter: (item) => !/\(upper\)|^0$/.test(item.text) } },
        tooltip: { callbacks: { title: (items) => new Date(Number(items[0]?.parsed.x)).toLocaleString() } },
      },
    },
  });
}
