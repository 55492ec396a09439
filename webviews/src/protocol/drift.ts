/** The Drift Report webview's messages, and the drift result shape the Drift tree shares. */
export type Severity = 'none' | 'low' | 'medium' | 'high';

/** One feature's latest drift result on an endpoint. */
export interface DriftFeature {
  feature: string;
  /** The statistic's name (psi, ks, js…) and value. */
  test: string;
  score: number;
  p_value?: number | null;
  severity: Severity;
}

export interface DriftEndpoint {
  endpoint: string;
  checked_at: number | null;
  features: DriftFeature[];
}

export type DriftToWebview = { type: 'drift/data'; report: DriftEndpoint } | { type: 'drift/error'; message: string };
export type DriftToHost = { type: 'drift/ready' } | { type: 'drift/refresh' } | { type: 'drift/check' };
