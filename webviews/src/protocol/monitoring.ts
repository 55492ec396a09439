/** The Monitoring webview's messages: time series per endpoint, and a drift heatmap (feature × time bucket). */
export interface Series {
  name: string;
  points: { t: number; v: number }[];
}

export interface MonitoringData {
  endpoint: string;
  volume: Series[];
  latencyP99: Series[];
  accuracy: Series[];
  heatmap: { features: string[]; buckets: number[]; scores: (number | null)[][] } | null;
  /** The endpoint's incidents (newest first): a marker on every chart at its opening, and a list. */
  incidents?: { id: number; kind: string; severity: string; status: string; opened_at: number; resolved_at: number | null; summary: string }[];
  /** How often the open panel asks for fresh data (default MONITORING_REFRESH_MS). */
  refresh_ms?: number;
}

/** The panel asks for fresh data this often while it is open. */
export const MONITORING_REFRESH_MS = 30_000;

export type MonitoringToWebview = { type: 'monitoring/data'; data: MonitoringData } | { type: 'monitoring/error'; message: string };
export type MonitoringToHost = { type: 'monitoring/ready' } | { type: 'monitoring/refresh' };
