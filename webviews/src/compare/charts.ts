import { Chart, Decimation, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip, type ChartConfiguration, type ChartDataset } from 'chart.js';
import type { UiCompareRun, UiSeries } from '../../../backend/src/api/v1/contract-ui';
import { el } from '../shared/dom';
import type { Theme } from '../shared/theme';
import { axisTitle, smooth, withAlpha, xValues, type ChartOptions } from './series';

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip, Decimation);

export interface MetricChartData {
  key: string;
  series: UiSeries[];
}

type Point = { x: number; y: number };
/** A line of one run: the smoothed (or only) line, or the raw values drawn faintly behind it. */
type RunDataset = ChartDataset<'line', Point[]> & { runId: string; raw: boolean };

const DEFAULT_OPTIONS: ChartOptions = { smoothing: 0, logScale: false, xAxis: 'step', hidden: new Set(), highlight: null };

/** Width and colour of a run's line for the current highlight. */
function style(d: RunDataset, color: string, highlight: string | null): void {
  const faded = highlight !== null && highlight !== d.runId;
  const alpha = (d.raw ? 0.25 : 1) * (faded ? 0.15 : 1);
  d.borderColor = withAlpha(color, alpha);
  d.backgroundColor = withAlpha(color, alpha);
  d.borderWidth = highlight === d.runId && !d.raw ? 2.5 : 1.25;
  d.order = highlight === d.runId ? 0 : 1;
}

/** Chart.js options for many long series: no animation, pre-parsed points, LTTB decimation to ~2 points per pixel. */
export function chartConfig(m: MetricChartData, runs: Map<string, UiCompareRun>, colorOf: (id: string) => string, theme: Theme, o: ChartOptions = DEFAULT_OPTIONS): ChartConfiguration<'line', Point[]> {
  const datasets: RunDataset[] = [];
  for (const s of m.series) {
    if (s.steps.length === 0 || o.hidden.has(s.run_id)) continue;
    const run = runs.get(s.run_id);
    const xs = xValues(s, o.xAxis, run?.start_time ?? 0);
    const line = (values: readonly number[], raw: boolean): RunDataset => {
      const d: RunDataset = {
        runId: s.run_id,
        raw,
        label: `${run?.name ?? s.run_id}${raw ? ' (raw)' : ''}`,
        data: xs.map((x, i) => ({ x, y: values[i]! })),
        pointRadius: s.steps.length === 1 ? 3 : 0,
        indexAxis: 'x' as const,
      };
      style(d, colorOf(s.run_id), o.highlight);
      return d;
    };
    if (o.smoothing > 0 && s.steps.length > 1) datasets.push(line(s.values, true), line(smooth(s.values, o.smoothing), false));
    else datasets.push(line(s.values, false));
  }
  const wall = o.xAxis === 'wall';
  return {
    type: 'line',
    data: { datasets },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest' as const, intersect: false },
      scales: {
        x: {
          type: 'linear' as const,
          title: { display: true, text: axisTitle(o.xAxis), color: theme.muted },
          ticks: { color: theme.muted, ...(wall ? { callback: (v: string | number) => new Date(Number(v)).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) } : {}) },
          grid: { color: theme.grid },
        },
        // A log scale leaves out values ≤ 0 (Chart.js cannot place them).
        y: { type: o.logScale ? ('logarithmic' as const) : ('linear' as const), ticks: { color: theme.muted }, grid: { color: theme.grid } },
      },
      plugins: {
        legend: { display: false },
        decimation: { enabled: true, algorithm: 'min-max' as const },
        tooltip: { enabled: true, filter: (item) => !(item.dataset as RunDataset).raw },
      },
    },
  };
}

/**
 * One card per metric. Charts are built only when their card scrolls into view (IntersectionObserver) and
 * destroyed when far away, so 200 metrics × 100 runs stay cheap. Without an observer (tests), all are built.
 */
export class ChartGrid {
  readonly root = el('div', { class: 'charts' });
  private charts = new Map<string, Chart<'line', Point[]>>();
  private observer: IntersectionObserver | undefined;
  private firstDrawn: (() => void) | undefined;

  private options: ChartOptions = DEFAULT_OPTIONS;

  constructor(
    /** Set by the page when VS Code switches theme; the next render uses it. */
    public theme: Theme,
    private readonly colorOf: (id: string) => string,
    /** Hovering a line highlights its run everywhere (the legend does the same). */
    private readonly onHoverRun: (runId: string | null) => void = () => undefined,
  ) {}

  render(metrics: MetricChartData[], runs: UiCompareRun[], onFirstDraw: () => void, options: ChartOptions = DEFAULT_OPTIONS): void {
    this.destroy();
    this.options = options;
    this.firstDrawn = onFirstDraw;
    const byId = new Map(runs.map((r) => [r.run_id, r]));
    const cards = metrics.map((m) => {
      const drawn = m.series.filter((s) => s.steps.length > 0);
      const canvas = el('canvas', { 'aria-label': `${m.key} by ${axisTitle(options.xAxis)}, ${drawn.length} runs`, role: 'img' });
      const card = el(
        'section',
        {
          class: 'chart-card',
          'data-theme': this.theme.kind,
          'data-metric': m.key,
          'data-series': String(drawn.length),
          'data-visible': String(drawn.filter((s) => !options.hidden.has(s.run_id)).length),
          'data-scale': options.logScale ? 'logarithmic' : 'linear',
          'data-x': options.xAxis,
          'data-smoothing': String(options.smoothing),
        },
        el('h3', {}, m.key),
        el('div', { class: 'chart-box' }, canvas),
      );
      return { card, canvas, m };
    });
    this.root.append(...cards.map((c) => c.card));
    const build = (c: (typeof cards)[number]) => {
      if (this.charts.has(c.m.key)) return;
      const cfg = chartConfig(c.m, byId, this.colorOf, this.theme, this.options);
      const notify = { id: 'firstDraw', afterRender: () => this.drawn() };
      cfg.options!.onHover = (_e, active, chart) => {
        const d = active[0] ? (chart.data.datasets[active[0].datasetIndex] as RunDataset | undefined) : undefined;
        this.onHoverRun(d?.runId ?? null);
      };
      this.charts.set(c.m.key, new Chart<'line', Point[]>(c.canvas, { ...cfg, plugins: [notify] }));
    };
    if (typeof IntersectionObserver === 'undefined') {
      cards.forEach(build);
      return;
    }
    const byCard = new Map(cards.map((c) => [c.card as Element, c]));
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const c = byCard.get(e.target);
          if (!c) continue;
          if (e.isIntersecting) build(c);
          else {
            this.charts.get(c.m.key)?.destroy();
            this.charts.delete(c.m.key);
          }
        }
      },
      { rootMargin: '600px 0px' },
    );
    for (const c of cards) this.observer.observe(c.card);
  }

  private drawn(): void {
    const f = this.firstDrawn;
    this.firstDrawn = undefined;
    f?.();
  }

  /** Restyles the lines of the charts built now (no rebuild): the run drawn on top, the others faded. */
  highlight(runId: string | null): void {
    if (this.options.highlight === runId) return;
    this.options = { ...this.options, highlight: runId };
    for (const c of this.charts.values()) {
      for (const d of c.data.datasets as RunDataset[]) style(d, this.colorOf(d.runId), runId);
      c.update('none');
    }
    for (const card of this.root.querySelectorAll('section.chart-card')) card.setAttribute('data-highlight', runId ?? '');
  }

  get built(): number {
    return this.charts.size;
  }

  destroy(): void {
    this.observer?.disconnect();
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
    this.root.replaceChildren();
  }
}
