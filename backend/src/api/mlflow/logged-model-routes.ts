import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import { kvList, optBool, optInt, optStr, reqStr, rpc, strList } from './http';

/** MLflow 3 logged models; every `mlflow.<flavor>.log_model` goes through these. */
export function loggedModelRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const lm = ctx.tracking.loggedModels;
  const idOf = (req: { params: unknown }) => (req.params as { model_id: string }).model_id;

  rpc(app, 'POST', '/logged-models', (a) => ({
    model: lm.create({
      experimentId: reqStr(a, 'experiment_id'),
      name: optStr(a, 'name'),
      modelType: optStr(a, 'model_type'),
      sourceRunId: optStr(a, 'source_run_id'),
      params: kvList(a, 'params'),
      tags: kvList(a, 'tags'),
    }),
  }));
  rpc(app, 'POST', '/logged-models/search', (a) => {
    const orderBy = a.order_by;
    if (orderBy !== undefined && !Array.isArray(orderBy)) throw invalid("Invalid value for parameter 'order_by': expected a list");
    const page = lm.search({
      experimentIds: strList(a, 'experiment_ids'),
      filter: optStr(a, 'filter'),
      maxResults: optInt(a, 'max_results', 1),
      orderBy: (orderBy ?? []) as { field_name: string; ascending?: boolean }[],
      pageToken: optStr(a, 'page_token'),
    });
    return page.next_page_token ? { models: page.items, next_page_token: page.next_page_token } : { models: page.items };
  });
  rpc(app, 'GET', '/logged-models/:model_id', (a, req) => ({ model: lm.get(idOf(req), optBool(a, 'allow_deleted') ?? false) }));
  rpc(app, 'PATCH', '/logged-models/:model_id', (a, req) => ({ model: lm.finalize(idOf(req), a.status) }));
  rpc(app, 'DELETE', '/logged-models/:model_id', (_a, req) => lm.delete(idOf(req)));
  rpc(app, 'PATCH', '/logged-models/:model_id/tags', (a, req) => lm.setTags(idOf(req), kvList(a, 'tags')));
  rpc(app, 'DELETE', '/logged-models/:model_id/tags/:tag_key', (_a, req) => lm.deleteTag(idOf(req), (req.params as { tag_key: string }).tag_key));
  rpc(app, 'POST', '/logged-models/:model_id/params', (a, req) => lm.logParams(idOf(req), kvList(a, 'params')));
}
