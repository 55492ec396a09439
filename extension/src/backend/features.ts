import type { EndpointView } from '../../../backend/src/services/serving/endpoint';
import type { LoggedPrediction } from '../../../backend/src/services/serving/repository';
import type { DriftHistory, PipelineRunView } from '../../../backend/src/api/v1/contract';
import type { IncidentView, MonitorResultView, MonitorView } from '../../../backend/src/api/v1/contract-monitors';
import type { DriftBins, DriftEndpoint, DriftPageData, DriftTimeline } from '../../../webviews/src/protocol/drift';
import type { MonitoringData } from '../../../webviews/src/protocol/monitoring';
import type { JobItem } from '../jobs/model';
import type { ApiClient } from './client';

/**
 * Calls into backend features other teams own (serving, jobs, drift). Their routes may be missing from a given
 * backend; a 404 ENDPOINT_NOT_FOUND then becomes ApiRequestError.notAvailable, which the UI reports plainly.
 * Lists are accepted bare or wrapped ({endpoints: [...]}) so small contract changes do not blank a view.
 */
function list<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const v = (body as Record<string, unknown> | null)?.[key];
  return Array.isArray(v) ? (v as T[]) : [];
}

export const enc = encodeURIComponent;

export async function endpoints(c: ApiClient): Promise<EndpointView[]> {
  return list<EndpointView>(await c.get('/endpoints'), 'endpoints');
}

/** `name/version` of every version an endpoint routes traffic to (or mirrors it to). */
export async function deployedVersions(c: ApiClient): Promise<Set<string>> {
  const eps = await endpoints(c);
  return new Set(eps.flatMap((e) => e.variants.filter((v) => v.role !== 'previous').map((v) => `${v.model_name}/${v.model_version}`)));
}

export interface DeployBody {
  model: string;
  strategy: 'replace' | 'ab' | 'canary' | 'shadow';
  weight?: number;
}

export function deploy(c: ApiClient, endpoint: string, body: DeployBody): Promise<EndpointView> {
  return c.post(`/endpoints/${enc(endpoint)}/deploy`, body);
}

export function rollBack(c: ApiClient, endpoint: string, reason: string): Promise<EndpointView> {
  return c.post(`/endpoints/${enc(endpoint)}/rollback`, { reason });
}

/** Sets the live variants' traffic shares (variant id → percent, summing to 100); stops a canary ramp where it is. */
export function setWeights(c: ApiClient, endpoint: string, weights: Record<string, number>): Promise<EndpointView> {
  return c.put(`/endpoints/${enc(endpoint)}/weights`, { weights });
}

/** Makes the endpoint's candidate the stable variant at 100 %. */
/** Promotes `variant`; the backend refuses (409) when it is not the endpoint's candidate or shadow. */
export function promoteCandidate(c: ApiClient, endpoint: string, variant: string): Promise<EndpointView> {
  return c.post(`/endpoints/${enc(endpoint)}/promote`, { variant });
}

/** The stats engine's A/B analysis of the endpoint's live arms since the current split, against the weights set. */
export async function abResults(c: ApiClient, endpoint: string): Promise<unknown> {
  return c.get(`/api/v1/ui/endpoints/${enc(endpoint)}/ab`);
}

/** The endpoint's recent logged predictions (the monitoring charts are computed from them). */
export async function predictions(c: ApiClient, endpoint: string, limit = 10_000): Promise<LoggedPrediction[]> {
  return list<LoggedPrediction>(await c.get(`/endpoints/${enc(endpoint)}/predictions`, { limit }), 'predictions');
}

/** Every endpoint's drift (its live variants' served inputs against their reference profiles). */
export async function drift(c: ApiClient): Promise<DriftEndpoint[]> {
  return list<DriftEndpoint>(await c.get('/api/v1/drift'), 'endpoints');
}

/** One endpoint's drift, computed now over its newest logged rows. */
export function driftCheck(c: ApiClient, endpoint: string): Promise<DriftEndpoint> {
  return c.get(`/api/v1/endpoints/${enc(endpoint)}/drift`);
}

/**
 * The drift report page: the report, its histograms (same window) and the monitor's stored checks. The charts are
 * optional: without them (no monitor yet, an older backend) the tables still show.
 */
export async function driftPage(c: ApiClient, endpoint: string): Promise<DriftPageData> {
  const report = await driftCheck(c, endpoint);
  const [bins, timeline] = await Promise.all([
    c.get<DriftBins>(`/api/v1/endpoints/${enc(endpoint)}/drift/bins`, { window: report.window }).catch(() => null),
    c.get<DriftTimeline>(`/api/v1/endpoints/${enc(endpoint)}/drift/timeline`).catch(() => null),
  ]);
  return { report, bins, timeline };
}

/** The Monitoring heatmap: PSI per feature and minute over the last 30 minutes (vs the reference profile); null when nothing has a score. */
export async function driftHeatmap(c: ApiClient, endpoint: string): Promise<MonitoringData['heatmap']> {
  const h = await c.get<DriftHistory>(`/api/v1/endpoints/${enc(endpoint)}/drift/history`, { bucket_s: 60, buckets: 30 }).catch(() => null);
  if (!h || h.features.length === 0) return null;
  // Columns start at the first minute with a score: a quiet half hour before it would push the data off screen.
  const first = h.buckets.findIndex((_, b) => h.scores.some((row) => row[b] !== null));
  if (first < 0) return null;
  return { features: h.features, buckets: h.buckets.slice(first), scores: h.scores.map((row) => row.slice(first)) };
}

export async function jobs(c: ApiClient): Promise<JobItem[]> {
  return list<JobItem>(await c.get('/api/v1/jobs', { limit: 200 }), 'jobs');
}

/** Pipeline runs with their steps; a backend without pipelines has none. */
export async function pipelineRuns(c: ApiClient): Promise<PipelineRunView[]> {
  return list<PipelineRunView>(await c.get('/api/v1/pipelines/runs'), 'runs');
}

export interface LaunchBody {
  command: string[];
  cwd: string;
  launcher: 'local' | 'docker';
  experiment?: string;
  image?: string;
  env?: Record<string, string>;
}

export function launchJob(c: ApiClient, body: LaunchBody): Promise<JobItem> {
  return c.post('/api/v1/jobs', body);
}

export function runPipeline(c: ApiClient, file: string): Promise<{ pipeline_run_id?: string }> {
  return c.post('/api/v1/pipelines/runs', { file });
}

export function cancelJob(c: ApiClient, jobId: string): Promise<unknown> {
  return c.post(`/api/v1/jobs/${enc(jobId)}/cancel`, {});
}

/** Monitors of every endpoint (created at each endpoint's first deploy). */
export async function monitors(c: ApiClient): Promise<MonitorView[]> {
  return list<MonitorView>(await c.get('/api/v1/monitors'), 'monitors');
}

export async function incidents(c: ApiClient, status: 'unresolved' | 'all' = 'unresolved', endpoint?: string): Promise<IncidentView[]> {
  return list<IncidentView>(await c.get('/api/v1/incidents', { status, endpoint }), 'incidents');
}

export function incident(c: ApiClient, id: number): Promise<IncidentView> {
  return c.get(`/api/v1/incidents/${id}`);
}

export function monitorResult(c: ApiClient, id: number): Promise<MonitorResultView> {
  return c.get(`/api/v1/monitors/results/${id}`);
}

export function settleIncident(c: ApiClient, id: number, action: 'acknowledge' | 'resolve', reason: string): Promise<IncidentView> {
  return c.post(`/api/v1/incidents/${id}/${action}`, { reason });
}

export function runMonitor(c: ApiClient, endpoint: string, kind: string): Promise<{ result: MonitorResultView; incident: IncidentView | null }> {
  return c.post(`/api/v1/monitors/${enc(endpoint)}/${enc(kind)}/run`);
}
