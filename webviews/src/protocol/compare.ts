import type { UiCompareRun, UiSeries } from '../../../backend/src/api/v1/contract-ui';

/** The Run Comparison webview's messages (webviews/src/compare ↔ extension/src/compare/panel.ts). */
export interface CompareData {
  runs: UiCompareRun[];
  metrics: { key: string; series: UiSeries[] }[];
  /** Run ids that no longer exist (deleted while shown). */
  missing: string[];
}

export type CompareToWebview =
  | { type: 'compare/loading'; runCount: number }
  | { type: 'compare/data'; data: CompareData }
  | { type: 'compare/error'; message: string };

export type CompareToHost =
  /** Sent once the script runs; the host waits for it before posting anything. */
  | { type: 'compare/ready' }
  | { type: 'compare/openRun'; runId: string }
  | { type: 'compare/refresh' }
  /** After the first chart is drawn: milliseconds since the data arrived (the benchmark reads it). */
  | { type: 'compare/rendered'; ms: number; charts: number; series: number };

/** What the webview keeps across hide/show (the user's choices, never the data). */
export interface CompareState {
  showUnchanged: boolean;
  filter: string;
  /** Runs left out of the charts (the legend). */
  hidden: string[];
  /** Chart smoothing (exponential moving average weight, 0 to 0.99). */
  smoothing: number;
  logScale: boolean;
  xAxis: 'step' | 'relative' | 'wall';
}
