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
}

export type MonitoringToWebview = { type: 'monitoring/data'; data: MonitoringData } | { type: 'monitoring/error'; message: string };
export type MonitoringToHost = { type: 'monitoring/ready' } | { type: 'monitoring/refresh' };
