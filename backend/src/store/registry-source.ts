import type { Db } from './db';
import { invalid, notFound } from '../util/errors';

/**
 * Where a model version's files are, from its `source`, as the reference server resolves it:
 * `models:/<model_id>` → the logged model's artifact location (and its source run); `models:/NAME/V` → that
 * version's location; `runs:/<run>/<path>` → the run's artifact URI + path; `mlflow-artifacts:` and remote URIs
 * as they are. Local paths and `..` are refused: files must come through the artifact store.
 */
export function resolveSource(db: Db, source: string, runId?: string, modelId?: string): { storageLocation: string; runId?: string; modelId?: string } {
  if (/(^|\/)\.\.(\/|$)/.test(source)) throw invalid(`Invalid model version source '${source}': '..' is not allowed`);
  if (source.startsWith('file:') || source.startsWith('/') || /^[A-Za-z]:[\\/]/.test(source)) {
    throw invalid(`Invalid model version source '${source}': local paths are not allowed; log the model as a run artifact first`);
  }
  const lm = /^models:\/(m-[0-9a-f]+)\/?$/.exec(source);
  if (lm || modelId) {
    const id = lm ? lm[1]! : modelId!;
    const row = db.prepare('SELECT artifact_location, source_run_id FROM logged_models WHERE model_id = ?').get(id) as { artifact_location: string; source_run_id: string | null } | undefined;
    if (!row) throw notFound(`Logged model with ID '${id}' not found`);
    const out: { storageLocation: string; runId?: string; modelId?: string } = { storageLocation: lm ? row.artifact_location : source, modelId: id };
    const rid = runId || row.source_run_id;
    if (rid) out.runId = rid;
    return out;
  }
  const mv = /^models:\/([^/]+)\/(\d+)$/.exec(source);
  if (mv) {
    const row = db.prepare('SELECT storage_location, source, run_id FROM model_versions WHERE name = ? AND version = ?').get(mv[1], Number(mv[2])) as
      | { storage_location: string | null; source: string; run_id: string | null }
      | undefined;
    if (!row) throw notFound(`Model Version (name=${mv[1]}, version=${mv[2]}) not found`);
    const out: { storageLocation: string; runId?: string } = { storageLocation: row.storage_location ?? row.source };
    if (runId || row.run_id) out.runId = runId || row.run_id!;
    return out;
  }
  const rs = /^runs:\/([^/]+)\/?(.*)$/.exec(source);
  if (rs) {
    const row = db.prepare('SELECT artifact_uri FROM runs WHERE run_uuid = ?').get(rs[1]) as { artifact_uri: string } | undefined;
    if (!row) throw notFound(`Run with id=${rs[1]} not found`);
    return { storageLocation: rs[2] ? `${row.artifact_uri}/${rs[2]}` : row.artifact_uri, runId: runId || rs[1]! };
  }
  return runId ? { storageLocation: source, runId } : { storageLocation: source };
}
