import { BarController, BarElement, CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { Theme } from '../shared/theme';

Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Tooltip);

export interface MetricHistory {
  key: string;
  steps: number[];
  values: number[];
}

/**
 * A metric's small chart: a sparkline over its steps, or, for a metric logged once, a bar from zero to the value
 * (a lone point at step 0 says nothing). The canvas records what it drew (`data-kind`, `data-color`).
 */
export function sparkline(canvas: HTMLCanvasElement, m: MetricHistory, theme: Theme): Chart {
  canvas.dataset.color = theme.accent;
  const hidden = { display: false } as const;
  if (m.values.length === 1) {
    canvas.dataset.kind = 'bar';
    const v = m.values[0]!;
    return new Chart(canvas, {
      type: 'bar',
      data: { labels: [m.key], datasets: [{ data: [v], backgroundColor: theme.accent, borderWidth: 0, barThickness: 14 }] },
      options: {
        indexAxis: 'y',
        animation: false,
        responsive: false,
        scales: { y: hidden, x: { display: false, min: Math.min(0, v), max: Math.max(0, v) || 1 } },
        plugins: { legend: hidden, tooltip: { enabled: true } },
      },
    });
  }
  canvas.dataset.kind = 'line';
  return new Chart(canvas, {
    type: 'line',
    data: { datasets: [{ data: m.steps.map((x, i) => ({ x, y: m.values[i]! })), borderColor: theme.accent, backgroundColor: theme.accent, borderWidth: 1.5, pointRadius: 0 }] },
    options: {
      animation: false,
      parsing: false,
      responsive: false,
      interaction: { mode: 'nearest', intersect: false },
      scales: { x: { type: 'linear', display: false }, y: { type: 'linear', display: false } },
      plugins: { legend: hidden, tooltip: { enabled: true, displayColors: false, callbacks: { title: (items) => `step ${items[0]?.parsed.x ?? ''}` } } },
    },
  });
}
