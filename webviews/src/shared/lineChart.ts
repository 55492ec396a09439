import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration } from 'chart.js';
import type { Theme } from './theme';
import { seriesColor } from './theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend);

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

/** x: epoch ms as local time (within [min, max] when given); y: linear with its title; both in the theme's colours. */
export function timeScales(theme: Theme, yLabel: string, beginAtZero = false, range: { min?: number; max?: number } = {}) {
  return {
    x: { type: 'linear' as const, ...range, ticks: { color: theme.muted, callback: (v: string | number) => new Date(Number(v)).toLocaleTimeString() }, grid: { color: theme.grid } },
    y: { type: 'linear' as const, beginAtZero, title: { display: true, text: yLabel, color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } },
  };
}

export interface TimeChartOptions {
  markers?: readonly TimeMarker[];
  /** Points further apart than this (ms) are not joined: the line breaks where there was no data. */
  gapMs?: number;
  /** The x axis' range (epoch ms). */
  min?: number;
  max?: number;
  /** A legend naming each series (by default when there are two or more). */
  legend?: boolean;
}

/** The points as Chart.js draws them, with a null between two points more than `gapMs` apart (a break in the line). */
export function withGaps(points: readonly { t: number; v: number }[], gapMs: number | undefined): { x: number; y: number | null }[] {
  const out: { x: number; y: number | null }[] = [];
  points.forEach((p, i) => {
    const prev = points[i - 1];
    if (gapMs !== undefined && prev && p.t - prev.t > gapMs) out.push({ x: (prev.t + p.t) / 2, y: null });
    out.push({ x: p.t, y: p.v });
  });
  return out;
}

/** A time-series line chart (x = epoch ms shown as local time), themed; `markers` draw as labelled vertical lines. */
export function timeChart(canvas: HTMLCanvasElement, series: TimeSeries[], theme: Theme, yLabel: string, o: TimeChartOptions = {}): Chart<'line', { x: number; y: number | null }[]> {
  const markers = o.markers ?? [];
  // One moment only (one minute of traffic): five minutes either side, not Chart.js's default of ±1 day of ms.
  const times = new Set(series.flatMap((x) => x.points.map((p) => p.t)));
  if (times.size === 1 && o.min === undefined && o.max === undefined) {
    const t = [...times][0]!;
    o = { ...o, min: t - 300_000, max: t + 300_000 };
  }
  const cfg: ChartConfiguration<'line', { x: number; y: number | null }[]> = {
    type: 'line',
    data: {
      datasets: series.map((s, i) => ({ label: s.name, data: withGaps(s.points, o.gapMs), spanGaps: false, borderColor: seriesColor(i), backgroundColor: seriesColor(i), pointRadius: s.points.length === 1 ? 3 : 0, borderWidth: 1.5 })),
    },
    options: {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: timeScales(theme, yLabel, false, { ...(o.min !== undefined ? { min: o.min } : {}), ...(o.max !== undefined ? { max: o.max } : {}) }),
      plugins: { legend: { display: o.legend ?? series.length > 1, labels: { color: theme.foreground, boxWidth: 12 } }, tooltip: { enabled: true } },
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
