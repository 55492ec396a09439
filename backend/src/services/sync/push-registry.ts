import { setTimeout as sleep } from 'node:timers/promises';
import { isTaken } from './client';
import { ORIGIN_STORE, ORIGIN_VERSION, versionCopies } from './copies';
import type { SyncEngine } from './engine';
import { createOnce } from './once';
import type { Pusher } from './push';
import { errorText, isObjectError } from './report';
import type * as W from './wire';

/** Records a conflict in the report and the audit log: nothing is overwritten without a trace. */
export function conflict(p: SyncEngine, kind: string, id: string, detail: string, before?: unknown, after?: unknown): void {
  p.report.object(kind, id, 'conflict', detail);
  p.ctx.audit.append({ actor: p.ctx.defaultActor, action: 'sync.conflict', objectType: kind, objectId: id, before, after, reason: `${p.remoteRow.name}: ${detail}` });
}

/**
 * Pushes registered models, their versions and aliases. Default policy: the remote wins for the registry, so a
 * model deleted remotely is not re-created, a name the remote already uses for another model is left alone, and
 * an alias moved on both sides stays where the remote has it. `--prefer local` reverses each of these.
 */
export async function pushRegistry(p: Pusher): Promise<void> {
  const remoteModels = new Map<string, W.RegisteredModel>();
  let token: string | undefined;
  do {
    const res = await p.client.searchRegisteredModels(token);
    for (const m of res.registered_models ?? []) remoteModels.set(m.name, m);
    token = res.next_page_token;
  } while (token);
  for (const name of p.repo.registeredModelNames()) {
    try {
      await pushModel(p, name, remoteModels.get(name));
    } catch (e) {
      if (!isObjectError(e)) throw e;
      p.report.object('registered_model', name, 'failed', errorText(e));
    }
  }
}

async function pushModel(p: Pusher, name: string, rm: W.RegisteredModel | undefined): Promise<void> {
  const { repo, client, report } = p;
  const remote = p.remoteRow.name;
  const localWins = p.opts.prefer === 'local';
  const mapped = repo.mapping(remote, 'registered_model', name);
  const local = p.ctx.registry.getModel(name);
  if (!rm) {
    if (mapped && !localWins) {
      conflict(p, 'registered_model', name, 'deleted on the remote since the last sync; kept locally and not re-created (push --prefer local re-creates it)');
      return;
    }
    try {
      await client.createRegisteredModel({
        name,
        ...(local.description ? { description: local.description } : {}),
        tags: [...(local.tags ?? []), { key: ORIGIN_STORE, value: p.storeId }],
      });
      report.summary.writes++;
      report.count('registered_model', 'created');
      p.ctx.audit.append({ actor: p.ctx.defaultActor, action: 'sync.push', objectType: 'registered_model', objectId: name, after: { remote } });
    } catch (e) {
      if (!isTaken(e)) throw e;
    }
    if (mapped) for (const v of repo.versionNumbers(name)) repo.deleteMapping(remote, 'model_version', `${name}/${v}`);
  } else if (!mapped) {
    const ours = rm.tags?.some((t) => t.key === ORIGIN_STORE && t.value === p.storeId);
    if (!ours && !localWins) {
      conflict(p, 'registered_model', name, 'the name is taken on the remote by a model this store did not create; remote wins: local versions not pushed (push --prefer local adds them to it)');
      return;
    }
  }
  if (!mapped) repo.setMapping(remote, 'registered_model', name, name, 'local');
  for (const v of repo.versionNumbers(name)) {
    try {
      await pushVersion(p, name, v);
    } catch (e) {
      if (!isObjectError(e)) throw e;
      report.object('model_version', `${name}/${v}`, 'failed', errorText(e));
    }
  }
  await pushAliases(p, name, rm?.aliases ?? []);
}

/** The source a remote version should point at, with the run or logged model it needs pushed first. */
async function remoteSource(p: Pusher, mv: { source: string; run_id?: string; model_id?: string }): Promise<{ source: string; run_id?: string; model_id?: string } | string> {
  const remote = p.remoteRow.name;
  if (mv.model_id) {
    const lm = p.repo.loggedModel(mv.model_id);
    if (!lm) return `its logged model ${mv.model_id} is missing locally`;
    const runId = lm.source_run_id ? await p.pushRun(lm.source_run_id) : null;
    const id = await p.pushLoggedModel(lm, runId);
    if (!id) return `its logged model ${mv.model_id} is not READY`;
    return { source: `models:/${id}`, model_id: id };
  }
  if (mv.run_id) {
    const runId = await p.pushRun(mv.run_id);
    const art = p.repo.remoteId(remote, 'run_artifact_uri', mv.run_id);
    if (!runId || !art) return `its run ${mv.run_id} could not be pushed`;
    const localArt = p.ctx.tracking.runs.row(mv.run_id).artifact_uri;
    let source = mv.source;
    if (source.startsWith(`runs:/${mv.run_id}`)) source = `runs:/${runId}${source.slice(`runs:/${mv.run_id}`.length)}`;
    else if (source.startsWith(localArt)) source = art + source.slice(localArt.length);
    return { source, run_id: runId };
  }
  if (mv.source.startsWith('mlflow-artifacts:') || mv.source.startsWith('models:/')) return `its files (${mv.source}) belong to no run or logged model that can be pushed`;
  return { source: mv.source };
}

async function pushVersion(p: Pusher, name: string, v: number): Promise<void> {
  const remote = p.remoteRow.name;
  const key = `${name}/${v}`;
  if (p.repo.mapping(remote, 'model_version', key)) return;
  const mv = p.ctx.registry.getVersion(name, v);
  if (mv.status !== 'READY') return;
  const src = await remoteSource(p, mv);
  if (typeof src === 'string') {
    p.report.object('model_version', key, 'failed', src);
    return;
  }
  const origin = `${p.storeId}:${key}`;
  let created = await createOnce(p, 'model_version', key, versionCopies(p, name, key), (hooks) =>
    p.client.createModelVersion({ name, ...src, ...(mv.description ? { description: mv.description } : {}), tags: [...(mv.tags ?? []), { key: ORIGIN_VERSION, value: origin }] }, hooks),
  );
  p.report.summary.writes++;
  for (let i = 0; created.status && created.status !== 'READY' && i < 120; i++) {
    if (created.status === 'FAILED_REGISTRATION') break;
    await sleep(500);
    created = (await p.client.getModelVersion(name, created.version)) ?? created;
  }
  if (created.status && created.status !== 'READY') p.report.object('model_version', key, 'failed', `remote version ${created.version} is ${created.status}`);
  if (mv.current_stage !== 'None') {
    await p.client.transitionStage(name, created.version, mv.current_stage);
    p.report.summary.writes++;
  }
  p.repo.setMapping(remote, 'model_version', key, `${name}/${created.version}`, 'local');
  p.report.count('model_version', 'created');
  p.ctx.audit.append({ actor: p.ctx.defaultActor, action: 'sync.push', objectType: 'model_version', objectId: key, after: { remote, remote_version: created.version } });
}

async function pushAliases(p: Pusher, name: string, remoteAliases: { alias: string; version: string }[]): Promise<void> {
  const remote = p.remoteRow.name;
  for (const a of p.repo.localAliases(name)) {
    const target = p.repo.remoteId(remote, 'model_version', `${name}/${a.version}`)?.split('/').pop();
    if (!target) continue;
    const cur = remoteAliases.find((x) => x.alias === a.alias)?.version;
    const base = p.repo.aliasBase(remote, name, a.alias);
    const id = `${name}@${a.alias}`;
    if (cur === target) {
      if (base !== target) p.repo.setAliasBase(remote, name, a.alias, target);
      continue;
    }
    const localMoved = target !== base;
    const remoteMoved = cur !== undefined && cur !== base;
    if (!localMoved) continue;
    if (remoteMoved && p.opts.prefer !== 'local') {
      conflict(p, 'alias', id, `moved on both sides: the remote has version ${cur}, this store ${a.version} (remote ${target}); remote wins: not moved (pull takes the remote's; push --prefer local moves it)`, { version: cur }, { version: target });
      continue;
    }
    await p.client.setAlias(name, a.alias, target);
    p.report.summary.writes++;
    p.repo.setAliasBase(remote, name, a.alias, target);
    p.report.count('alias', cur === undefined ? 'created' : 'updated');
    p.ctx.audit.append({ actor: p.ctx.defaultActor, action: 'sync.push', objectType: 'alias', objectId: id, before: cur === undefined ? null : { version: cur }, after: { remote, version: target } });
  }
}
