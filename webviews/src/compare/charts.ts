import { Chart, Decimation, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartConfiguration, type ChartDataset } from 'chart.js';
import type { UiCompareRun, UiSeries } from '../../../backend/src/api/v1/contract-ui';
import { el } from '../shared/dom';
import type { Theme } from '../shared/theme';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Decimation);

export interface MetricChartData {
  key: string;
  series: UiSeries[];
}

type Point = { x: number; y: number };

/** Chart.js options for many long series: no animation, pre-parsed points, LTTB decimation to ~2 points per pixel. */
export function chartConfig(m: MetricChartData, runs: Map<string, UiCompareRun>, colorOf: (id: string) => string, theme: Theme): ChartConfiguration<'line', Point[]> {
  const datasets: ChartDataset<'line', Point[]>[] = m.series
    .filter((s) => s.steps.length > 0)
    .map((s) => ({
      label: runs.get(s.run_id)?.name ?? s.run_id,
      data: s.steps.map((x, i) => ({ x, y: s.values[i]! })),
      borderColor: colorOf(s.run_id),
      backgroundColor: colorOf(s.run_id),
      borderWidth: 1.25,
      pointRadius: s.steps.length === 1 ? 3 : 0,
      indexAxis: 'x' as const,
    }));
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
        x: { type: 'linear' as const, title: { display: true, text: 'step', color: theme.muted }, ticks: { color: theme.muted }, grid: { color: theme.grid } },
        y: { type: 'linear' as const, ticks: { color: theme.muted }, grid: { color: theme.grid } },
      },
      plugins: {
        legend: { display: false },
        decimation: { enabled: true, algorithm: 'min-max' as const },
        tooltip: { enabled: true },
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

  constructor(
    /** Set by the page when VS Code switches theme; the next render uses it. */
    public theme: Theme,
    private readonly colorOf: (id: string) => string,
  ) {}

  render(metrics: MetricChartData[], runs: UiCompareRun[], onFirstDraw: () => void): void {
    this.destroy();
    this.firstDrawn = onFirstDraw;
    const byId = new Map(runs.map((r) => [r.run_id, r]));
    const cards = metrics.map((m) => {
      const canvas = el('canvas', { 'aria-label': `${m.key} by step, ${m.series.length} runs`, role: 'img' });
      const card = el('section', { class: 'chart-card', 'data-theme': this.theme.kind, 'data-metric': m.key, 'data-series': String(m.series.filter((s) => s.steps.length > 0).length) }, el('h3', {}, m.key), el('div', { class: 'chart-box' }, canvas));
      return { card, canvas, m };
    });
    this.root.append(...cards.map((c) => c.card));
    const build = (c: (typeof cards)[number]) => {
      if (this.charts.has(c.m.key)) return;
      const cfg = chartConfig(c.m, byId, this.colorOf, this.theme);
      const notify = { id: 'firstDraw', afterRender: () => this.drawn() };
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
