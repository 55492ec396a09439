import type {
  UiAuditList,
  UiCompareResult,
  UiExperimentList,
  UiModelList,
  UiRunPage,
  UiScriptRuns,
} from '../../../backend/src/api/v1/contract-ui';
import type { AliasMove } from '../../../backend/src/api/v1/contract-gates';
import { send, type Endpoint } from './http';

export { ApiRequestError } from './http';

/** Serving, jobs and drift are other backend features; their shapes are read defensively (see the views). */
export type Loose = Record<string, unknown>;

/** Typed calls to the backend's HTTP API. One instance per backend connection. */
export class ApiClient {
  constructor(readonly endpoint: Endpoint) {}

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const qs = Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return send(this.endpoint, 'GET', qs ? `${path}?${qs}` : path) as Promise<T>;
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return send(this.endpoint, 'POST', path, body) as Promise<T>;
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return send(this.endpoint, 'PUT', path, body) as Promise<T>;
  }

  health(): Promise<unknown> {
    return send(this.endpoint, 'GET', '/health', undefined, 5000);
  }

  experiments(): Promise<UiExperimentList> {
    return this.get('/api/v1/ui/experiments');
  }

  runs(experimentId: string, offset: number, limit: number): Promise<UiRunPage> {
    return this.get('/api/v1/ui/runs', { experiment_id: experimentId, offset, limit });
  }

  models(): Promise<UiModelList> {
    return this.get('/api/v1/ui/models');
  }

  compare(runIds: readonly string[], metricKeys?: readonly string[]): Promise<UiCompareResult> {
    return this.post('/api/v1/ui/compare', metricKeys ? { run_ids: runIds, metric_keys: metricKeys } : { run_ids: runIds });
  }

  scriptRuns(source: string): Promise<UiScriptRuns> {
    return this.get('/api/v1/ui/script-runs', { source });
  }

  audit(limit = 200): Promise<UiAuditList> {
    return this.get('/api/v1/ui/audit', { limit });
  }

  /**
   * Moves an alias through the backend's promotion gate (@champion). `reason` lands in the audit log's entry for the
   * move; `override` (a failed gate) needs one and is audited as such.
   */
  setAlias(name: string, alias: string, version: string, o: { reason?: string; override?: boolean } = {}): Promise<AliasMove> {
    return this.post(`/api/v1/models/${encodeURIComponent(name)}/aliases`, { alias, version, ...(o.override ? { override: true } : {}), ...(o.reason ? { reason: o.reason } : {}) });
  }

  async registerModel(name: string, source: string, runId: string): Promise<{ model_version: { version: string } }> {
    try {
      await this.post('/api/2.0/mlflow/registered-models/create', { name });
    } catch (e) {
      if ((e as { code?: string }).code !== 'RESOURCE_ALREADY_EXISTS') throw e;
    }
    return this.post('/api/2.0/mlflow/model-versions/create', { name, source, run_id: runId });
  }
}
