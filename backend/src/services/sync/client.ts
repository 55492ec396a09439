import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { HttpClient, type Body, type HttpResponse, type RetryHooks, type RetryPolicy } from './http';
import type * as W from './wire';

/** An MLflow error answer from the remote: `{error_code, message}` with its HTTP status. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const isMissing = (e: unknown): boolean => e instanceof RemoteError && e.code === 'RESOURCE_DOES_NOT_EXIST';
export const isTaken = (e: unknown): boolean =>
  e instanceof RemoteError && (e.code === 'RESOURCE_ALREADY_EXISTS' || e.code === 'ALREADY_EXISTS');

const API = 'api/2.0/mlflow';
const ARTIFACTS = 'api/2.0/mlflow-artifacts/artifacts';

/** Encodes every segment of an artifact path for use in a URL path. */
const encPath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.append(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Typed calls to a remote MLflow server's REST API (tracking, logged models, registry, proxied artifacts). */
export class MlflowRemote {
  readonly http: HttpClient;
  constructor(
    readonly url: string,
    headers: Record<string, string>,
    retry?: RetryPolicy,
  ) {
    this.http = new HttpClient(url, { 'User-Agent': 'mlops-studio-sync', ...headers }, retry);
  }

  close(): void {
    this.http.close();
  }

  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, hooks?: RetryHooks): Promise<T> {
    const spec = method === 'GET' ? { method, path: `${API}/${path}${query((body ?? {}) as Record<string, string>)}` } : { method, path: `${API}/${path}`, body: { json: body ?? {} } };
    const res = await this.http.request(spec, hooks);
    return parse<T>(res, `${method} ${path}`);
  }

  // ----- server -----
  async version(): Promise<string> {
    const res = await this.http.request({ method: 'GET', path: 'version' });
    if (res.status === 401 || res.status === 403) throw authError(res);
    if (res.status !== 200) return '';
    return res.body.toString('utf8').trim();
  }

  // ----- experiments -----
  async getExperimentByName(name: string): Promise<W.Experiment | null> {
    try {
      return (await this.call<{ experiment: W.Experiment }>('GET', 'experiments/get-by-name', { experiment_name: name })).experiment;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }
  async getExperiment(id: string): Promise<W.Experiment> {
    return (await this.call<{ experiment: W.Experiment }>('GET', 'experiments/get', { experiment_id: id })).experiment;
  }
  async createExperiment(name: string, tags: W.KV[]): Promise<string> {
    return (await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name, tags })).experiment_id;
  }

  // ----- runs -----
  async createRun(req: { experiment_id: string; user_id: string; run_name: string; start_time: number; tags: W.KV[] }, hooks?: RetryHooks): Promise<W.Run> {
    return (await this.call<{ run: W.Run }>('POST', 'runs/create', req, hooks)).run;
  }
  async getRun(runId: string): Promise<W.Run> {
    return (await this.call<{ run: W.Run }>('GET', 'runs/get', { run_id: runId })).run;
  }
  async searchRuns(req: { experiment_ids: string[]; filter: string; run_view_type?: string; max_results?: number; page_token?: string }): Promise<{ runs?: W.Run[]; next_page_token?: string }> {
    return this.call('POST', 'runs/search', { run_view_type: 'ALL', max_results: 1000, ...req });
  }
  async logBatch(runId: string, metrics: W.Metric[], params: W.KV[], tags: W.KV[]): Promise<void> {
    await this.call('POST', 'runs/log-batch', { run_id: runId, metrics, params, tags });
  }
  async logInputs(runId: string, datasets: W.DatasetInput[]): Promise<void> {
    await this.call('POST', 'runs/log-inputs', { run_id: runId, datasets });
  }
  async logOutputs(runId: string, models: { model_id: string; step: number }[]): Promise<void> {
    await this.call('POST', 'runs/outputs', { run_id: runId, models });
  }
  async updateRun(runId: string, status: string, endTime: number | null): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, ...(endTime ? { end_time: endTime } : {}) });
  }
  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/delete', { run_id: runId });
  }
  async restoreRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/restore', { run_id: runId });
  }
  async setRunTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'runs/set-tag', { run_id: runId, key, value });
  }
  async metricHistoryPage(runId: string, key: string, pageToken?: string): Promise<{ metrics?: W.Metric[]; next_page_token?: string }> {
    return this.call('GET', 'metrics/get-history', { run_id: runId, metric_key: key, max_results: 25000, page_token: pageToken });
  }

  // ----- logged models (MLflow 3) -----
  async createLoggedModel(req: { experiment_id: string; name: string; model_type?: string; source_run_id?: string; params: W.KV[]; tags: W.KV[] }, hooks?: RetryHooks): Promise<W.LoggedModel> {
    return (await this.call<{ model: W.LoggedModel }>('POST', 'logged-models', req, hooks)).model;
  }
  async getLoggedModel(id: string): Promise<W.LoggedModel> {
    return (await this.call<{ model: W.LoggedModel }>('GET', `logged-models/${encodeURIComponent(id)}`)).model;
  }
  async finalizeLoggedModel(id: string, status: string): Promise<void> {
    await this.call('PATCH', `logged-models/${encodeURIComponent(id)}`, { model_id: id, status });
  }
  async searchLoggedModels(experimentIds: string[], filter: string, pageToken?: string): Promise<{ models?: W.LoggedModel[]; next_page_token?: string }> {
    return this.call('POST', 'logged-models/search', { experiment_ids: experimentIds, filter, max_results: 100, page_token: pageToken });
  }
  async setLoggedModelTags(id: string, tags: W.KV[]): Promise<void> {
    await this.call('PATCH', `logged-models/${encodeURIComponent(id)}/tags`, { model_id: id, tags });
  }
  async deleteLoggedModel(id: string): Promise<void> {
    await this.call('DELETE', `logged-models/${encodeURIComponent(id)}`);
  }
  async logLoggedModelParams(id: string, params: W.KV[]): Promise<void> {
    await this.call('POST', `logged-models/${encodeURIComponent(id)}/params`, { model_id: id, params });
  }

  // ----- registry -----
  async getRegisteredModel(name: string): Promise<W.RegisteredModel | null> {
    try {
      return (await this.call<{ registered_model: W.RegisteredModel }>('GET', 'registered-models/get', { name })).registered_model;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }
  async createRegisteredModel(req: { name: string; description?: string; tags: W.KV[] }): Promise<void> {
    await this.call('POST', 'registered-models/create', req);
  }
  async searchRegisteredModels(pageToken?: string): Promise<{ registered_models?: W.RegisteredModel[]; next_page_token?: string }> {
    return this.call('GET', 'registered-models/search', { max_results: 1000, page_token: pageToken });
  }
  async searchModelVersions(filter: string, pageToken?: string): Promise<{ model_versions?: W.ModelVersion[]; next_page_token?: string }> {
    return this.call('GET', 'model-versions/search', { filter, max_results: 10000, page_token: pageToken });
  }
  async createModelVersion(req: { name: string; source: string; run_id?: string; model_id?: string; description?: string; tags: W.KV[] }, hooks?: RetryHooks): Promise<W.ModelVersion> {
    return (await this.call<{ model_version: W.ModelVersion }>('POST', 'model-versions/create', req, hooks)).model_version;
  }
  async getModelVersion(name: string, version: string): Promise<W.ModelVersion | null> {
    try {
      return (await this.call<{ model_version: W.ModelVersion }>('GET', 'model-versions/get', { name, version })).model_version;
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }
  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'model-versions/set-tag', { name, version, key, value });
  }
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.call('DELETE', 'model-versions/delete', { name, version });
  }
  async downloadUri(name: string, version: string): Promise<string> {
    return (await this.call<{ artifact_uri: string }>('GET', 'model-versions/get-download-uri', { name, version })).artifact_uri;
  }
  async transitionStage(name: string, version: string, stage: string): Promise<void> {
    await this.call('POST', 'model-versions/transition-stage', { name, version, stage, archive_existing_versions: false });
  }
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', 'registered-models/alias', { name, alias, version });
  }

  // ----- proxied artifacts -----
  async putArtifact(path: string, body: { stream: () => Readable; length: number }): Promise<void> {
    const b: Body = { stream: body.stream, length: body.length };
    const res = await this.http.request({ method: 'PUT', path: `${ARTIFACTS}/${encPath(path)}`, body: b });
    if (res.status < 200 || res.status >= 300) throw errorOf(res, `upload of ${path}`);
  }
  async listArtifacts(path: string): Promise<W.FileInfo[]> {
    const res = await this.http.request({ method: 'GET', path: `${ARTIFACTS}${query({ path })}` });
    return (parse<{ files?: W.FileInfo[] }>(res, `list ${path}`).files ?? []);
  }
  async downloadArtifact(path: string, sink: (res: IncomingMessage) => Promise<void>): Promise<void> {
    const res = await this.http.request({ method: 'GET', path: `${ARTIFACTS}/${encPath(path)}`, sink });
    if (res.status !== 200) throw errorOf(res, `download of ${path}`);
  }
}

function authError(res: HttpResponse): RemoteError {
  return new RemoteError(
    res.status === 401 ? 'UNAUTHENTICATED' : 'PERMISSION_DENIED',
    res.status,
    res.status === 401
      ? 'the remote rejected our credentials (HTTP 401): check the token or password environment variable of this remote'
      : 'the remote refused access (HTTP 403): these credentials lack permission',
  );
}

function errorOf(res: HttpResponse, what: string): RemoteError {
  if (res.status === 401 || res.status === 403) return authError(res);
  const text = res.body.toString('utf8');
  try {
    const j = JSON.parse(text) as { error_code?: string; message?: string };
    if (j.error_code) return new RemoteError(j.error_code, res.status, j.message ?? j.error_code);
  } catch {
    // Not JSON: fall through to a status-based error, as MLflow's client does.
  }
  const code = res.status === 404 ? 'ENDPOINT_NOT_FOUND' : res.status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  return new RemoteError(code, res.status, `${what}: HTTP ${res.status} ${text.slice(0, 200)}`.trim());
}

function parse<T>(res: HttpResponse, what: string): T {
  if (res.status !== 200) throw errorOf(res, what);
  if (res.body.length === 0) return {} as T;
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    throw new RemoteError('BAD_RESPONSE', res.status, `${what}: the remote answered 200 with a body that is not JSON; is this URL an MLflow server?`);
  }
}
