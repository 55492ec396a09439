import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import { actorOf, kvList, optBool, optInt, optStr, reqStr, rpc, strList, type Args } from './http';

export function registryRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const reg = ctx.registry;
  const name = (a: Args) => reqStr(a, 'name');

  rpc(app, 'POST', '/registered-models/create', (a, req) => ({
    registered_model: reg.createModel(name(a), { tags: kvList(a, 'tags'), description: optStr(a, 'description') }, actorOf(ctx, req, a)),
  }));
  rpc(app, 'GET', '/registered-models/get', (a) => ({ registered_model: reg.getModel(name(a)) }));
  rpc(app, 'POST', '/registered-models/rename', (a, req) => ({ registered_model: reg.renameModel(name(a), a.new_name, actorOf(ctx, req, a)) }));
  rpc(app, 'PATCH', '/registered-models/update', (a, req) => ({ registered_model: reg.updateModel(name(a), optStr(a, 'description'), actorOf(ctx, req, a)) }));
  rpc(app, 'DELETE', '/registered-models/delete', (a, req) => reg.deleteModel(name(a), actorOf(ctx, req, a)));
  rpc(app, 'GET', '/registered-models/search', (a) => {
    const page = reg.searchModels({ filter: optStr(a, 'filter'), maxResults: optInt(a, 'max_results'), orderBy: strList(a, 'order_by'), pageToken: optStr(a, 'page_token') });
    return page.next_page_token ? { registered_models: page.items, next_page_token: page.next_page_token } : { registered_models: page.items };
  });
  const latest = (a: Args) => ({ model_versions: reg.latestVersions(name(a), strList(a, 'stages')) });
  rpc(app, 'POST', '/registered-models/get-latest-versions', latest);
  rpc(app, 'GET', '/registered-models/get-latest-versions', latest);
  rpc(app, 'POST', '/registered-models/set-tag', (a) => reg.setModelTag(name(a), reqStr(a, 'key'), a.value));
  rpc(app, 'DELETE', '/registered-models/delete-tag', (a) => reg.deleteModelTag(name(a), reqStr(a, 'key')));
  // @champion goes through its promotion gate; `X-MLOps-Override-Gates: true` (or `override_gates`) with a reason overrides it.
  rpc(app, 'POST', '/registered-models/alias', (a, req) => {
    const header = req.headers['x-mlops-override-gates'];
    const override = (typeof header === 'string' && /^(true|1|yes)$/i.test(header)) || optBool(a, 'override_gates') === true;
    ctx.gates.setAlias(name(a), reqStr(a, 'alias'), reqStr(a, 'version'), actorOf(ctx, req, a), override);
  });
  rpc(app, 'DELETE', '/registered-models/alias', (a, req) => reg.deleteAlias(name(a), reqStr(a, 'alias'), actorOf(ctx, req, a)));
  rpc(app, 'GET', '/registered-models/alias', (a) => ({ model_version: reg.versionByAlias(name(a), reqStr(a, 'alias')) }));

  rpc(app, 'POST', '/model-versions/create', (a, req) => ({
    model_version: stripStorage(
      reg.createVersion(
        {
          name: name(a),
          source: reqStr(a, 'source'),
          runId: optStr(a, 'run_id'),
          tags: kvList(a, 'tags'),
          runLink: optStr(a, 'run_link'),
          description: optStr(a, 'description'),
          modelId: optStr(a, 'model_id'),
        },
        actorOf(ctx, req, a),
      ),
    ),
  }));
  rpc(app, 'GET', '/model-versions/get', (a) => ({ model_version: stripStorage(reg.getVersion(name(a), reqStr(a, 'version'))) }));
  rpc(app, 'PATCH', '/model-versions/update', (a, req) => ({
    model_version: stripStorage(reg.updateVersion(name(a), reqStr(a, 'version'), optStr(a, 'description'), actorOf(ctx, req, a))),
  }));
  rpc(app, 'DELETE', '/model-versions/delete', (a, req) => reg.deleteVersion(name(a), reqStr(a, 'version'), actorOf(ctx, req, a)));
  rpc(app, 'POST', '/model-versions/transition-stage', (a, req) => {
    const archive = optBool(a, 'archive_existing_versions');
    if (archive === undefined) throw invalid("Missing value for required parameter 'archive_existing_versions'");
    return { model_version: stripStorage(reg.transitionStage(name(a), reqStr(a, 'version'), reqStr(a, 'stage'), archive, actorOf(ctx, req, a))) };
  });
  rpc(app, 'GET', '/model-versions/search', (a) => {
    const page = reg.searchVersions({ filter: optStr(a, 'filter'), maxResults: optInt(a, 'max_results'), orderBy: strList(a, 'order_by'), pageToken: optStr(a, 'page_token') });
    const items = page.items.map(stripStorage);
    return page.next_page_token ? { model_versions: items, next_page_token: page.next_page_token } : { model_versions: items };
  });
  rpc(app, 'GET', '/model-versions/get-download-uri', (a) => ({ artifact_uri: reg.downloadUri(name(a), reqStr(a, 'version')) }));
  rpc(app, 'POST', '/model-versions/set-tag', (a) => reg.setVersionTag(name(a), reqStr(a, 'version'), reqStr(a, 'key'), a.value));
  rpc(app, 'DELETE', '/model-versions/delete-tag', (a) => reg.deleteVersionTag(name(a), reqStr(a, 'version'), reqStr(a, 'key')));
}

/** storage_location is ours, not MLflow's proto: keep the wire shape the reference server returns. */
function stripStorage<T extends { storage_location?: string }>(v: T): Omit<T, 'storage_location'> {
  const { storage_location: _s, ...rest } = v;
  return rest;
}
