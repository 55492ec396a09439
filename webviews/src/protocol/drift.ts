/** The Drift Report webview's messages. The report is the backend's GET /api/v1/endpoints/{name}/drift answer. */
import type { DriftSeverity, EndpointDrift, FeatureDriftView, VariantDrift } from '../../../backend/src/api/v1/contract';
import type { CategoryBins, DriftBins, DriftTimeline, NumericBins } from '../../../backend/src/api/v1/contract-drift';

export type Severity = DriftSeverity;
export type DriftEndpoint = EndpointDrift;
export type DriftFeature = FeatureDriftView;
export type { CategoryBins, DriftBins, DriftTimeline, NumericBins, VariantDrift };

export interface DriftPageData {
  report: DriftEndpoint;
  /** …/drift/bins for the same window; null when the backend could not give it (the tables still show). */
  bins: DriftBins | null;
  /** …/drift/timeline: the data-drift monitor's stored checks; null when the endpoint has no monitor. */
  timeline: DriftTimeline | null;
}

export type DriftToWebview = { type: 'drift/data'; data: DriftPageData } | { type: 'drift/error'; message: string };
export type DriftToHost =
  | { type: 'drift/ready' }
  | { type: 'drift/refresh' }
  | { type: 'drift/check' }
  /** After the charts are drawn (and again after a theme change redrew them). */
  | { type: 'drift/rendered'; charts: number; theme: string };
