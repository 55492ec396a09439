import type { UiSeries } from '../../../backend/src/api/v1/contract-ui';

/** What the x axis shows: the step, minutes since the run started, or the wall-clock time a value was logged. */
export type XAxis = 'step' | 'relative' | 'wall';

export interface ChartOptions {
  /** Exponential moving average weight in [0, 1): 0 draws the raw values only. */
  smoothing: number;
  logScale: boolean;
  xAxis: XAxis;
  /** Runs left out of every chart (the legend's toggles). */
  hidden: ReadonlySet<string>;
  /** The run drawn on top, the others faded (legend or chart hover); null: none. */
  highlight: string | null;
}

/**
 * TensorBoard's smoothing: an exponential moving average, debiased at the start (divided by 1 − wⁱ) so the first
 * points are not pulled towards 0. Non-finite values pass through and do not enter the average.
 */
export function smooth(values: readonly number[], weight: number): number[] {
  if (!(weight > 0)) return [...values];
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

/** The x value of each point of a series on the chosen axis (minutes for relative time, epoch ms for wall time). */
export function xValues(s: UiSeries, axis: XAxis, runStart: number): number[] {
  if (axis === 'step' || s.dt.length !== s.steps.length) return s.steps;
  if (axis === 'relative') return s.dt.map((d) => (s.t0 + d - runStart) / 60_000);
  return s.dt.map((d) => s.t0 + d);
}

export const axisTitle = (axis: XAxis): string => (axis === 'step' ? 'step' : axis === 'relative' ? 'minutes since the run started' : 'time logged');

/** A colour at the given opacity: hsl()/hsla() and #rrggbb are understood; anything else is returned unchanged. */
export function withAlpha(color: string, alpha: number): string {
  const hsl = /^hsla?\(([^,]+),\s*([^,]+),\s*([^,)]+)(?:,\s*[^)]+)?\)$/.exec(color);
  if (hsl) return `hsla(${hsl[1]}, ${hsl[2]}, ${hsl[3]}, ${alpha})`;
  const hex = /^#([0-9a-f]{6})$/i.exec(color);
  if (hex) return `#${hex[1]}${Math.round(alpha * 255).toString(16).padStart(2, '0')}`;
  return color;
}
