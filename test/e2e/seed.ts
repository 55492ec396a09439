/** Seeds a real backend through the MLflow REST API, as an mlflow client would (shared by e2e tests and benchmarks). */
export interface Api {
  url: string;
  token: string;
}

export async function call<T = Record<string, unknown>>(api: Api, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(api.url + path, {
    method,
    headers: { authorization: `Bearer ${api.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} → ${r.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

export interface SeededRun {
  runId: string;
  name: string;
}

/** One experiment with `runs` runs; each logs params lr and depth and `steps` points of loss and accuracy. */
export async function seedExperiment(api: Api, name: string, runs: number, steps: number, source = 'train.py'): Promise<{ experimentId: string; runs: SeededRun[] }> {
  const { experiment_id: experimentId } = await call<{ experiment_id: string }>(api, 'POST', '/api/2.0/mlflow/experiments/create', { name });
  const out: SeededRun[] = [];
  const t0 = Date.now() - runs * 60_000;
  for (let i = 0; i < runs; i++) {
    const runName = `${name}-run-${i + 1}`;
    const { run } = await call<{ run: { info: { run_id: string } } }>(api, 'POST', '/api/2.0/mlflow/runs/create', {
      experiment_id: experimentId,
      run_name: runName,
      start_time: t0 + i * 60_000,
      tags: [{ key: 'mlflow.source.name', value: source }],
    });
    const runId = run.info.run_id;
    const lr = [0.1, 0.01, 0.001][i % 3]!;
    const metrics = [];
    for (let s = 0; s < steps; s++) {
      const loss = (1 / (1 + s * lr * 10)) * (1 + 0.05 * i);
      metrics.push({ key: 'loss', value: loss, timestamp: t0 + i * 60_000 + s, step: s }, { key: 'accuracy', value: 1 - loss / 2, timestamp: t0 + i * 60_000 + s, step: s });
    }
    for (let k = 0; k < metrics.length; k += 1000) {
      await call(api, 'POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(k, k + 1000),
        params: k === 0 ? [{ key: 'lr', value: String(lr) }, { key: 'depth', value: String(3 + (i % 2)) }, { key: 'optimizer', value: 'adam' }] : [],
      });
    }
    await call(api, 'POST', '/api/2.0/mlflow/runs/update', { run_id: runId, status: 'FINISHED', end_time: t0 + i * 60_000 + 42_000 });
    out.push({ runId, name: runName });
  }
  return { experimentId, runs: out };
}

export async function seedModel(api: Api, name: string, runIds: readonly string[], alias?: { alias: string; version: string }): Promise<void> {
  await call(api, 'POST', '/api/2.0/mlflow/registered-models/create', { name });
  for (const runId of runIds) await call(api, 'POST', '/api/2.0/mlflow/model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId });
  if (alias) await call(api, 'POST', '/api/2.0/mlflow/registered-models/alias', { name, ...alias });
}

/** Scores rows on an endpoint through its public route, `perRequest` rows a request (the log keeps 20 of each). */
export async function score(api: Api, endpoint: string, columns: readonly string[], rows: number[][], perRequest = 20): Promise<void> {
  for (let i = 0; i < rows.length; i += perRequest) {
    const r = await fetch(`${api.url}/endpoints/${endpoint}/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_split: { columns, data: rows.slice(i, i + perRequest) } }),
    });
    if (r.status !== 200) throw new Error(`scoring ${endpoint} → ${r.status}: ${await r.text()}`);
  }
}

/** Uploads one artifact file of a run (its artifact_uri) through the MLflow artifacts route. */
export async function upload(api: Api, artifactUri: string, path: string, body: string | Uint8Array): Promise<void> {
  const rel = artifactUri.replace('mlflow-artifacts:/', '');
  const r = await fetch(`${api.url}/api/2.0/mlflow-artifacts/artifacts/${rel}/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${api.token}` }, body: Buffer.from(body) });
  if (r.status !== 200) throw new Error(`upload ${path} → ${r.status}: ${await r.text()}`);
}
