import { BarController, BarElement, CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip } from 'chart.js';
import { timeScales } from '../shared/lineChart';
import type { Theme } from '../shared/theme';
import type { OverlayData, TimelineData } from './shape';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);

/** `rgba` of a CSS colour with alpha, through the canvas (theme colours come as #rrggbb, rgb() or names). */
function translucent(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(color);
  return m ? `rgba(${parseInt(m[1]!, 16)}, ${parseInt(m[2]!, 16)}, ${parseInt(m[3]!, 16)}, ${alpha})` : color;
}

/**
 * Reference and current drawn over each other on the same bars (not side by side), each in percent of its own
 * rows; the canvas records what it drew (`data-kind`, `data-color`) for tests.
 */
export function overlayChart(canvas: HTMLCanvasElement, d: OverlayData, theme: Theme, kind: 'histogram' | 'categories'): Chart<'bar'> {
  canvas.dataset.kind = kind;
  canvas.dataset.color = theme.accent;
  const bar = (label: string, data: number[], color: string) => ({ label, data, backgroundColor: translucent(color, 0.45), borderColor: color, borderWidth: 1, grouped: false, barPercentage: kind === 'histogram' ? 1 : 0.8, categoryPercentage: kind === 'histogram' ? 1 : 0.8 });
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: d.labels, datasets: [bar('reference', d.reference, theme.accent), bar('current', d.current, theme.accent2)] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { ticks: { color: theme.muted, maxRotation: 60, autoSkip: true }, grid: { display: false } },
        y: { beginAtZero: true, title: { display: true, text: '% of rows', color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } },
      },
      plugins: { legend: { display: true, labels: { color: theme.foreground, boxWidth: 12 } }, tooltip: { callbacks: { label: (i) => `${i.dataset.label}: ${String(i.parsed.y)} %` } } },
    },
  });
}

/** A method's score at each stored check with the threshold each check used as a dashed stepped line. */
export function timelineChart(canvas: HTMLCanvasElement, d: TimelineData, theme: Theme, yLabel: string): Chart<'line', { x: number; y: number }[]> {
  canvas.dataset.kind = 'timeline';
  canvas.dataset.color = theme.accent;
  const drifted = new Set(d.drifted);
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: [
        { label: yLabel, data: d.score, borderColor: theme.accent, backgroundColor: theme.accent, borderWidth: 1.5, pointRadius: d.score.map((_, i) => (drifted.has(i) ? 4 : 2)), pointBackgroundColor: d.score.map((_, i) => (drifted.has(i) ? theme.accent2 : theme.accent)) },
        { label: 'threshold', data: d.threshold, borderColor: theme.accent2, borderDash: [5, 4], borderWidth: 1, pointRadius: 0, stepped: 'before' },
      ],
    },
    options: {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: timeScales(theme, yLabel, true),
      plugins: { legend: { display: true, labels: { color: theme.foreground, boxWidth: 12 } }, tooltip: { callbacks: { title: (items) => new Date(Number(items[0]?.parsed.x)).toLocaleString() } } },
    },
  });
}
