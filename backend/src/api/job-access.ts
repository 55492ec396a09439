import type { FastifyRequest } from 'fastify';
import type { CoreContext } from '../context';
import { artifactPathOf } from '../artifacts/store';
import type { GrantKind, JobScope, JobTokens } from '../services/jobs/tokens';
import { ApiError } from '../util/errors';
import { optStr, runIdOf, type Args } from './mlflow/http';

/**
 * What a job's own token may do: what the mlflow client does for a training script's run (traced from a real
 * client logging params, metrics, artifacts, a model and registering it), and nothing else.
 * - read: the tracking store and the registry (a step may read the runs and models of the steps before it);
 * - write: its run, and runs and logged models it creates in its own experiment (nested runs, log_model);
 * - register: create a registered model, and versions whose source is a run or logged model it owns.
 * Refused with 403: other runs' writes, deleting runs or experiments, experiment changes, registry changes
 * (aliases, stages, tags, deletes, renames), serving, and the whole /api/v1 (jobs, pipelines, audit, lineage).
 */
type Rule = 'read' | 'run' | 'createRun' | 'model' | 'createModel' | 'createRegisteredModel' | 'createVersion';

const MLFLOW: Record<string, Rule> = {
  'GET /experiments/get': 'read',
  'GET /experiments/get-by-name': 'read',
  'GET /experiments/search': 'read',
  'POST /experiments/search': 'read',
  'POST /experiments/search-datasets': 'read',
  'GET /runs/get': 'read',
  'POST /runs/search': 'read',
  'GET /metrics/get-history': 'read',
  'GET /metrics/get-history-bulk-interval': 'read',
  'GET /artifacts/list': 'read',
  'POST /logged-models/search': 'read',
  'GET /logged-models/:model_id': 'read',
  'GET /registered-models/get': 'read',
  'GET /registered-models/search': 'read',
  'GET /registered-models/get-latest-versions': 'read',
  'POST /registered-models/get-latest-versions': 'read',
  'GET /registered-models/alias': 'read',
  'GET /model-versions/get': 'read',
  'GET /model-versions/search': 'read',
  'GET /model-versions/get-download-uri': 'read',
  'POST /runs/create': 'createRun',
  'POST /runs/update': 'run',
  'POST /runs/log-metric': 'run',
  'POST /runs/log-parameter': 'run',
  'POST /runs/set-tag': 'run',
  'POST /runs/delete-tag': 'run',
  'POST /runs/log-batch': 'run',
  'POST /runs/log-inputs': 'run',
  'POST /runs/outputs': 'run',
  'POST /runs/log-model': 'run',
  'POST /logged-models': 'createModel',
  'PATCH /logged-models/:model_id': 'model',
  'PATCH /logged-models/:model_id/tags': 'model',
  'DELETE /logged-models/:model_id/tags/:tag_key': 'model',
  'POST /logged-models/:model_id/params': 'model',
  'POST /registered-models/create': 'createRegisteredModel',
  'POST /model-versions/create': 'createVersion',
};

const API = /^\/(?:ajax-)?api\/2\.0\/(mlflow|mlflow-artifacts)(\/.*)$/;

const denied = (what: string): ApiError => new ApiError('PERMISSION_DENIED', `A job's token may not ${what}`);

/** The run or logged model whose artifact folder holds `path`, when the job owns it. */
function ownedArtifactPath(ctx: CoreContext, tokens: JobTokens, scope: JobScope, path: string): boolean {
  const parts = path.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return false;
  for (let i = 0; i + 1 < parts.length; i++) {
    if (parts[i + 1] !== 'artifacts') continue;
    const id = parts[i]!;
    const kind: GrantKind = parts[i - 1] === 'models' && id.startsWith('m-') ? 'model' : 'run';
    if (!tokens.owns(scope.hash, kind, id)) continue;
    let root: string | null = null;
    try {
      root = artifactPathOf(kind === 'run' ? ctx.tracking.runs.get(id).info.artifact_uri : ctx.tracking.loggedModels.get(id, true).info.artifact_uri);
    } catch {
      return false;
    }
    if (root !== null && (path === root || path.startsWith(`${root.replace(/\/+$/, '')}/`))) return true;
  }
  return false;
}

/** A model version's source must be a run or logged model the job owns (runs:/, models:/m-..., or its artifacts). */
function ownedSource(ctx: CoreContext, tokens: JobTokens, scope: JobScope, source: string): boolean {
  const run = /^runs:\/([^/]+)(\/|$)/.exec(source);
  if (run) return tokens.owns(scope.hash, 'run', run[1]!);
  const model = /^models:\/(m-[^/]+)$/.exec(source);
  if (model) return tokens.owns(scope.hash, 'model', model[1]!);
  const path = artifactPathOf(source);
  return path !== null && ownedArtifactPath(ctx, tokens, scope, path);
}

function mlflowRule(ctx: CoreContext, tokens: JobTokens, scope: JobScope, rule: Rule, a: Args, req: FastifyRequest): void {
  const owns = (kind: GrantKind, id: string | undefined) => id !== undefined && tokens.owns(scope.hash, kind, id);
  switch (rule) {
    case 'read':
    case 'createRegisteredModel':
      return;
    case 'run': {
      const id = runIdOf(a);
      if (!owns('run', id)) throw denied(`write to run ${id}: it belongs to another run than job ${scope.jobId}'s`);
      return;
    }
    case 'createRun':
    case 'createModel': {
      const exp = optStr(a, 'experiment_id') ?? '0';
      if (exp !== scope.experimentId) throw denied(`create runs or models in experiment ${exp}, only in its job's experiment ${scope.experimentId}`);
      const source = optStr(a, 'source_run_id');
      if (rule === 'createModel' && source && !owns('run', source)) throw denied(`log a model for run ${source}`);
      return;
    }
    case 'model': {
      const id = (req.params as { model_id?: string }).model_id;
      if (!owns('model', id)) throw denied(`change logged model ${id ?? ''}: the job did not create it`);
      return;
    }
    case 'createVersion': {
      const runId = optStr(a, 'run_id');
      const modelId = optStr(a, 'model_id');
      const source = optStr(a, 'source') ?? '';
      if ((runId && !owns('run', runId)) || (modelId && !owns('model', modelId)) || !ownedSource(ctx, tokens, scope, source)) {
        throw denied(`register '${source}': a job registers only models from its own run or logged models`);
      }
    }
  }
}

/** Throws PERMISSION_DENIED (403) unless the job's token may make this request. Runs after the body is parsed. */
export function authorizeJob(ctx: CoreContext, tokens: JobTokens, scope: JobScope, req: FastifyRequest): void {
  const route = req.routeOptions.url ?? '';
  const m = API.exec(route);
  if (route === '/health' || route === '/version') return;
  if (!m) throw denied(`call ${req.method} ${route || req.url.split('?', 1)[0]}`);
  if (m[1] === 'mlflow-artifacts') {
    if (req.method === 'GET') return;
    const path = (req.params as { '*'?: string })['*'] ?? '';
    if ((req.method === 'PUT' || req.method === 'POST') && ownedArtifactPath(ctx, tokens, scope, path)) return;
    throw denied(`${req.method === 'DELETE' ? 'delete' : 'write'} artifacts at '${path}': they belong to another run than job ${scope.jobId}'s`);
  }
  const rule = MLFLOW[`${req.method} ${m[2]}`];
  if (!rule) throw denied(`call ${req.method} ${m[2]}`);
  const raw = req.method === 'GET' ? req.query : req.body;
  mlflowRule(ctx, tokens, scope, rule, (raw && typeof raw === 'object' ? raw : {}) as Args, req);
}

/** After a run or logged model was created with a job's token, the job may write to it. */
export function recordCreation(tokens: JobTokens, scope: JobScope, req: FastifyRequest, status: number, payload: unknown): void {
  if (status !== 200 || typeof payload !== 'string' || req.method !== 'POST') return;
  const m = API.exec(req.routeOptions.url ?? '');
  if (!m || m[1] !== 'mlflow' || (m[2] !== '/runs/create' && m[2] !== '/logged-models')) return;
  try {
    const body = JSON.parse(payload) as { run?: { info?: { run_id?: string } }; model?: { info?: { model_id?: string } } };
    const runId = body.run?.info?.run_id;
    const modelId = body.model?.info?.model_id;
    if (runId) tokens.grant(scope.hash, 'run', runId);
    if (modelId) tokens.grant(scope.hash, 'model', modelId);
  } catch {
    // Not JSON: nothing was created.
  }
}
