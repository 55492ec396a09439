import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DB_KINDS, harness, M, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;
interface MV {
  name: string;
  version: string;
  current_stage: string;
  status: string;
  source: string;
  run_id?: string;
  aliases?: string[];
  tags?: Obj[];
  description?: string;
}

for (const kind of DB_KINDS) {
  void describe(`MLflow registry and logged-model API (${kind} database)`, () => {
    let h: Harness;
    let exp: string;
    let runId: string;
    before(async () => {
      h = await harness(kind);
      exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'reg-exp' })).body.experiment_id;
      runId = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp })).body.run.info.run_id;
    });
    after(async () => {
      assert.deepEqual(h.serverErrors, []);
      await h.close();
    });

    void test('logged models: create, get, tags, params, finalize, search, delete', async () => {
      const c = await h.call<{ model: { info: Obj } }>('POST', M('logged-models'), { experiment_id: exp, name: 'model', source_run_id: runId, params: [{ key: 'alpha', value: '1' }], tags: [{ key: 'mlflow.user', value: 'ana' }] });
      assert.equal(c.status, 200);
      const info = c.body.model.info;
      assert.match(String(info.model_id), /^m-[0-9a-f]{32}$/);
      assert.equal(info.status, 'LOGGED_MODEL_PENDING');
      assert.equal(info.artifact_uri, `mlflow-artifacts:/${exp}/models/${String(info.model_id)}/artifacts`);
      const id = String(info.model_id);
      assert.equal((await h.call('PATCH', M(`logged-models/${id}/tags`), { tags: [{ key: 'k', value: 'v' }] })).status, 200);
      assert.equal((await h.call('POST', M(`logged-models/${id}/params`), { params: [{ key: 'beta', value: '2' }] })).status, 200);
      const fin = await h.call<{ model: { info: { status: string } } }>('PATCH', M(`logged-models/${id}`), { model_id: id, status: 'LOGGED_MODEL_READY' });
      assert.equal(fin.body.model.info.status, 'LOGGED_MODEL_READY');
      assert.equal((await h.call('PATCH', M(`logged-models/${id}`), { model_id: id, status: 'SHINY' })).status, 400);
      const got = await h.call<{ model: { info: { tags: Obj[] }; data: { params: Obj[] } } }>('GET', M(`logged-models/${id}`));
      assert.deepEqual(got.body.model.data.params, [{ key: 'alpha', value: '1' }, { key: 'beta', value: '2' }]);
      assert.deepEqual(got.body.model.info.tags.map((t) => t.key), ['k', 'mlflow.user']);
      const s = await h.call<{ models: { info: { model_id: string } }[] }>('POST', M('logged-models/search'), { experiment_ids: [exp], filter: "name = 'model' and params.alpha = '1'" });
      assert.deepEqual(s.body.models.map((m) => m.info.model_id), [id]);
      assert.equal((await h.call('DELETE', M(`logged-models/${id}/tags/k`))).status, 200);
      assert.equal((await h.call('DELETE', M(`logged-models/${id}/tags/k`))).status, 404);
      const other = (await h.call<{ model: { info: { model_id: string } } }>('POST', M('logged-models'), { experiment_id: exp, name: 'tmp' })).body.model.info.model_id;
      assert.equal((await h.call('DELETE', M(`logged-models/${other}`), { model_id: other })).status, 200);
      assert.equal((await h.call('GET', M(`logged-models/${other}`))).status, 404);
      assert.equal((await h.call('GET', M(`logged-models/${other}`), { allow_deleted: 'true' })).status, 200);
      assert.equal((await h.call('GET', M('logged-models/m-nope'))).status, 404);
    });

    void test('registered models and versions: the full lifecycle, with audit events', async () => {
      const who = { 'x-mlops-actor': 'ana', 'x-mlops-reason': 'quarterly retrain' };
      const c = await h.call<{ registered_model: Obj }>('POST', M('registered-models/create'), { name: 'Churn', description: 'd1', tags: [{ key: 'team', value: 'ml' }] }, who);
      assert.equal(c.status, 200);
      const dup = await h.call<{ error_code: string }>('POST', M('registered-models/create'), { name: 'Churn' });
      assert.deepEqual([dup.status, dup.body.error_code], [400, 'RESOURCE_ALREADY_EXISTS']);
      const lm = (await h.call<{ model: { info: { model_id: string; artifact_uri: string } } }>('POST', M('logged-models'), { experiment_id: exp, name: 'm', source_run_id: runId })).body.model.info;
      const v1 = await h.call<{ model_version: MV }>('POST', M('model-versions/create'), { name: 'Churn', source: `models:/${lm.model_id}`, model_id: lm.model_id }, who);
      assert.equal(v1.status, 200);
      assert.deepEqual([v1.body.model_version.version, v1.body.model_version.status, v1.body.model_version.run_id, v1.body.model_version.current_stage], ['1', 'READY', runId, 'None']);
      const uri = await h.call<{ artifact_uri: string }>('GET', M('model-versions/get-download-uri'), { name: 'Churn', version: '1' });
      assert.equal(uri.body.artifact_uri, lm.artifact_uri);
      const v2 = await h.call<{ model_version: MV }>('POST', M('model-versions/create'), { name: 'Churn', source: `runs:/${runId}/model`, run_id: runId, tags: [{ key: 'k', value: 'v' }] });
      assert.equal(v2.body.model_version.version, '2');
      assert.equal((await h.call<{ artifact_uri: string }>('GET', M('model-versions/get-download-uri'), { name: 'Churn', version: '2' })).body.artifact_uri, `mlflow-artifacts:/${exp}/${runId}/artifacts/model`);
      for (const source of ['/etc/passwd', 'file:///tmp/x', 'runs:/abc/../../etc']) {
        assert.equal((await h.call('POST', M('model-versions/create'), { name: 'Churn', source })).status, 400, source);
      }
      assert.equal((await h.call('POST', M('model-versions/create'), { name: 'Nope', source: 's3://b/k' })).status, 404);
      // aliases
      assert.equal((await h.call('POST', M('registered-models/alias'), { name: 'Churn', alias: 'champion', version: '1' }, who)).status, 200);
      assert.equal((await h.call('POST', M('registered-models/alias'), { name: 'Churn', alias: 'champion', version: '2' }, { 'x-mlops-actor': 'bo', 'x-mlops-reason': 'better auc' })).status, 200);
      const byAlias = await h.call<{ model_version: MV }>('GET', M('registered-models/alias'), { name: 'Churn', alias: 'champion' });
      assert.deepEqual([byAlias.body.model_version.version, byAlias.body.model_version.aliases], ['2', ['champion']]);
      for (const [alias, msg] of [['latest', /reserved/], ['V3', /reserved/], ['bad alias!', /Invalid alias/]] as const) {
        const r = await h.call<{ message: string }>('POST', M('registered-models/alias'), { name: 'Churn', alias, version: '1' });
        assert.equal(r.status, 400);
        assert.match(r.body.message, msg);
      }
      const unknownAlias = await h.call<{ error_code: string }>('GET', M('registered-models/alias'), { name: 'Churn', alias: 'nope' });
      assert.deepEqual([unknownAlias.status, unknownAlias.body.error_code], [400, 'INVALID_PARAMETER_VALUE']);
      assert.equal((await h.call('POST', M('registered-models/alias'), { name: 'Churn', alias: 'x', version: '9' })).status, 404);
      // stages
      const st = await h.call<{ model_version: MV }>('POST', M('model-versions/transition-stage'), { name: 'Churn', version: '1', stage: 'production', archive_existing_versions: false });
      assert.equal(st.body.model_version.current_stage, 'Production');
      await h.call('POST', M('model-versions/transition-stage'), { name: 'Churn', version: '2', stage: 'Production', archive_existing_versions: true });
      assert.equal((await h.call<{ model_version: MV }>('GET', M('model-versions/get'), { name: 'Churn', version: '1' })).body.model_version.current_stage, 'Archived');
      assert.equal((await h.call('POST', M('model-versions/transition-stage'), { name: 'Churn', version: '1', stage: 'Live', archive_existing_versions: false })).status, 400);
      assert.equal((await h.call('POST', M('model-versions/transition-stage'), { name: 'Churn', version: '1', stage: 'None' })).status, 400);
      const latest = await h.call<{ model_versions: MV[] }>('POST', M('registered-models/get-latest-versions'), { name: 'Churn', stages: ['Production'] });
      assert.deepEqual(latest.body.model_versions.map((v) => v.version), ['2']);
      // descriptions, tags
      assert.equal((await h.call<{ model_version: MV }>('PATCH', M('model-versions/update'), { name: 'Churn', version: '2', description: 'best' })).body.model_version.description, 'best');
      assert.equal((await h.call('POST', M('model-versions/set-tag'), { name: 'Churn', version: '2', key: 'validated', value: 'yes' })).status, 200);
      assert.equal((await h.call('DELETE', M('model-versions/delete-tag'), { name: 'Churn', version: '2', key: 'k' })).status, 200);
      assert.deepEqual((await h.call<{ model_version: MV }>('GET', M('model-versions/get'), { name: 'Churn', version: '2' })).body.model_version.tags, [{ key: 'validated', value: 'yes' }]);
      assert.equal((await h.call('POST', M('registered-models/set-tag'), { name: 'Churn', key: 'owner', value: 'ana' })).status, 200);
      assert.equal((await h.call('DELETE', M('registered-models/delete-tag'), { name: 'Churn', key: 'team' })).status, 200);
      const upd = await h.call<{ registered_model: { description: string } }>('PATCH', M('registered-models/update'), { name: 'Churn', description: 'd2' });
      assert.equal(upd.body.registered_model.description, 'd2');
      // search: the client's prompt clause must not hide ordinary models
      await h.call('POST', M('registered-models/create'), { name: 'Other' });
      const s = await h.call<{ registered_models: { name: string; aliases?: Obj[]; latest_versions?: MV[] }[] }>('GET', M('registered-models/search'), {
        filter: "name LIKE 'Ch%' AND tag.`mlflow.prompt.is_prompt` != 'true'",
      });
      assert.deepEqual(s.body.registered_models.map((m) => m.name), ['Churn']);
      assert.deepEqual(s.body.registered_models[0]!.aliases, [{ alias: 'champion', version: '2' }]);
      const all = await h.call<{ registered_models: { name: string }[]; next_page_token?: string }>('GET', M('registered-models/search'), { max_results: 1, order_by: ['name DESC'] });
      assert.deepEqual(all.body.registered_models.map((m) => m.name), ['Other']);
      assert.ok(all.body.next_page_token);
      const vs = await h.call<{ model_versions: MV[] }>('GET', M('model-versions/search'), { filter: `name = 'Churn' and run_id = '${runId}'` });
      assert.deepEqual(vs.body.model_versions.map((v) => v.version), ['2', '1']);
      assert.deepEqual((await h.call<{ model_versions: MV[] }>('GET', M('model-versions/search'), { filter: "tags.validated = 'yes'" })).body.model_versions.map((v) => v.version), ['2']);
      // rename carries versions and aliases
      assert.equal((await h.call('POST', M('registered-models/rename'), { name: 'Churn', new_name: 'Other' })).status, 400);
      assert.equal((await h.call('POST', M('registered-models/rename'), { name: 'Churn', new_name: 'Churn2' })).status, 200);
      assert.equal((await h.call<{ model_version: MV }>('GET', M('registered-models/alias'), { name: 'Churn2', alias: 'champion' })).body.model_version.version, '2');
      // deleting a version removes its aliases
      assert.equal((await h.call('DELETE', M('model-versions/delete'), { name: 'Churn2', version: '2' })).status, 200);
      assert.equal((await h.call('GET', M('registered-models/alias'), { name: 'Churn2', alias: 'champion' })).status, 400);
      assert.equal((await h.call('DELETE', M('registered-models/alias'), { name: 'Churn2', alias: 'champion' })).status, 400);
      assert.equal((await h.call('GET', M('model-versions/get'), { name: 'Churn2', version: 'two' })).status, 400);
      assert.equal((await h.call('DELETE', M('registered-models/delete'), { name: 'Churn2' })).status, 200);
      assert.equal((await h.call('GET', M('registered-models/get'), { name: 'Churn2' })).status, 404);

      // the audit log saw every change, with who, from what, to what and why
      const audit = await h.call<{ events: { actor: string; action: string; object_id: string; before: unknown; after: unknown; reason: string | null }[] }>('GET', '/api/v1/audit', { limit: 100 });
      const ev = audit.body.events;
      const move = ev.find((e) => e.action === 'alias.move')!;
      assert.deepEqual([move.actor, move.object_id, move.before, move.after, move.reason], ['bo', 'Churn@champion', { version: '1' }, { version: '2' }, 'better auc']);
      const created = ev.find((e) => e.action === 'registered_model.create' && e.object_id === 'Churn')!;
      assert.deepEqual([created.actor, created.reason], ['ana', 'quarterly retrain']);
      assert.deepEqual(
        ev.filter((e) => e.object_id.startsWith('Churn')).map((e) => e.action).reverse(),
        [
          'registered_model.create', 'model_version.create', 'model_version.create', 'alias.set', 'alias.move',
          'model_version.stage', 'model_version.stage', 'model_version.stage', 'model_version.update', 'registered_model.update',
          'registered_model.rename', 'model_version.delete', 'registered_model.delete',
        ],
      );
      const filtered = await h.call<{ events: { action: string }[] }>('GET', '/api/v1/audit', { action: 'alias.move' });
      assert.deepEqual(filtered.body.events.map((e) => e.action), ['alias.move']);
      assert.equal((await h.call('GET', '/api/v1/audit', { limit: 0 })).status, 400);
      // append-only: the database itself refuses to rewrite history
      assert.throws(() => h.app.ctx.db.prepare('UPDATE audit_log SET actor = ?').run('mallory'), /append-only/);
      assert.throws(() => h.app.ctx.db.prepare('DELETE FROM audit_log').run(), /append-only/);
    });
  });
}
