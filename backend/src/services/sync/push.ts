import { artifactPathOf } from '../../artifacts/store';
import type { Run } from '../../store/types';
import { isTaken, RemoteError } from './client';
import { remoteArtifactPath, uploadTree } from './artifacts';
import { loggedModelCopies, ORIGIN_MODEL, ORIGIN_RUN, ORIGIN_STORE, runCopies, versionCopies } from './copies';
import { SyncEngine } from './engine';
import { createOnce, sweepUnsettled, type Copies } from './once';
import type { LoggedModelRow, MapKind, MetricKeyStats, MetricRow } from './repository';
import { errorText, isObjectError, Report } from './report';
import { pushRegistry } from './push-registry';
import { wireValue, type KV, type Metric } from './wire';

/** MLflow's LogBatch limits (mlflow/utils/validation.py). */
const MAX_METRICS = 1000;
const MAX_PARAMS_TAGS = 100;

/**
 * Pushes this store's runs (with their logged models, metrics, artifacts) and then its registry to one remote.
 * Experiments and registered models are created by name, which the remote keeps unique, so a create sent twice
 * fails the second time instead of duplicating; runs, logged models and versions go through createOnce.
 */
export class Pusher extends SyncEngine {
  readonly report = new Report(this.remote, 'push');
  private readonly experiments = new Map<string, Promise<string>>();
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private done = 0;
  private total = 0;

  private progress(phase: string): void {
    this.emitProgress(phase, this.done, this.total);
  }

  async run(): Promise<Report> {
    this.total = this.repo.countDirtyRuns(this.remote);
    this.progress('runs');
    const width = Math.max(1, this.opts.concurrency ?? 4);
    let after = '';
    for (;;) {
      const page = this.repo.dirtyRuns(this.remote, after, 200);
      if (!page.length) break;
      after = page[page.length - 1]!.run_uuid;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < page.length) {
          const r = page[next++]!;
          this.checkAbort();
          await this.pushRun(r.run_uuid);
          this.done++;
          this.progress('runs');
        }
      };
      await Promise.all(Array.from({ length: Math.min(width, page.length) }, worker));
    }
    this.progress('registry');
    await pushRegistry(this);
    await sweepUnsettled(this, (kind, id) => this.copiesOf(kind, id));
    return this.report;
  }

  /** The remote copies of a mapped local object, for a sweep of late duplicates. */
  private async copiesOf(kind: MapKind, localId: string): Promise<{ copies: Copies<unknown>; mapped: string } | null> {
    const mapped = this.repo.remoteId(this.remote, kind, localId);
    if (!mapped) return null;
    if (kind === 'run') {
      const exp = this.repo.runExperiment(localId);
      return exp === undefined ? null : { copies: runCopies(this, await this.remoteExperiment(String(exp)), localId), mapped };
    }
    if (kind === 'logged_model') {
      const lm = this.repo.loggedModel(localId);
      return lm ? { copies: loggedModelCopies(this, await this.remoteExperiment(String(lm.experiment_id)), localId), mapped } : null;
    }
    if (kind === 'model_version') return { copies: versionCopies(this, localId.slice(0, localId.lastIndexOf('/')), localId), mapped };
    return null;
  }

  /** The remote run id for a local run, pushing it first if it has unpushed changes. Null if it failed. */
  pushRun(uuid: string): Promise<string | null> {
    const m = this.repo.mapping(this.remote, 'run', uuid);
    if (m?.origin === 'remote') return Promise.resolve(m.remote_id);
    if (m && this.repo.pushedVersion(this.remote, uuid) >= this.repo.runVersion(uuid)) return Promise.resolve(m.remote_id);
    let p = this.inFlight.get(uuid);
    if (!p) {
      p = this.pushRunNow(uuid);
      this.inFlight.set(uuid, p);
      void p.finally(() => this.inFlight.delete(uuid));
    }
    return p;
  }

  private async pushRunNow(uuid: string): Promise<string | null> {
    const version = this.repo.runVersion(uuid);
    let run: Run;
    try {
      run = this.ctx.tracking.runs.get(uuid);
    } catch {
      return null;
    }
    try {
      const { runId, artifactUri, created } = await this.ensureRun(run);
      await this.pushParamsAndTags(run, runId, created);
      for (const lm of this.repo.loggedModelsOfRun(uuid)) await this.pushLoggedModel(lm, runId);
      await this.pushMetrics(uuid, runId);
      await this.pushInputsOutputs(run, runId);
      const localArt = artifactPathOf(run.info.artifact_uri);
      const remoteArt = remoteArtifactPath(artifactUri);
      if (localArt !== null && remoteArt !== null) {
        await uploadTree(this.ctx.artifacts, this.client, this.repo, this.remote, localArt, remoteArt, this.report, () => this.progress('runs'));
      } else if (localArt !== null && (await this.ctx.artifacts.listFiles(localArt)).length) {
        this.report.object('run', uuid, 'failed', `the remote stores this run's artifacts at ${artifactUri}, which cannot be written over REST`);
      }
      this.checkAbort();
      await this.client.updateRun(runId, run.info.status, run.info.end_time ?? null);
      if (run.info.lifecycle_stage === 'deleted') await this.client.deleteRun(runId);
      this.report.summary.writes += run.info.lifecycle_stage === 'deleted' ? 2 : 1;
      this.repo.setPushedVersion(this.remote, uuid, version);
      this.report.count('run', created ? 'created' : 'updated');
      return runId;
    } catch (e) {
      if (!isObjectError(e)) throw e;
      this.report.object('run', uuid, 'failed', errorText(e));
      return null;
    }
  }

  async remoteExperiment(localExpId: string): Promise<string> {
    let p = this.experiments.get(localExpId);
    if (!p) {
      p = this.ensureExperiment(localExpId);
      this.experiments.set(localExpId, p);
      p.catch(() => this.experiments.delete(localExpId));
    }
    return p;
  }

  private async ensureExperiment(localExpId: string): Promise<string> {
    const mapped = this.repo.remoteId(this.remote, 'experiment', localExpId);
    if (mapped) return mapped;
    const exp = this.ctx.tracking.experiments.get(localExpId);
    let found = await this.client.getExperimentByName(exp.name);
    if (!found) {
      try {
        await this.client.createExperiment(exp.name, exp.tags);
        this.report.summary.writes++;
        this.report.count('experiment', 'created');
      } catch (e) {
        if (!isTaken(e)) throw e;
      }
      found = await this.client.getExperimentByName(exp.name);
      if (!found) throw new RemoteError('RESOURCE_DOES_NOT_EXIST', 404, `experiment '${exp.name}' vanished on the remote while being created`);
    }
    if (found.lifecycle_stage === 'deleted') {
      this.report.object('experiment', exp.name, 'conflict', 'deleted on the remote: restore it there (mlflow experiments restore) to push its runs');
      throw new RemoteError('INVALID_STATE', 400, `experiment '${exp.name}' is deleted on the remote`);
    }
    this.repo.setMapping(this.remote, 'experiment', localExpId, found.experiment_id, 'local');
    return found.experiment_id;
  }

  private async ensureRun(run: Run): Promise<{ runId: string; artifactUri: string; created: boolean }> {
    const uuid = run.info.run_id;
    const mapped = this.repo.remoteId(this.remote, 'run', uuid);
    if (mapped) {
      let art = this.repo.remoteId(this.remote, 'run_artifact_uri', uuid);
      if (!art) {
        art = (await this.client.getRun(mapped)).info.artifact_uri;
        this.repo.setMapping(this.remote, 'run_artifact_uri', uuid, art, 'local');
      }
      return { runId: mapped, artifactUri: art, created: false };
    }
    const expId = await this.remoteExperiment(run.info.experiment_id);
    const remote = await createOnce(this, 'run', uuid, runCopies(this, expId, uuid), (hooks) =>
      this.client.createRun(
        {
          experiment_id: expId,
          user_id: run.info.user_id,
          run_name: run.info.run_name,
          start_time: run.info.start_time,
          tags: [
            { key: ORIGIN_STORE, value: this.storeId },
            { key: ORIGIN_RUN, value: uuid },
          ],
        },
        hooks,
      ),
    );
    this.report.summary.writes++;
    this.repo.db.transaction(() => {
      this.repo.setMapping(this.remote, 'run', uuid, remote.info.run_id, 'local');
      this.repo.setMapping(this.remote, 'run_artifact_uri', uuid, remote.info.artifact_uri, 'local');
    })();
    return { runId: remote.info.run_id, artifactUri: remote.info.artifact_uri, created: true };
  }

  private async runTags(run: Run): Promise<KV[]> {
    const tags: KV[] = [];
    for (const t of run.data.tags ?? []) {
      if (t.key === 'mlflow.parentRunId' && t.value !== run.info.run_id) {
        const parent = await this.pushRun(t.value);
        tags.push({ key: t.key, value: parent ?? t.value });
      } else tags.push(t);
    }
    const l = this.ctx.tracking.runs.lineage(run.info.run_id);
    for (const [k, v] of Object.entries(l)) {
      if (v === null || v === undefined) continue;
      tags.push({ key: `mlops.lineage.${k}`, value: typeof v === 'object' ? JSON.stringify(v) : String(v) });
    }
    tags.push({ key: ORIGIN_STORE, value: this.storeId }, { key: ORIGIN_RUN, value: run.info.run_id });
    return tags;
  }

  private async pushParamsAndTags(run: Run, runId: string, created: boolean): Promise<void> {
    const params = run.data.params ?? [];
    let tags = await this.runTags(run);
    if (!created && this.opts.prefer === 'remote') {
      // The remote wins even for this store's runs: tags changed there are kept and reported.
      const there = new Map(((await this.client.getRun(runId)).data?.tags ?? []).map((t) => [t.key, t.value]));
      tags = tags.filter((t) => {
        const v = there.get(t.key);
        if (v === undefined || v === t.value) return true;
        this.report.object('run', run.info.run_id, 'conflict', `tag ${t.key} differs on the remote; remote wins: kept '${v}'`);
        return false;
      });
    }
    const n = Math.max(Math.ceil(params.length / MAX_PARAMS_TAGS), Math.ceil(tags.length / MAX_PARAMS_TAGS));
    for (let i = 0; i < n; i++) {
      this.checkAbort();
      const p = params.slice(i * MAX_PARAMS_TAGS, (i + 1) * MAX_PARAMS_TAGS);
      const t = tags.slice(i * MAX_PARAMS_TAGS, (i + 1) * MAX_PARAMS_TAGS);
      try {
        await this.client.logBatch(runId, [], p, t);
      } catch (e) {
        // Params are immutable remotely: a changed value is a conflict; the run's other data still goes.
        if (!(e instanceof RemoteError) || !/param/i.test(e.message) || !p.length) throw e;
        this.report.object('run', run.info.run_id, 'conflict', `params differ on the remote and cannot change there: ${e.message}`);
        if (t.length) await this.client.logBatch(runId, [], [], t);
      }
      this.report.summary.writes++;
      this.report.summary.params += p.length;
      this.report.summary.tags += t.length;
    }
  }

  private wire([key, step, timestamp, value, isNan, modelId, datasetName, datasetDigest]: MetricRow): Metric {
    const m: Metric = { key, value: isNan ? 'NaN' : wireValue(value), timestamp, step };
    const mid = modelId ? this.repo.remoteId(this.remote, 'logged_model', modelId) : undefined;
    if (mid) m.model_id = mid;
    if (datasetName) m.dataset_name = datasetName;
    if (datasetDigest) m.dataset_digest = datasetDigest;
    return m;
  }

  /**
   * Sends the metric points the remote lacks. A run none of whose metrics were pushed yet is read in one keyset
   * scan along the primary key (one query per 1,000 points however many keys); otherwise per key: the new tail
   * when its history only grew, else the whole key. What the remote has of a key is recorded once the batch
   * holding its last point is sent, so an interrupted push resumes key by key.
   */
  private async pushMetrics(uuid: string, runId: string): Promise<void> {
    const pushed = this.repo.pushedMetricStats(this.remote, uuid);
    let batch: Metric[] = [];
    let settled: MetricKeyStats[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length) {
        this.checkAbort();
        await this.client.logBatch(runId, batch, [], []);
        this.report.summary.writes++;
        this.report.summary.metricPoints += batch.length;
        batch = [];
        this.progress('runs');
      }
      if (settled.length) this.repo.setPushedMetricStats(this.remote, uuid, settled);
      settled = [];
    };
    if (!pushed.size) {
      // Stats of the key being read, from the rows themselves: exactly what was sent.
      let cur = null as MetricKeyStats | null;
      let cursor: MetricRow | null = null;
      for (;;) {
        const want = MAX_METRICS - batch.length;
        const rows = this.repo.runMetricPage(uuid, cursor, want);
        for (const r of rows) {
          if (r[0] !== cur?.key) {
            if (cur) settled.push(cur);
            cur = { key: r[0], count: 0, last_step: r[1], last_ts: r[2] };
          }
          cur.count++;
          if (r[1] > cur.last_step || (r[1] === cur.last_step && r[2] > cur.last_ts)) [cur.last_step, cur.last_ts] = [r[1], r[2]];
          batch.push(this.wire(r));
        }
        if (rows.length) cursor = rows[rows.length - 1]!;
        if (batch.length >= MAX_METRICS) await flush();
        if (rows.length < want) break;
      }
      if (cur) settled.push(cur);
      await flush();
      return;
    }
    for (const s of this.repo.metricStats(uuid)) {
      const prev = pushed.get(s.key);
      if (prev && prev.count === s.count && prev.last_step === s.last_step && prev.last_ts === s.last_ts) continue;
      const tailOnly = prev && s.count - prev.count === this.repo.countAbove(uuid, s.key, prev.last_step, prev.last_ts);
      const above = tailOnly && prev ? { step: prev.last_step, ts: prev.last_ts } : null;
      let cursor: MetricRow | null = null;
      for (;;) {
        const want = MAX_METRICS - batch.length;
        const rows = this.repo.metricPage(uuid, s.key, cursor, above, want);
        for (const r of rows) batch.push(this.wire(r));
        if (rows.length) cursor = rows[rows.length - 1]!;
        if (batch.length >= MAX_METRICS) await flush();
        if (rows.length < want) break;
      }
      settled.push(s);
      if (!batch.length) await flush();
    }
    await flush();
  }

  private async pushInputsOutputs(run: Run, runId: string): Promise<void> {
    const inputs = run.inputs.dataset_inputs ?? [];
    const sig = `${run.info.run_id}:${inputs.length}`;
    if (inputs.length && this.repo.remoteId(this.remote, 'run_inputs', run.info.run_id) !== sig) {
      await this.client.logInputs(runId, inputs);
      this.report.summary.writes++;
      this.repo.setMapping(this.remote, 'run_inputs', run.info.run_id, sig, 'local');
    }
    // LogOutputs is not idempotent remotely (a second identical call fails on a unique key), so when the marker
    // is missing (a push died, or an answer was lost) the remote run is asked first.
    let present: Set<string> | undefined;
    const remoteOutputs = async (): Promise<Set<string>> =>
      new Set(((await this.client.getRun(runId)).outputs?.model_outputs ?? []).map((o) => o.model_id));
    for (const o of run.outputs.model_outputs ?? []) {
      const key = `${run.info.run_id}/${o.model_id}`;
      const mid = this.repo.remoteId(this.remote, 'logged_model', o.model_id);
      if (!mid || this.repo.remoteId(this.remote, 'run_output', key)) continue;
      present ??= await remoteOutputs();
      if (!present.has(mid)) {
        try {
          await this.client.logOutputs(runId, [{ model_id: mid, step: o.step ?? 0 }]);
        } catch (e) {
          if (!(e instanceof RemoteError) || !(await remoteOutputs()).has(mid)) throw e;
        }
        this.report.summary.writes++;
      }
      this.repo.setMapping(this.remote, 'run_output', key, mid, 'local');
    }
  }

  /** Creates a READY logged model remotely (once), uploads its files, then finalizes it. */
  async pushLoggedModel(lm: LoggedModelRow, remoteRunId: string | null): Promise<string | null> {
    const mapped = this.repo.mapping(this.remote, 'logged_model', lm.model_id);
    if (mapped) return mapped.remote_id;
    if (lm.status !== 'LOGGED_MODEL_READY') return null;
    const expId = await this.remoteExperiment(String(lm.experiment_id));
    const params = this.repo.loggedModelKVs('logged_model_params', lm.model_id);
    const tags = this.repo.loggedModelKVs('logged_model_tags', lm.model_id).filter((t) => t.key !== 'mlflow.modelVersions');
    tags.push({ key: ORIGIN_STORE, value: this.storeId }, { key: ORIGIN_MODEL, value: lm.model_id });
    const created = await createOnce(this, 'logged_model', lm.model_id, loggedModelCopies(this, expId, lm.model_id), (hooks) =>
      this.client.createLoggedModel(
        {
          experiment_id: expId,
          name: lm.name,
          ...(lm.model_type ? { model_type: lm.model_type } : {}),
          ...(remoteRunId ? { source_run_id: remoteRunId } : {}),
          params: params.slice(0, MAX_PARAMS_TAGS),
          tags,
        },
        hooks,
      ),
    );
    const id = created.info.model_id;
    for (let i = MAX_PARAMS_TAGS; i < params.length; i += MAX_PARAMS_TAGS) await this.client.logLoggedModelParams(id, params.slice(i, i + MAX_PARAMS_TAGS));
    const localArt = artifactPathOf(lm.artifact_location);
    const remoteArt = remoteArtifactPath(created.info.artifact_uri);
    if (localArt !== null && remoteArt !== null) {
      await uploadTree(this.ctx.artifacts, this.client, this.repo, this.remote, localArt, remoteArt, this.report, () => this.progress('models'));
    }
    await this.client.finalizeLoggedModel(id, 'LOGGED_MODEL_READY');
    this.report.summary.writes += 2;
    this.repo.setMapping(this.remote, 'logged_model', lm.model_id, id, 'local');
    this.report.count('logged_model', 'created');
    return id;
  }
}
