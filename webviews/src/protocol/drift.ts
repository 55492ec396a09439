/** The Drift Report webview's messages. The report is the backend's GET /api/v1/endpoints/{name}/drift answer. */
import type { DriftSeverity, EndpointDrift, FeatureDriftView, VariantDrift } from '../../../backend/src/api/v1/contract';

export type Severity = DriftSeverity;
export type DriftEndpoint = EndpointDrift;
export type DriftFeature = FeatureDriftView;
export type { VariantDrift };

export type DriftToWebview = { type: 'drift/data'; report: DriftEndpoint } | { type: 'drift/error'; message: string };
export type DriftToHost = { type: 'drift/ready' } | { type: 'drift/refresh' } | { type: 'drift/check' };
