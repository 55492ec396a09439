import { artifactPathOf } from '../../artifacts/store';
import type { Actor } from '../../store/registry';
import type { KV, Lineage, Metric } from '../../store/types';
import { downloadTree, remoteArtifactPath } from './artifacts';
import { ORIGIN_MODEL, ORIGIN_RUN, ORIGIN_STORE, ORIGIN_VERSION, quote } from './copies';
import { SyncEngine } from './engine';
import { conflict } from './push-registry';
import { errorText, isObjectError, Report } from './report';
import { numberOf, type LoggedModel, type ModelVersion, type RegisteredModel, type Run } from './wire';

const tagOf = (tags: KV[] | undefined, key: string): string | undefined => tags?.find((t) => t.key === key)?.value;

/**
 * Pulls the remote registry into this store: registered models, versions, aliases, and the runs and logged models
 * the versions come from (params, full metric histories, tags, artifacts), so `NAME@alias` resolves and deploys
 * locally. Default policy: the remote wins for the registry; every overwrite of a local choice is reported and
 * audited. Objects this store pushed itself are recognised by their origin tags and never copied twice.
 */
export class Puller extends SyncEngine {
  readonly report = new Report(this.remote, 'pull');
  private readonly who: Actor = { actor: this.ctx.defaultActor, reason: `sync pull from ${this.remoteRow.name}` };

  async run(): Promise<Report> {
    const models: RegisteredModel[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.searchRegisteredModels(token);
      models.push(...(res.registered_models ?? []));
      token = res.next_page_token;
    } while (token);
    const names = new Set(models.map((m) => m.name));
    for (const name of this.repo.registeredModelNames()) {
      if (!names.has(name) && this.repo.mapping(this.remote, 'registered_model', name)) {
        conflict(this, 'registered_model', name, 'deleted on the remote since the last sync; kept locally');
      }
    }
    let done = 0;
    for (const rm of models) {
      this.checkAbort();
      this.emitProgress('models', done++, models.length);
      try {
        await this.pullModel(rm);
      } catch (e) {
        if (!isObjectError(e)) throw e;
        this.report.object('registered_model', rm.name, 'failed', errorText(e));
      }
    }
    this.emitProgress('models', done, models.length);
    return this.report;
  }

  private async pullModel(rm: RegisteredModel): Promise<void> {
    const name = rm.name;
    const exists = this.repo.registeredModelNames().includes(name);
    if (!exists) {
      this.ctx.registry.createModel(name, { tags: (rm.tags ?? []).filter((t) => t.key !== ORIGIN_STORE), ...(rm.description ? { description: rm.description } : {}) }, this.who);
      this.report.summary.writes++;
      this.report.count('registered_model', 'created');
    }
    if (!this.repo.mapping(this.remote, 'registered_model', name)) this.repo.setMapping(this.remote, 'registered_model', name, name, exists ? 'local' : 'remote');
    const versions: ModelVersion[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.searchModelVersions(`name = ${quote(name)}`, token);
      versions.push(...(res.model_versions ?? []));
      token = res.next_page_token;
    } while (token);
    versions.sort((a, b) => Number(a.version) - Number(b.version));
    for (const v of versions) {
      try {
        await this.pullVersion(v);
      } catch (e) {
        if (!isObjectError(e)) throw e;
        this.report.object('model_version', `${name}/${v.version}`, 'failed', errorText(e));
      }
    }
    this.pullAliases(name, rm.aliases ?? []);
  }

  private async pullVersion(rv: ModelVersion): Promise<void> {
    const remoteKey = `${rv.name}/${rv.version}`;
    if (this.repo.localId(this.remote, 'model_version', remoteKey)) return;
    const origin = tagOf(rv.tags, ORIGIN_VERSION);
    if (origin?.startsWith(`${this.storeId}:`)) {
      const localKey = origin.slice(this.storeId.length + 1);
      this.repo.setMapping(this.remote, 'model_version', localKey, remoteKey, 'local');
      return;
    }
    if (rv.status && rv.status !== 'READY') {
      this.report.object('model_version', remoteKey, 'skipped', `status ${rv.status} on the remote`);
      return;
    }
    let source = rv.source ?? '';
    let runId: string | undefined;
    let modelId: string | undefined;
    // The reference server leaves model_id out of its answers; an MLflow 3 source names the logged model.
    const remoteModel = rv.model_id || /^models:\/(m-[0-9a-f]+)\/?$/.exec(source)?.[1];
    if (remoteModel) {
      modelId = await this.pullLoggedModel(remoteModel);
      source = `models:/${modelId}`;
    } else if (rv.run_id) {
      runId = await this.pullRun(rv.run_id);
      const remoteRun = this.repo.remoteId(this.remote, 'run_artifact_uri', runId);
      const localArt = this.ctx.tracking.runs.row(runId).artifact_uri;
      if (source.startsWith(`runs:/${rv.run_id}`)) source = `runs:/${runId}${source.slice(`runs:/${rv.run_id}`.length)}`;
      else if (remoteRun && source.startsWith(remoteRun)) source = localArt + source.slice(remoteRun.length);
    }
    const tags = (rv.tags ?? []).filter((t) => t.key !== ORIGIN_VERSION);
    const mv = this.ctx.registry.createVersion(
      { name: rv.name, source, ...(runId ? { runId } : {}), ...(modelId ? { modelId } : {}), tags, ...(rv.description ? { description: rv.description } : {}) },
      this.who,
    );
    if (rv.current_stage && rv.current_stage !== 'None') this.ctx.registry.transitionStage(rv.name, mv.version, rv.current_stage, false, this.who);
    this.repo.setMapping(this.remote, 'model_version', `${rv.name}/${mv.version}`, remoteKey, 'remote');
    this.report.summary.writes++;
    this.report.count('model_version', 'created');
  }

  private pullAliases(name: string, aliases: { alias: string; version: string }[]): void {
    const local = new Map(this.repo.localAliases(name).map((a) => [a.alias, a.version]));
    for (const a of aliases) {
      const localKey = this.repo.localId(this.remote, 'model_version', `${name}/${a.version}`);
      if (!localKey) continue;
      const target = Number(localKey.split('/').pop());
      const cur = local.get(a.alias);
      const base = this.repo.aliasBase(this.remote, name, a.alias);
      const id = `${name}@${a.alias}`;
      if (cur === target) {
        if (base !== a.version) this.repo.setAliasBase(this.remote, name, a.alias, a.version);
        continue;
      }
      const baseLocal = base === undefined ? undefined : Number(this.repo.localId(this.remote, 'model_version', `${name}/${base}`)?.split('/').pop());
      const localMoved = cur !== undefined && cur !== baseLocal;
      if (localMoved && this.opts.prefer === 'local') {
        conflict(this, 'alias', id, `moved on both sides: this store has version ${cur}, the remote ${a.version}; local wins: kept`, { version: a.version }, { version: cur });
        continue;
      }
      if (localMoved) conflict(this, 'alias', id, `moved on both sides: remote wins: moved from local version ${cur} to ${target} (remote ${a.version})`, { version: cur }, { version: target });
      this.ctx.registry.setAlias(name, a.alias, target, this.who);
      this.repo.setAliasBase(this.remote, name, a.alias, a.version);
      this.report.summary.writes++;
      this.report.count('alias', cur === undefined ? 'created' : 'updated');
    }
  }

  private async localExperiment(remoteExpId: string): Promise<string> {
    const mapped = this.repo.localId(this.remote, 'experiment', remoteExpId);
    if (mapped) return mapped;
    const exp = await this.client.getExperiment(remoteExpId);
    let id: string;
    let origin: 'local' | 'remote' = 'local';
    try {
      id = this.ctx.tracking.experiments.getByName(exp.name).experiment_id;
    } catch {
      id = this.ctx.tracking.experiments.create(exp.name, undefined, exp.tags ?? []);
      origin = 'remote';
      this.report.count('experiment', 'created');
    }
    this.repo.setMapping(this.remote, 'experiment', id, remoteExpId, origin);
    return id;
  }

  /** The local copy of a remote run: this store's own run when it pushed it, else a copy made once. */
  async pullRun(remoteRunId: string): Promise<string> {
    const mapped = this.repo.localId(this.remote, 'run', remoteRunId);
    if (mapped && !this.repo.hasIntent(this.remote, 'run', mapped)) return mapped;
    const r = await this.client.getRun(remoteRunId);
    const tags = r.data?.tags ?? [];
    const ownId = tagOf(tags, ORIGIN_STORE) === this.storeId ? tagOf(tags, ORIGIN_RUN) : undefined;
    if (!mapped && ownId && this.repo.runVersion(ownId) > 0) {
      this.repo.setMapping(this.remote, 'run', ownId, remoteRunId, 'local');
      return ownId;
    }
    const expId = await this.localExperiment(r.info.experiment_id);
    let local = mapped;
    if (!local) {
      local = this.ctx.tracking.runs.create({ experimentId: expId, userId: r.info.user_id ?? '', runName: r.info.run_name ?? '', startTime: r.info.start_time ?? Date.now(), tags: [] }).info.run_id;
      // Journal first, then map: a pull killed mid-run resumes into this copy instead of making another.
      this.repo.addIntent(this.remote, 'run', local);
      this.repo.mapKeepingIntent(this.remote, 'run', local, remoteRunId, 'remote');
      this.repo.mapKeepingIntent(this.remote, 'run_artifact_uri', local, r.info.artifact_uri, 'remote');
    }
    await this.copyRunData(r, local);
    this.repo.setMapping(this.remote, 'run', local, remoteRunId, 'remote');
    this.repo.setPushedVersion(this.remote, local, this.repo.runVersion(local));
    this.report.count('run', 'created');
    return local;
  }

  private async copyRunData(r: Run, local: string): Promise<void> {
    const runs = this.ctx.tracking.runs;
    const params = r.data?.params ?? [];
    const tags = (r.data?.tags ?? [])
      .filter((t) => t.key !== 'mlflow.runName')
      .map((t) => (t.key === 'mlflow.parentRunId' ? { key: t.key, value: this.repo.localId(this.remote, 'run', t.value) ?? t.value } : t));
    for (let i = 0; i < Math.max(params.length, tags.length); i += 100) {
      runs.logBatch(local, [], params.slice(i, i + 100), tags.slice(i, i + 100));
    }
    this.report.summary.params += params.length;
    this.report.summary.tags += tags.length;
    const keys = [...new Set((r.data?.metrics ?? []).map((m) => m.key))];
    for (const key of keys) {
      let token: string | undefined;
      do {
        const page = await this.client.metricHistoryPage(r.info.run_id, key, token);
        const pts: Metric[] = (page.metrics ?? []).map((m) => ({ key: m.key, value: numberOf(m.value), timestamp: m.timestamp ?? 0, step: m.step ?? 0 }));
        for (let i = 0; i < pts.length; i += 1000) runs.logBatch(local, pts.slice(i, i + 1000), [], []);
        this.report.summary.metricPoints += pts.length;
        token = page.next_page_token;
      } while (token);
    }
    const lineage = lineageOf(tags);
    if (lineage) runs.setLineage(local, lineage);
    const inputs = r.inputs?.dataset_inputs ?? [];
    if (inputs.length) runs.logInputs(local, inputs, []);
    const remoteArt = remoteArtifactPath(r.info.artifact_uri);
    const localArt = artifactPathOf(runs.row(local).artifact_uri);
    if (remoteArt !== null && localArt !== null) await downloadTree(this.ctx.artifacts, this.client, remoteArt, localArt, this.report, () => undefined);
    runs.update(local, { status: r.info.status ?? 'FINISHED', ...(r.info.end_time ? { endTime: r.info.end_time } : {}) });
    if (r.info.lifecycle_stage === 'deleted') runs.setLifecycle(local, 'deleted');
  }

  /** The local copy of a remote logged model, with its source run and its files. */
  async pullLoggedModel(remoteModelId: string): Promise<string> {
    const mapped = this.repo.localId(this.remote, 'logged_model', remoteModelId);
    if (mapped) return mapped;
    const lm: LoggedModel = await this.client.getLoggedModel(remoteModelId);
    const ownId = tagOf(lm.info.tags, ORIGIN_STORE) === this.storeId ? tagOf(lm.info.tags, ORIGIN_MODEL) : undefined;
    if (ownId && this.repo.loggedModel(ownId)) {
      this.repo.setMapping(this.remote, 'logged_model', ownId, remoteModelId, 'local');
      return ownId;
    }
    const runId = lm.info.source_run_id ? await this.pullRun(lm.info.source_run_id) : undefined;
    const again = this.repo.localId(this.remote, 'logged_model', remoteModelId);
    if (again) return again;
    const expId = await this.localExperiment(lm.info.experiment_id);
    const created = this.ctx.tracking.loggedModels.create({
      experimentId: expId,
      name: lm.info.name,
      ...(lm.info.model_type ? { modelType: lm.info.model_type } : {}),
      ...(runId ? { sourceRunId: runId } : {}),
      params: lm.data?.params ?? [],
      tags: (lm.info.tags ?? []).filter((t) => t.key !== 'mlflow.modelVersions'),
    });
    const remoteArt = remoteArtifactPath(lm.info.artifact_uri);
    const localArt = artifactPathOf(created.info.artifact_uri);
    if (remoteArt !== null && localArt !== null) await downloadTree(this.ctx.artifacts, this.client, remoteArt, localArt, this.report, () => undefined);
    this.ctx.tracking.loggedModels.finalize(created.info.model_id, 'LOGGED_MODEL_READY');
    this.repo.setMapping(this.remote, 'logged_model', created.info.model_id, remoteModelId, 'remote');
    this.report.count('logged_model', 'created');
    return created.info.model_id;
  }
}

/** The lineage a push wrote as `mlops.lineage.*` tags, back into its structured form. */
function lineageOf(tags: KV[]): Lineage | null {
  const l: Lineage = {};
  let any = false;
  for (const t of tags) {
    if (!t.key.startsWith('mlops.lineage.')) continue;
    const k = t.key.slice('mlops.lineage.'.length);
    any = true;
    if (k === 'code_dirty') l.code_dirty = t.value === 'true';
    else if (k === 'environment') {
      try {
        l.environment = JSON.parse(t.value) as Record<string, string>;
      } catch {
        // A hand-edited tag that is not JSON: keep the rest of the lineage.
      }
    } else if (k === 'code_commit' || k === 'code_diff_digest' || k === 'image_digest' || k === 'command') l[k] = t.value;
  }
  return any ? l : null;
}
