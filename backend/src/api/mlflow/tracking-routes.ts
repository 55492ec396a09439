import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import type { DatasetInput, Metric } from '../../store/types';
import { kvList, metricOf, objectAt, optInt, optStr, reqStr, rpc, runIdOf, strList, viewType, type Args } from './http';
import { trimTrailingSlashes } from '../../util/strings';

export function trackingRoutes(app: FastifyInstance, ctx: CoreContext): void {
  const { experiments, runs, search } = ctx.tracking;

  rpc(app, 'POST', '/experiments/create', (a) => ({ experiment_id: experiments.create(reqStr(a, 'name'), optStr(a, 'artifact_location'), kvList(a, 'tags')) }));
  rpc(app, 'GET', '/experiments/get', (a) => ({ experiment: experiments.get(reqStr(a, 'experiment_id')) }));
  rpc(app, 'GET', '/experiments/get-by-name', (a) => ({ experiment: experiments.getByName(reqStr(a, 'experiment_name')) }));
  const searchExperiments = (a: Args) => {
    const page = experiments.search({
      filter: optStr(a, 'filter'),
      orderBy: strList(a, 'order_by'),
      maxResults: optInt(a, 'max_results'),
      pageToken: optStr(a, 'page_token'),
      viewType: viewType(a, 'view_type'),
    });
    return page.next_page_token ? { experiments: page.items, next_page_token: page.next_page_token } : { experiments: page.items };
  };
  rpc(app, 'POST', '/experiments/search', searchExperiments);
  rpc(app, 'GET', '/experiments/search', searchExperiments);
  rpc(app, 'POST', '/experiments/update', (a) => experiments.rename(reqStr(a, 'experiment_id'), a.new_name));
  rpc(app, 'POST', '/experiments/delete', (a) => experiments.setLifecycle(reqStr(a, 'experiment_id'), 'deleted'));
  rpc(app, 'POST', '/experiments/restore', (a) => experiments.setLifecycle(reqStr(a, 'experiment_id'), 'active'));
  rpc(app, 'POST', '/experiments/set-experiment-tag', (a) => experiments.setTag(reqStr(a, 'experiment_id'), reqStr(a, 'key'), a.value));
  rpc(app, 'POST', '/experiments/delete-experiment-tag', (a) => experiments.deleteTag(reqStr(a, 'experiment_id'), reqStr(a, 'key')));

  // The reference spells this route without a leading slash after mlflow/ (sic); the UI lists datasets with it.
  rpc(app, 'POST', '/experiments/search-datasets', (a) => {
    const ids = strList(a, 'experiment_ids').map((e) => experiments.row(e).experiment_id);
    if (!ids.length) return {};
    const rows = ctx.db
      .prepare(
        `SELECT DISTINCT d.experiment_id, d.name, d.digest, i.tags FROM datasets d JOIN run_inputs i ON i.dataset_uuid = d.dataset_uuid
         WHERE d.experiment_id IN (${ids.map(() => '?').join(',')}) ORDER BY d.name, d.digest LIMIT 1000`,
      )
      .all(...ids) as { experiment_id: number; name: string; digest: string; tags: string }[];
    const dataset_summaries = rows.map((r) => {
      const context = (JSON.parse(r.tags) as { key: string; value: string }[]).find((t) => t.key === 'mlflow.data.context')?.value;
      return { experiment_id: String(r.experiment_id), name: r.name, digest: r.digest, ...(context ? { context } : {}) };
    });
    return dataset_summaries.length ? { dataset_summaries } : {};
  });
  rpc(app, 'POST', '/runs/create', (a) => ({
    run: runs.create({
      experimentId: optStr(a, 'experiment_id') ?? '0',
      userId: optStr(a, 'user_id'),
      runName: optStr(a, 'run_name'),
      startTime: optInt(a, 'start_time', 0),
      tags: kvList(a, 'tags'),
    }),
  }));
  rpc(app, 'GET', '/runs/get', (a) => ({ run: runs.get(runIdOf(a)) }));
  rpc(app, 'POST', '/runs/update', (a) => ({ run_info: runs.update(runIdOf(a), { status: a.status, endTime: optInt(a, 'end_time', 0), runName: a.run_name }) }));
  rpc(app, 'POST', '/runs/delete', (a) => runs.setLifecycle(runIdOf(a), 'deleted'));
  rpc(app, 'POST', '/runs/restore', (a) => runs.setLifecycle(runIdOf(a), 'active'));
  rpc(app, 'POST', '/runs/log-metric', (a) => runs.logBatch(runIdOf(a), [metricOf(a)], [], []));
  rpc(app, 'POST', '/runs/log-parameter', (a) => runs.logBatch(runIdOf(a), [], [{ key: reqStr(a, 'key'), value: reqValue(a) }], []));
  rpc(app, 'POST', '/runs/set-tag', (a) => runs.logBatch(runIdOf(a), [], [], [{ key: reqStr(a, 'key'), value: reqValue(a) }]));
  rpc(app, 'POST', '/runs/delete-tag', (a) => runs.deleteTag(runIdOf(a), reqStr(a, 'key')));
  rpc(app, 'POST', '/runs/log-batch', (a) => {
    const list = a.metrics ?? [];
    if (!Array.isArray(list)) throw invalid("Invalid value for parameter 'metrics': expected a list");
    const metrics: Metric[] = list.map((m: unknown, i) => {
      if (!m || typeof m !== 'object') throw invalid(`Invalid value for parameter 'metrics[${i}]': expected an object`);
      return metricOf(m as Args, i);
    });
    return runs.logBatch(runIdOf(a), metrics, kvList(a, 'params'), kvList(a, 'tags'));
  });
  rpc(app, 'POST', '/runs/log-inputs', (a) => {
    const ds = a.datasets ?? [];
    const models = a.models ?? [];
    if (!Array.isArray(ds) || !Array.isArray(models)) throw invalid("Invalid value for 'datasets' or 'models': expected lists");
    if (ds.length > 1000) throw invalid(`At most 1000 datasets may be logged at once; got ${ds.length}`);
    const inputs = ds.map((d: unknown, i) => datasetInput(objectAt(d, `datasets[${i}]`), i));
    return runs.logInputs(runIdOf(a), inputs, models.map((m: unknown, i) => ({ model_id: reqStr(objectAt(m, `models[${i}]`), 'model_id') })));
  });
  rpc(app, 'POST', '/runs/outputs', (a) => {
    const models = a.models;
    if (!Array.isArray(models)) throw invalid("Missing value for required parameter 'models'");
    return runs.logOutputs(
      runIdOf(a),
      models.map((m: unknown, i) => {
        const o = objectAt(m, `models[${i}]`);
        return { model_id: reqStr(o, 'model_id'), step: optInt(o, 'step') ?? 0 };
      }),
    );
  });
  rpc(app, 'POST', '/runs/log-model', (a) => {
    const id = runIdOf(a);
    const json = reqStr(a, 'model_json');
    runs.logBatch(id, [], [], [{ key: 'mlflow.log-model.history', value: `[${json}]`.slice(0, 8000) }]);
  });
  const searchRuns = (a: Args) => {
    const page = search.search({
      experimentIds: strList(a, 'experiment_ids'),
      filter: optStr(a, 'filter'),
      viewType: viewType(a, 'run_view_type'),
      maxResults: optInt(a, 'max_results'),
      orderBy: strList(a, 'order_by'),
      pageToken: optStr(a, 'page_token'),
    });
    return page.next_page_token ? { runs: page.items, next_page_token: page.next_page_token } : { runs: page.items };
  };
  rpc(app, 'POST', '/runs/search', searchRuns);
  rpc(app, 'GET', '/metrics/get-history', (a) => runs.metricHistory(runIdOf(a), reqStr(a, 'metric_key'), optInt(a, 'max_results'), optStr(a, 'page_token')));
  rpc(app, 'GET', '/metrics/get-history-bulk-interval', (a) => {
    const ids = strList(a, 'run_ids');
    if (!ids.length || ids.length > 100) throw invalid("'run_ids' must name between 1 and 100 runs");
    const key = reqStr(a, 'metric_key');
    const start = optInt(a, 'start_step');
    const end = optInt(a, 'end_step');
    if ((start === undefined) !== (end === undefined) || (start !== undefined && end !== undefined && start > end)) {
      throw invalid("'start_step' and 'end_step' must be given together, with start_step <= end_step");
    }
    const max = optInt(a, 'max_results') ?? 2500;
    if (max < 1 || max > 2500) throw invalid("'max_results' must be between 1 and 2500");
    const metrics = ids.flatMap((id) =>
      runs
        .metricHistory(id, key)
        .metrics.filter((m) => start === undefined || (m.step >= start && m.step <= end!))
        .slice(0, max),
    );
    return { metrics };
  });
  rpc(app, 'GET', '/artifacts/list', async (a) => {
    const run = runs.get(runIdOf(a));
    const path = optStr(a, 'path') ?? '';
    const base = ctx.artifacts;
    const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
    const entries = await base.list(path ? `${root}/${path}` : root);
    const files = entries.map((e) => ({ ...e, path: path ? `${trimTrailingSlashes(path)}/${e.path}` : e.path }));
    return files.length ? { root_uri: run.info.artifact_uri, files } : { root_uri: run.info.artifact_uri };
  });
}

/** One DatasetInput of log-inputs: the dataset's fields are strings (schema and profile are JSON text), tags a list of {key, value}. */
function datasetInput(d: Args, i: number): DatasetInput {
  const ds = objectAt(d.dataset, `datasets[${i}].dataset`);
  const field = (f: string): string => {
    const v = ds[f];
    if (typeof v !== 'string' || !v) throw invalid(`Missing value for required parameter 'datasets[${i}].dataset.${f}'`);
    return v;
  };
  const opt = (f: 'schema' | 'profile'): { [k in typeof f]?: string } => {
    const v = ds[f];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'datasets[${i}].dataset.${f}': expected a string (JSON text)`);
    return { [f]: v };
  };
  const tags = kvList(d, 'tags');
  const dataset = { name: field('name'), digest: field('digest'), source_type: field('source_type'), source: field('source'), ...opt('schema'), ...opt('profile') };
  return tags.length ? { tags, dataset } : { dataset };
}

function reqValue(a: Args): string {
  const v = a.value;
  if (v === undefined || v === null) throw invalid("Missing value for required parameter 'value'");
  return typeof v === 'string' ? v : String(v as number);
}
