import { Chart, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import type { Theme } from './theme';
import { seriesColor } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

export interface TimeSeries {
  name: string;
  points: { t: number; v: number }[];
}

/** A time-series line chart (x = epoch ms shown as local time), themed. */
export function timeChart(canvas: HTMLCanvasElement, series: TimeSeries[], theme: Theme, yLabel: string): Chart<'line', { x: number; y: number }[]> {
  const cfg: ChartConfiguration<'line', { x: number; y: number }[]> = {
    type: 'line',
    data: {
      datasets: series.map((s, i) => ({ label: s.name, data: s.points.map((p) => ({ x: p.t, y: p.v })), borderColor: seriesColor(i), backgroundColor: seriesColor(i), pointRadius: 0, borderWidth: 1.5 })),
    },
    options: {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        x: { type: 'linear', ticks: { color: theme.muted, callback: (v) => new Date(Number(v)).toLocaleTimeString() }, grid: { color: theme.grid } },
        y: { type: 'linear', title: { display: true, text: yLabel, color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } },
      },
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
    },
  };
  return new Chart(canvas, cfg);
}
