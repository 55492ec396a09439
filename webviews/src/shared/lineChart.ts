import { Chart, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import type { Theme } from './theme';
import { seriesColor } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip);

export interface TimeSeries {
  name: string;
  points: { t: number; v: number }[];
}

/** A vertical line at time `t` across the plot, with a short label (incidents on the Monitoring charts). */
export interface TimeMarker {
  t: number;
  label: string;
  color: string;
}

/** x: epoch ms as local time; y: linear with its title; both in the theme's colours. */
export function timeScales(theme: Theme, yLabel: string, beginAtZero = false) {
  return {
    x: { type: 'linear' as const, ticks: { color: theme.muted, callback: (v: string | number) => new Date(Number(v)).toLocaleTimeString() }, grid: { color: theme.grid } },
    y: { type: 'linear' as const, beginAtZero, title: { display: true, text: yLabel, color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } },
  };
}

/** A time-series line chart (x = epoch ms shown as local time), themed; `markers` draw as labelled vertical lines. */
export function timeChart(canvas: HTMLCanvasElement, series: TimeSeries[], theme: Theme, yLabel: string, markers: readonly TimeMarker[] = []): Chart<'line', { x: number; y: number }[]> {
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
      scales: timeScales(theme, yLabel),
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
    },
    plugins: [
      {
        id: 'timeMarkers',
        afterDatasetsDraw(chart) {
          const x = chart.scales.x;
          if (!x || markers.length === 0) return;
          const { ctx, chartArea } = chart;
          ctx.save();
          for (const m of markers) {
            const px = x.getPixelForValue(m.t);
            if (px < chartArea.left || px > chartArea.right) continue;
            ctx.strokeStyle = m.color;
            ctx.setLineDash([4, 3]);
            ctx.beginPath();
            ctx.moveTo(px, chartArea.top);
            ctx.lineTo(px, chartArea.bottom);
            ctx.stroke();
            ctx.fillStyle = m.color;
            ctx.fillText(m.label, px + 3, chartArea.top + 10);
          }
          ctx.restore();
        },
      },
    ],
  };
  return new Chart(canvas, cfg);
}
