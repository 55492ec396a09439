import type { SyncEngine } from './engine';
import { DUPLICATE_OF, type Copies } from './once';
import type * as W from './wire';

/** Tags that mark what this store pushed; pulls and resumed pushes find objects by them. */
export const ORIGIN_STORE = 'mlops.origin.store';
export const ORIGIN_RUN = 'mlops.origin.run_id';
export const ORIGIN_MODEL = 'mlops.origin.model_id';
export const ORIGIN_VERSION = 'mlops.origin.version';

/** A string literal in MLflow's search filter syntax. */
export const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const tag = (tags: W.KV[] | undefined, key: string): string | undefined => tags?.find((t) => t.key === key)?.value;
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The remote runs made from one local run. Runs are only soft-deleted over REST (`mlflow gc` purges them), so a
 * discarded copy stays findable as deleted and marked; it is left out. A run has no creation time of its own
 * (its start time is copied from the local run), so the smallest id is kept.
 */
export function runCopies(e: SyncEngine, expId: string, localId: string): Copies<W.Run> {
  return {
    find: async () => {
      const res = await e.client.searchRuns({ experiment_ids: [expId], filter: `tags.\`${ORIGIN_RUN}\` = ${quote(localId)}`, max_results: 100 });
      return (res.runs ?? []).filter((r) => tag(r.data?.tags, ORIGIN_STORE) === e.storeId && !(tag(r.data?.tags, DUPLICATE_OF) && r.info.lifecycle_stage === 'deleted'));
    },
    id: (r) => r.info.run_id,
    order: (a, b) => byId(a.info.run_id, b.info.run_id),
    marked: (r) => tag(r.data?.tags, DUPLICATE_OF) !== undefined,
    discard: async (r, kept) => {
      // MLflow tags only active runs: a copy someone else deleted is restored long enough to be marked.
      if (r.info.lifecycle_stage === 'deleted') await e.client.restoreRun(r.info.run_id);
      await e.client.setRunTag(r.info.run_id, DUPLICATE_OF, kept.info.run_id);
      await e.client.deleteRun(r.info.run_id);
    },
  };
}

/** The remote logged models made from one local logged model; a deleted one drops out of searches. */
export function loggedModelCopies(e: SyncEngine, expId: string, localId: string): Copies<W.LoggedModel> {
  return {
    find: async () => {
      const res = await e.client.searchLoggedModels([expId], `tags.\`${ORIGIN_MODEL}\` = ${quote(localId)}`);
      return (res.models ?? []).filter((m) => tag(m.info.tags, ORIGIN_STORE) === e.storeId);
    },
    id: (m) => m.info.model_id,
    order: (a, b) => (a.info.creation_timestamp_ms ?? 0) - (b.info.creation_timestamp_ms ?? 0) || byId(a.info.model_id, b.info.model_id),
    marked: (m) => tag(m.info.tags, DUPLICATE_OF) !== undefined,
    discard: async (m, kept) => {
      await e.client.setLoggedModelTags(m.info.model_id, [{ key: DUPLICATE_OF, value: kept.info.model_id }]);
      await e.client.deleteLoggedModel(m.info.model_id);
    },
  };
}

/**
 * The remote versions of `name` made from one local version (`key` is `NAME/V`), as `NAME/REMOTE_V` ids. A
 * deleted version drops out of searches; the oldest (lowest number) is kept.
 */
export function versionCopies(e: SyncEngine, name: string, key: string): Copies<W.ModelVersion> {
  const origin = `${e.storeId}:${key}`;
  return {
    find: async () => (await e.client.searchModelVersions(`name = ${quote(name)} and tags.\`${ORIGIN_VERSION}\` = ${quote(origin)}`)).model_versions ?? [],
    id: (v) => `${v.name}/${v.version}`,
    order: (a, b) => Number(a.version) - Number(b.version),
    marked: (v) => tag(v.tags, DUPLICATE_OF) !== undefined,
    discard: async (v, kept) => {
      await e.client.setModelVersionTag(v.name, v.version, DUPLICATE_OF, kept.version);
      await e.client.deleteModelVersion(v.name, v.version);
    },
  };
}
