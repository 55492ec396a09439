import { Chart, LinearScale, PointElement, ScatterController, Tooltip, type ChartConfiguration } from 'chart.js';
import type { UiTableRun } from '../../../backend/src/api/v1/contract-table';
import { el } from '../shared/dom';
import type { Theme } from '../shared/theme';
import { numberAt, splitColumn } from './model';

Chart.register(ScatterController, PointElement, LinearScale, Tooltip);

/** Lines in the parallel-coordinates plot; more rows are sampled evenly (the scatter takes up to SCATTER_MAX). */
export const PCP_MAX = 2000;
const SCATTER_MAX = 20_000;
const AXES_MAX = 12;

export interface PlotInput {
  runs: readonly UiTableRun[];
  columns: readonly string[];
  /** Numeric columns (axes to choose from). */
  numeric: readonly string[];
  selected: ReadonlySet<string>;
  x: string;
  y: string;
}

const sample = <T>(xs: readonly T[], n: number): T[] => (xs.length <= n ? [...xs] : Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!));

/** Blue (low) to red (high) for the colour axis of the parallel coordinates. */
const ramp = (t: number): string => `hsl(${Math.round(220 - 220 * t)}, 70%, 55%)`;

/**
 * Parallel coordinates on a plain canvas (Chart.js has no such chart): one vertical axis per numeric column,
 * each scaled to its own min–max, one polyline per run coloured by the last axis (a metric, when one is shown).
 * Selected runs are drawn last and thicker, in the theme's accent colour.
 */
export function drawParallel(canvas: HTMLCanvasElement, p: PlotInput, theme: Theme): { axes: number; lines: number } {
  // Inputs (params, at most half the axes) on the left, outcomes (metrics) on the right; lines are coloured by the
  // rightmost axis.
  const inputs = p.numeric.filter((c) => !c.startsWith('metrics.'));
  const outcomes = p.numeric.filter((c) => c.startsWith('metrics.'));
  const shownInputs = inputs.slice(0, Math.max(AXES_MAX / 2, AXES_MAX - outcomes.length));
  const axes = [...shownInputs, ...outcomes.slice(0, AXES_MAX - shownInputs.length)].map((c) => p.columns.indexOf(c));
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 260;
  const dpr = globalThis.devicePixelRatio || 1;
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  const ctx = canvas.getContext('2d');
  if (!ctx || axes.length < 2) return { axes: axes.length, lines: 0 };
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const top = 28;
  const bottom = height - 18;
  const left = 40;
  const step = (width - 2 * left) / (axes.length - 1);
  const range = axes.map((i) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of p.runs) {
      const v = numberAt(r, i);
      if (v === null) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return { lo, hi };
  });
  const yOf = (a: number, v: number) => {
    const { lo, hi } = range[a]!;
    return hi > lo ? bottom - ((v - lo) / (hi - lo)) * (bottom - top) : (top + bottom) / 2;
  };
  const rows = sample(p.runs, PCP_MAX).sort((a, b) => Number(p.selected.has(a.run_id)) - Number(p.selected.has(b.run_id)));
  const last = axes.length - 1;
  let lines = 0;
  for (const r of rows) {
    const on = p.selected.has(r.run_id);
    const c = numberAt(r, axes[last]!);
    const { lo, hi } = range[last]!;
    ctx.strokeStyle = on ? theme.accent : c === null ? theme.muted : ramp(hi > lo ? (c - lo) / (hi - lo) : 0.5);
    ctx.globalAlpha = on || p.selected.size === 0 ? 0.9 : 0.25;
    ctx.lineWidth = on ? 2.5 : 1;
    ctx.beginPath();
    let pen = false;
    axes.forEach((col, a) => {
      const v = numberAt(r, col);
      if (v === null) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(left + a * step, yOf(a, v));
      else ctx.moveTo(left + a * step, yOf(a, v));
      pen = true;
    });
    ctx.stroke();
    lines++;
  }
  ctx.globalAlpha = 1;
  ctx.lineWidth = 1;
  ctx.font = `11px ${theme.font}`;
  ctx.textAlign = 'center';
  axes.forEach((col, a) => {
    const x = left + a * step;
    ctx.strokeStyle = theme.foreground;
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    ctx.fillStyle = theme.foreground;
    ctx.fillText(splitColumn(p.columns[col]!).key, x, 12);
    ctx.fillStyle = theme.muted;
    const { lo, hi } = range[a]!;
    if (Number.isFinite(lo)) {
      ctx.fillText(String(Number(hi.toPrecision(3))), x, top - 4);
      ctx.fillText(String(Number(lo.toPrecision(3))), x, bottom + 12);
    }
  });
  return { axes: axes.length, lines };
}

type Pt = { x: number; y: number; name: string };

/** Param (or metric) against metric, one point per run; selected runs in the accent colour and larger. */
export function scatterConfig(p: PlotInput, theme: Theme): ChartConfiguration<'scatter', Pt[]> {
  const xi = p.columns.indexOf(p.x);
  const yi = p.columns.indexOf(p.y);
  const pts = { on: [] as Pt[], off: [] as Pt[] };
  for (const r of sample(p.runs, SCATTER_MAX)) {
    const x = numberAt(r, xi);
    const y = numberAt(r, yi);
    if (x === null || y === null) continue;
    (p.selected.has(r.run_id) ? pts.on : pts.off).push({ x, y, name: r.name });
  }
  const axis = (title: string) => ({ type: 'linear' as const, title: { display: true, text: title, color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } });
  return {
    type: 'scatter',
    data: {
      datasets: [
        { label: 'runs', data: pts.off, pointRadius: 2.5, backgroundColor: p.selected.size ? theme.muted : theme.accent, borderWidth: 0 },
        { label: 'selected', data: pts.on, pointRadius: 5, backgroundColor: theme.accent, borderColor: theme.foreground, borderWidth: 1 },
      ],
    },
    options: {
      animation: false,
      parsing: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: axis(p.x), y: axis(p.y) },
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `${(c.raw as Pt).name}: (${(c.raw as Pt).x}, ${(c.raw as Pt).y})` } } },
    },
  };
}

/** The plots section: axis pickers, the parallel coordinates canvas and the scatter chart; `draw` redraws both. */
export class Plots {
  readonly root = el('section', { class: 'xt-plots', id: 'plots' });
  readonly xSelect = el('select', { id: 'plot-x', 'aria-label': 'Scatter x axis' });
  readonly ySelect = el('select', { id: 'plot-y', 'aria-label': 'Scatter y axis' });
  private readonly pcp = el('canvas', { id: 'parallel', role: 'img' });
  private readonly scatterCanvas = el('canvas', { id: 'scatter', role: 'img' });
  private readonly caption = el('p', { class: 'muted', id: 'plots-caption' });
  private scatter: Chart<'scatter', Pt[]> | undefined;

  constructor(onAxes: (x: string, y: string) => void) {
    const axes = el('label', {}, 'x ', this.xSelect, ' y ', this.ySelect);
    this.root.append(
      el('h3', {}, 'Plots'),
      this.caption,
      el('div', { class: 'xt-plot-grid' }, el('div', { class: 'xt-plot' }, el('h4', {}, 'Parallel coordinates'), el('div', { class: 'xt-plot-box' }, this.pcp)), el('div', { class: 'xt-plot' }, el('h4', {}, 'Scatter '), axes, el('div', { class: 'xt-plot-box' }, this.scatterCanvas))),
    );
    const changed = () => onAxes(this.xSelect.value, this.ySelect.value);
    this.xSelect.addEventListener('change', changed);
    this.ySelect.addEventListener('change', changed);
  }

  draw(p: PlotInput, theme: Theme): void {
    const fill = (s: HTMLSelectElement, cols: readonly string[], value: string) => {
      s.replaceChildren(...cols.map((c) => el('option', { value: c }, c)));
      s.value = value;
    };
    fill(this.xSelect, p.numeric, p.x);
    fill(this.ySelect, p.numeric.filter((c) => c.startsWith('metrics.')), p.y);
    const shown = p.selected.size ? `${p.selected.size} selected highlighted among ` : '';
    this.caption.textContent = `${shown}${p.runs.length.toLocaleString('en-US')} runs matching the filter${p.runs.length > PCP_MAX ? ` (parallel coordinates: an even sample of ${PCP_MAX.toLocaleString('en-US')})` : ''}.`;
    const pc = drawParallel(this.pcp, p, theme);
    this.pcp.dataset.axes = String(pc.axes);
    this.pcp.dataset.lines = String(pc.lines);
    // The theme the plots were last drawn in (the e2e test waits on it after a theme change).
    this.pcp.dataset.theme = theme.kind;
    this.pcp.setAttribute('aria-label', `Parallel coordinates: ${pc.axes} axes, ${pc.lines} runs`);
    this.scatter?.destroy();
    this.scatter = undefined;
    if (!p.x || !p.y) {
      this.scatterCanvas.dataset.points = '0';
      return;
    }
    const cfg = scatterConfig(p, theme);
    const n = cfg.data.datasets.reduce((s, d) => s + d.data.length, 0);
    this.scatterCanvas.dataset.points = String(n);
    this.scatterCanvas.setAttribute('aria-label', `${p.y} against ${p.x}, ${n} runs`);
    this.scatter = new Chart(this.scatterCanvas, cfg);
  }

  destroy(): void {
    this.scatter?.destroy();
    this.scatter = undefined;
  }
}
