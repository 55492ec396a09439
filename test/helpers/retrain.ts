import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { App } from '../../backend/src/app';
import { AUTH } from '../fixtures/onnx/harness';
import { FEATURES } from '../fixtures/onnx/models';

/** The Node trainer the retraining tests' pipelines run as real local jobs. */
export const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');

/** An authenticated call as alice through the app's injector; the answer parsed. */
export async function call<T>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<{ status: number; body: T }> {
  const r = await app.server.inject({ method, url, headers: { ...AUTH, 'x-mlops-actor': 'alice' }, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: JSON.parse(r.body) as T };
}

/** The concept the endpoint's traffic follows: class 1 when sepal_width > 1.5 (the first champion scores x0 + x1 vs x2 + x3). */
export const truth = (r: readonly number[]): number => (r[1]! > 1.5 ? 1 : 0);

/** Serves the rows on endpoint iris, one request each (no user key: a random arm per request), then sends their labels. */
export async function serveLabelled(app: App, rows: readonly number[][]): Promise<void> {
  const feedback: { request_id: string; label: number }[] = [];
  for (const row of rows) {
    const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/invocations', headers: AUTH, payload: { dataframe_split: { columns: [...FEATURES], data: [row] } } });
    assert.equal(r.statusCode, 200, r.body);
    feedback.push({ request_id: r.headers['x-request-id'] as string, label: truth(row) });
  }
  assert.equal((await call(app, 'POST', '/endpoints/iris/feedback', { feedback })).status, 200);
}
