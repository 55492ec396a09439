import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip } from 'chart.js';
import type { Theme } from '../shared/theme';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

/** One themed bar chart of counts (deployments by month, retrains by trigger). */
export function barChart(canvas: HTMLCanvasElement, labels: string[], values: number[], theme: Theme, label: string): Chart<'bar'> {
  const axis = { ticks: { color: theme.muted, font: { family: theme.font } }, grid: { color: theme.grid } };
  return new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label, data: values, backgroundColor: theme.accent }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: axis, y: { ...axis, beginAtZero: true, ticks: { ...axis.ticks, precision: 0 } } } },
  });
}
