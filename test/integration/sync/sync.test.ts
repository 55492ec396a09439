import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { CoreContext } from '../../../backend/src/context';
import { artifactPathOf } from '../../../backend/src/artifacts/store';
import { MlflowRemote } from '../../../backend/src/services/sync/client';
import type { Run } from '../../../backend/src/services/sync/wire';
import { addRemote } from '../../../backend/src/services/sync/remotes';
import { SyncRepo } from '../../../backend/src/services/sync/repository';
import { syncPull, syncPush } from '../../../backend/src/services/sync/service';
import { startMlflow, type MlflowServer } from './mlflow-server';
import { randomFaults, startFaultProxy, type FaultProxy } from './fault-proxy';
import { buildScenario, openHome, tempHome, type Scenario } from './fixture';
import { assertRunsMirrored, localFileHashes, localPoints, remoteFileHashes, remoteRunsByOrigin } from './verify';

const FAST = { attempts: 12, baseDelayMs: 20, maxDelayMs: 300, timeoutMs: 60_000 };
const WRITE = /^(POST|PUT|PATCH|DELETE) /;
const READ_POSTS = /\/(search)$/;

/** Requests through the proxy that could change the remote (searches are reads even when POSTed). */
const writes = (p: FaultProxy): number =>
  Object.entries(p.stats.byPath)
    .filter(([k]) => WRITE.test(k) && !READ_POSTS.test(k))
    .reduce((a, [, n]) => a + n, 0);

void describe('sync with a real mlflow server', { timeout: 900_000 }, () => {
  let server: MlflowServer;
  let client: MlflowRemote;
  const homes: string[] = [];
  const ctxs: CoreContext[] = [];
  const store = (tag: string): CoreContext => {
    const h = tempHome(tag);
    homes.push(h);
    const ctx = openHome(h);
    ctxs.push(ctx);
    return ctx;
  };

  before(async () => {
    server = await startMlflow();
    client = new MlflowRemote(server.url, {}, FAST);
  });
  after(async () => {
    client?.close();
    for (const c of ctxs) c.db.close();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
    await server?.stop();
  });

  void describe('round trip', () => {
    let a: CoreContext;
    let sc: Scenario;
    let proxy: FaultProxy;
    before(async () => {
      a = store('a');
      sc = await buildScenario(a, { prefix: 'rt' });
      proxy = await startFaultProxy(server.url, () => 'pass');
      addRemote(new SyncRepo(a.db), { name: 'team', url: proxy.url });
    });
    after(() => proxy.close());

    void it('pushes every run, metric point, param, tag, file, logged model, version and alias', async () => {
      const s = await syncPush(a, 'team', { retry: FAST });
      assert.deepEqual(s.objects.filter((o) => o.outcome !== 'conflict'), []);
      assert.equal(s.counts.run?.created, sc.runIds.length);
      assert.equal(s.counts.model_version?.created, 2);
      await assertRunsMirrored(a, client, new SyncRepo(a.db).storeId(), sc.runIds);
      const rm = await client.getRegisteredModel(sc.model);
      assert.deepEqual(new Map(rm!.aliases!.map((x) => [x.alias, x.version])), new Map([['champion', '2'], ['challenger', '1']]));
      const v1 = await client.getModelVersion(sc.model, '1');
      assert.equal(v1!.current_stage, 'Staging');
      assert.match(v1!.source!, /^models:\/m-/);
      const lm = await client.getLoggedModel(v1!.source!.slice('models:/'.length));
      assert.equal(lm.info.status, 'LOGGED_MODEL_READY');
      assert.deepEqual(await remoteFileHashes(client, lm.info.artifact_uri.replace('mlflow-artifacts:/', '')), await localFileHashes(a, a.tracking.loggedModels.get(sc.loggedModelId).info.artifact_uri));
      const v2 = await client.getModelVersion(sc.model, '2');
      assert.match(v2!.source!, /^runs:\/[0-9a-f]{32}\/model$/);
    });

    void it('a second push sends nothing', async () => {
      const before = writes(proxy);
      const s = await syncPush(a, 'team', { retry: FAST });
      assert.equal(s.writes, 0);
      assert.equal(writes(proxy), before, 'no write request reached the remote');
    });

    void it('sends only what changed: new metric points and a new file', async () => {
      const id = sc.runIds[2]!;
      a.tracking.runs.logBatch(id, Array.from({ length: 10 }, (_, i) => ({ key: 'm1', value: i, timestamp: 1_767_226_000_000 + i, step: 5000 + i })), [], []);
      await a.artifacts.write(`${artifactPathOf(a.tracking.runs.get(id).info.artifact_uri)}/late.txt`, Readable.from([Buffer.from('late')]));
      const s = await syncPush(a, 'team', { retry: FAST });
      assert.equal(s.metricPoints, 10);
      assert.equal(s.artifactFiles, 1);
      assert.equal(s.counts.run?.updated, 1);
      await assertRunsMirrored(a, client, new SyncRepo(a.db).storeId(), sc.runIds);
    });

    void it('own runs: local wins by default; --prefer remote keeps a tag changed remotely and reports it', async () => {
      const id = sc.runIds[3]!;
      const remoteId = new SyncRepo(a.db).remoteId('team', 'run', id)!;
      const setRemote = (v: string) => client.http.request({ method: 'POST', path: 'api/2.0/mlflow/runs/set-tag', body: { json: { run_id: remoteId, key: 'note', value: v } } });
      const remoteNote = async () => (await client.getRun(remoteId)).data!.tags!.find((t) => t.key === 'note')!.value;
      await setRemote('edited remotely');
      a.tracking.runs.logBatch(id, [], [], [{ key: 'note', value: 'edited locally' }]);
      const s1 = await syncPush(a, 'team', { retry: FAST });
      assert.deepEqual(s1.objects, []);
      assert.equal(await remoteNote(), 'edited locally');
      await setRemote('edited remotely again');
      a.tracking.runs.logBatch(id, [], [], [{ key: 'note', value: 'edited locally again' }]);
      const s2 = await syncPush(a, 'team', { retry: FAST, prefer: 'remote' });
      assert.equal(s2.objects.find((o) => o.kind === 'run' && o.id === id)?.outcome, 'conflict');
      assert.equal(await remoteNote(), 'edited remotely again');
    });

    void it('a fresh store pulls the registry with its source runs, logged model and files', async () => {
      const b = store('b');
      addRemote(new SyncRepo(b.db), { name: 'team', url: server.url });
      const s = await syncPull(b, 'team', { retry: FAST });
      assert.deepEqual(s.objects, []);
      const champ = b.registry.resolveRef(`${sc.model}@champion`);
      const chall = b.registry.resolveRef(`${sc.model}@challenger`);
      assert.equal(champ.version, '2');
      assert.equal(chall.version, '1');
      assert.equal(chall.current_stage, 'Staging');
      assert.deepEqual(b.registry.getVersion(sc.model, 1).tags, [{ key: 'validated', value: 'yes' }]);
      // Each pulled run equals its origin in store A, point for point and byte for byte.
      for (const v of [champ, chall]) {
        const bRun = b.tracking.runs.get(v.run_id);
        const origin = bRun.data.tags!.find((t) => t.key === 'mlops.origin.run_id')!.value;
        const aRun = a.tracking.runs.get(origin);
        assert.deepEqual(bRun.data.params, aRun.data.params);
        assert.deepEqual(b.tracking.runs.lineage(bRun.info.run_id), a.tracking.runs.lineage(origin));
        assert.deepEqual(localPoints(b, bRun.info.run_id), localPoints(a, origin).map((p) => p.replace(/\|Infinity$/, '|1.7976931348623157e+308').replace(/\|-Infinity$/, '|-1.7976931348623157e+308')));
        for (const t of aRun.data.tags ?? []) if (t.key !== 'mlflow.parentRunId') assert.equal(bRun.data.tags!.find((x) => x.key === t.key)?.value, t.value);
        assert.deepEqual(await localFileHashes(b, bRun.info.artifact_uri), await localFileHashes(a, aRun.info.artifact_uri));
      }
      const bLm = b.tracking.loggedModels.get(chall.model_id);
      assert.deepEqual(await localFileHashes(b, bLm.info.artifact_uri), await localFileHashes(a, a.tracking.loggedModels.get(sc.loggedModelId).info.artifact_uri));
      assert.ok(b.registry.downloadUri(sc.model, 1).startsWith('mlflow-artifacts:/'));
      const again = await syncPull(b, 'team', { retry: FAST });
      assert.equal(again.writes, 0, 'a second pull copies nothing');
      const back = await syncPush(b, 'team', { retry: FAST });
      assert.equal(back.writes, 0, 'pulled objects are not pushed back');
    });

    void it('an alias moved on both sides: the remote wins, reported and audited', async () => {
      const run = sc.runIds[3]!;
      a.registry.createVersion({ name: sc.model, source: `runs:/${run}/model`, runId: run }, { actor: 'alice' });
      a.registry.setAlias(sc.model, 'champion', 3, { actor: 'alice' });
      await client.setAlias(sc.model, 'champion', '1');
      const s = await syncPush(a, 'team', { retry: FAST });
      assert.equal(s.counts.model_version?.created, 1);
      const c = s.objects.find((o) => o.kind === 'alias' && o.id === `${sc.model}@champion`);
      assert.equal(c?.outcome, 'conflict');
      assert.equal((await client.getRegisteredModel(sc.model))!.aliases!.find((x) => x.alias === 'champion')!.version, '1');
      const p = await syncPull(a, 'team', { retry: FAST });
      assert.equal(p.objects.find((o) => o.id === `${sc.model}@champion`)?.outcome, 'conflict');
      assert.equal(p.counts.run, undefined, 'its own runs are recognised, not copied');
      assert.equal(p.counts.model_version, undefined, 'its own versions are recognised, not copied');
      assert.equal(a.registry.resolveRef(`${sc.model}@champion`).version, '1');
      assert.ok(a.audit.list({ action: 'sync.conflict', objectId: `${sc.model}@champion` }).length >= 2);
    });

    void it('a model deleted remotely is not re-created; a name taken remotely is left alone', async () => {
      await client.http.request({ method: 'DELETE', path: 'api/2.0/mlflow/registered-models/delete', body: { json: { name: sc.model } } });
      await client.createRegisteredModel({ name: 'rt-taken', tags: [] });
      a.registry.createModel('rt-taken', {}, { actor: 'alice' });
      a.registry.createVersion({ name: 'rt-taken', source: `runs:/${sc.runIds[1]}/model`, runId: sc.runIds[1] }, { actor: 'alice' });
      const s = await syncPush(a, 'team', { retry: FAST });
      assert.equal(s.objects.find((o) => o.id === sc.model)?.outcome, 'conflict');
      assert.equal(s.objects.find((o) => o.id === 'rt-taken')?.outcome, 'conflict');
      assert.equal(await client.getRegisteredModel(sc.model), null);
      assert.equal((await client.searchModelVersions("name = 'rt-taken'")).model_versions, undefined);
    });
  });

  void it('a fault-injecting proxy (503, 429, drops before and after the remote applied a request, delays) loses and duplicates nothing', async () => {
    const c = store('faults');
    const sc = await buildScenario(c, { prefix: 'flt', runs: 3, steps: 1500 });
    const random = randomFaults(7, { s503: 0.08, s429: 0.04, dropBefore: 0.05, dropAfter: 0.1, delay: 0.1, delayMs: 40 });
    // Besides the random faults: the first answer to each kind of create is lost after the server applied it.
    const creates = new Set<string>();
    const proxy = await startFaultProxy(server.url, (r) => {
      const kind = /\/(runs\/create|runs\/outputs|logged-models|model-versions\/create|registered-models\/create|experiments\/create)$/.exec(r.path.split('?')[0]!)?.[1];
      if (kind && r.method === 'POST' && !creates.has(kind)) {
        creates.add(kind);
        return 'drop-after';
      }
      return random(r);
    });
    try {
      addRemote(new SyncRepo(c.db), { name: 'flaky', url: proxy.url });
      const s = await syncPush(c, 'flaky', { retry: FAST });
      assert.ok((proxy.stats.injected['drop-after'] ?? 0) > 3 && (proxy.stats.injected['503'] ?? 0) > 3, JSON.stringify(proxy.stats.injected));
      assert.ok(s.retries > 0);
      assert.equal(creates.size, 6, 'every kind of create, and the run-to-model link, lost its first answer');
      const storeId = new SyncRepo(c.db).storeId();
      await assertRunsMirrored(c, client, storeId, sc.runIds);
      const versions = (await client.searchModelVersions(`name = '${sc.model}'`)).model_versions ?? [];
      assert.deepEqual(versions.map((v) => v.version).sort(), ['1', '2']);
      const models = await client.searchLoggedModels(['0', ...new Set([...(await remoteRunsByOrigin(client, storeId)).values()].map((r) => r.info.experiment_id))], "tags.`mlops.origin.model_id` != ''");
      assert.equal((models.models ?? []).filter((m) => m.info.tags?.some((t) => t.key === 'mlops.origin.store' && t.value === storeId)).length, 1);
      const again = await syncPush(c, 'flaky', { retry: FAST });
      assert.equal(again.writes, 0);
    } finally {
      await proxy.close();
    }
  });

  void it('a create answered after the client gave up, landing only after its retry, leaves one copy (run, logged model, version)', async () => {
    const c = store('late');
    const sc = await buildScenario(c, { prefix: 'late', runs: 2, steps: 300 });
    // The first create of each kind is held at the proxy past the client's timeout, until the client has sent it
    // again and heard the answer (its next request shows that); only then does the held request reach the server.
    const kinds = /\/(runs\/create|logged-models|model-versions\/create)$/;
    const held = new Map<string, { n: number; release: () => void; retryN?: number }>();
    const proxy = await startFaultProxy(server.url, (r) => {
      for (const h of held.values()) if (h.retryN !== undefined && r.n > h.retryN) h.release();
      const kind = r.method === 'POST' ? kinds.exec(r.path.split('?')[0]!)?.[1] : undefined;
      if (!kind) return 'pass';
      const h = held.get(kind);
      if (h) {
        h.retryN ??= r.n;
        return 'pass';
      }
      let release = (): void => undefined;
      const until = new Promise<void>((res) => (release = res));
      held.set(kind, { n: r.n, release });
      return { until };
    });
    try {
      addRemote(new SyncRepo(c.db), { name: 'late', url: proxy.url });
      const s = await syncPush(c, 'late', { retry: { ...FAST, timeoutMs: 3000 }, concurrency: 1 });
      assert.deepEqual(s.objects, []);
      assert.deepEqual([...held.keys()].sort(), ['logged-models', 'model-versions/create', 'runs/create']);
      for (const [kind, h] of held) assert.equal(proxy.stats.landed.get(h.n), 200, `the held ${kind} reached the server and was applied`);
      assert.equal(s.counts.run?.deduplicated, 1, JSON.stringify(s.counts));
      assert.equal(s.counts.logged_model?.deduplicated, 1, JSON.stringify(s.counts));
      assert.equal(s.counts.model_version?.deduplicated, 1, JSON.stringify(s.counts));
      const repo = new SyncRepo(c.db);
      const storeId = repo.storeId();
      const discarded: Run[] = [];
      await remoteRunsByOrigin(client, storeId, discarded);
      assert.equal(discarded.length, 1);
      await assertRunsMirrored(c, client, storeId, sc.runIds);
      const live = (await client.searchModelVersions(`name = '${sc.model}'`)).model_versions ?? [];
      assert.deepEqual(live.map((v) => v.tags?.find((t) => t.key === 'mlops.origin.version')?.value).sort(), [`${storeId}:${sc.model}/1`, `${storeId}:${sc.model}/2`]);
      const champion = repo.remoteId('late', 'model_version', `${sc.model}/2`)!.split('/').pop();
      assert.equal((await client.getRegisteredModel(sc.model))!.aliases!.find((a) => a.alias === 'champion')?.version, champion);
      const exps = [...new Set([...(await remoteRunsByOrigin(client, storeId)).values()].map((r) => r.info.experiment_id))];
      assert.equal((await client.searchLoggedModels(exps, `tags.\`mlops.origin.model_id\` = '${sc.loggedModelId}'`)).models?.length, 1);
      assert.equal((await syncPush(c, 'late', { retry: FAST })).writes, 0);
    } finally {
      for (const h of held.values()) h.release();
      await proxy.close();
    }
  });

  void it('a resumed push that finds two remote copies of the run it was creating keeps one; a copy landing later is removed by the next push', async () => {
    const d = store('dup');
    const sc = await buildScenario(d, { prefix: 'dup', runs: 2, steps: 100 });
    const repo = new SyncRepo(d.db);
    addRemote(repo, { name: 'team', url: server.url });
    const storeId = repo.storeId();
    const target = sc.runIds[1]!;
    const run = d.tracking.runs.get(target);
    // What a push killed mid-create leaves: the create journaled, and both its request and a retry of it landed.
    const expId = await client.createExperiment('dup-exp', []);
    repo.addIntent('team', 'run', target);
    const tags = [
      { key: 'mlops.origin.store', value: storeId },
      { key: 'mlops.origin.run_id', value: target },
    ];
    const copy = async (): Promise<string> => (await client.createRun({ experiment_id: expId, user_id: 'alice', run_name: run.info.run_name, start_time: run.info.start_time, tags })).info.run_id;
    const copies = [await copy(), await copy()].sort();
    const s = await syncPush(d, 'team', { retry: FAST });
    assert.deepEqual(s.objects, []);
    assert.equal(s.counts.run?.deduplicated, 1);
    assert.equal(repo.remoteId('team', 'run', target), copies[0], 'the copy with the smallest id is kept');
    const discarded: Run[] = [];
    await remoteRunsByOrigin(client, storeId, discarded);
    assert.deepEqual(discarded.map((r) => r.info.run_id), [copies[1]]);
    assert.equal(discarded[0]!.data!.tags!.find((t) => t.key === 'mlops.duplicate_of')?.value, copies[0]);
    await assertRunsMirrored(d, client, storeId, sc.runIds);
    assert.equal(d.audit.list({ action: 'sync.deduplicate', objectId: target }).length, 1);
    // The killed push's request may land even later, after the resumed push ended: the next push removes it.
    const late = await copy();
    const s2 = await syncPush(d, 'team', { retry: FAST });
    assert.equal(s2.counts.run?.deduplicated, 1);
    assert.equal(s2.writes, 2, 'marked, then deleted; nothing else sent');
    assert.equal((await client.getRun(late)).info.lifecycle_stage, 'deleted');
    await assertRunsMirrored(d, client, storeId, sc.runIds);
    // Once the window has passed, the object is no longer looked after.
    d.db.prepare('UPDATE sync_unsettled SET since = 0').run();
    assert.equal((await syncPush(d, 'team', { retry: FAST })).writes, 0);
    assert.deepEqual(repo.unsettled('team'), []);
  });

  void it('a push killed with SIGKILL halfway and resumed leaves exactly one copy of everything', async () => {
    const home = tempHome('kill');
    homes.push(home);
    const k = openHome(home);
    const sc = await buildScenario(k, { prefix: 'kill', runs: 8, steps: 1200, keys: 3 });
    let child: ReturnType<typeof spawn> | undefined;
    const proxy = await startFaultProxy(server.url, (r) => {
      if (r.path.includes('log-batch') && r.n > 40 && child && child.exitCode === null) child.kill('SIGKILL');
      return 'pass';
    });
    try {
      addRemote(new SyncRepo(k.db), { name: 'team', url: proxy.url });
      k.db.close();
      child = spawn(process.execPath, ['--import', 'tsx', 'backend/src/cli.ts', '--home', home, 'sync', 'push', 'team', '--no-progress'], { stdio: 'ignore' });
      const code = await new Promise<number | string | null>((resolve) => child!.on('exit', (c, sig) => resolve(sig ?? c)));
      assert.equal(code, 'SIGKILL', 'the push was killed before it finished');
      const k2 = openHome(home);
      ctxs.push(k2);
      const partial = new SyncRepo(k2.db).countDirtyRuns('team');
      assert.ok(partial > 0, 'runs were left to push');
      const s = await syncPush(k2, 'team', { retry: FAST });
      assert.deepEqual(s.objects, []);
      await assertRunsMirrored(k2, client, new SyncRepo(k2.db).storeId(), sc.runIds);
      const versions = (await client.searchModelVersions(`name = '${sc.model}'`)).model_versions ?? [];
      assert.deepEqual(versions.map((v) => v.version).sort(), ['1', '2']);
      assert.equal((await syncPush(k2, 'team', { retry: FAST })).writes, 0);
    } finally {
      await proxy.close();
    }
  });

  void it('clear errors: wrong or missing credentials, a remote without the logged-model API, an unreachable remote', async () => {
    const e = store('errors');
    const repo = new SyncRepo(e.db);
    // A reverse proxy that demands a bearer token in front of the server, as teams deploy MLflow.
    const guard = await startFaultProxy(server.url, (r) => (r.headers.authorization === 'Bearer right' ? 'pass' : { status: 401, body: 'unauthorized' }));
    const mlflow2 = await startFaultProxy(server.url, (r) => (r.path.includes('/logged-models') ? { status: 404, body: '<html>not found</html>' } : 'pass'));
    try {
      addRemote(repo, { name: 'guarded', url: guard.url, tokenEnv: 'SYNC_TEST_TOKEN' });
      await assert.rejects(syncPush(e, 'guarded', { retry: FAST, env: {} }), /needs the environment variable SYNC_TEST_TOKEN/);
      await assert.rejects(syncPush(e, 'guarded', { retry: FAST, env: { SYNC_TEST_TOKEN: 'wrong' } }), /rejected our credentials \(HTTP 401\): check SYNC_TEST_TOKEN/);
      assert.equal((await syncPush(e, 'guarded', { retry: FAST, env: { SYNC_TEST_TOKEN: 'right' } })).writes, 0);
      const row = e.db.prepare("SELECT * FROM sync_remotes WHERE name = 'guarded'").get() as Record<string, unknown>;
      assert.ok(!JSON.stringify(row).includes('right'), 'no secret in the store');
      addRemote(repo, { name: 'old', url: mlflow2.url });
      await assert.rejects(syncPush(e, 'old', { retry: FAST }), /lacks MLflow 3's logged-model API/);
      const web = await startFaultProxy(server.url, () => ({ status: 404, body: '<html>a web page</html>' }));
      addRemote(repo, { name: 'web', url: web.url });
      await assert.rejects(syncPush(e, 'web', { retry: FAST }), /does not serve MLflow's REST API/).finally(() => web.close());
      addRemote(repo, { name: 'down', url: 'http://127.0.0.1:9' });
      await assert.rejects(syncPush(e, 'down', { retry: { ...FAST, attempts: 3 } }), /remote 'down' is unreachable: .*ECONNREFUSED after 3 tries/);
      assert.throws(() => addRemote(repo, { name: 'bad', url: 'http://u:p@host' }), /must not contain credentials/);
      assert.throws(() => addRemote(repo, { name: 'bad', url: 'http://h', tokenEnv: 's3cr3t-value!' }), /not an environment variable name/);
    } finally {
      await guard.close();
      await mlflow2.close();
    }
  });
});
