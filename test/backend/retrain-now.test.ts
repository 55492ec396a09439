import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncidentView } from '../../backend/src/api/v1/contract-monitors';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import { sampleRows } from '../fixtures/onnx/harness';
import { FEATURES } from '../fixtures/onnx/models';
import { servedIris } from '../helpers/served';

const TRAIN = resolve(import.meta.dirname, '../fixtures/retrain/train.mjs');

/** Retrain Now on an incident (the editor's action): POST /api/v1/retrains {incident_id}, over real HTTP. */
void test('Retrain Now on an incident: the policy of its endpoint, the incident as evidence, once per incident; the event stream says retrains', { timeout: 60_000 }, async (t) => {
  const { home, handshake, auth: headers } = await servedIris(t, 'mlops-retrain-now-');
  const call = async <T>(method: string, path: string, body?: object) => {
    const r = await fetch(`${handshake.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as T & { error_code?: string; message?: string } };
  };
  // Every request takes more than 0 ms: an SLO of 0 ms opens an incident at its first check.
  assert.equal((await call('PATCH', '/api/v1/monitors/iris/performance', { max_p99_ms: 0, min_rows: 5, failure_limit: 1 })).status, 200);
  for (const row of sampleRows(10, 3)) assert.equal((await call('POST', '/endpoints/iris/invocations', { dataframe_split: { columns: FEATURES, data: [row] } })).status, 200);
  const check = (await call<{ incident: IncidentView | null }>('POST', '/api/v1/monitors/iris/performance/run', {})).body;
  const incident = check.incident;
  assert.ok(incident, `the failing check opened an incident: ${JSON.stringify(check)}`);

  const none = await call('POST', '/api/v1/retrains', { incident_id: incident.id });
  assert.equal(none.status, 404);
  assert.match(none.body.message!, /No retrain policy on endpoint iris/);

  const file = join(home, 'mlops.yaml');
  writeFileSync(file, `name: r\nparams: { data: "" }\nsteps:\n  train:\n    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TRAIN)}]\n    env: { TRAIN_CSV: "\${{ params.data }}" }\n    outputs: [model.onnx]\n`);
  // Its own triggers are off: only Retrain Now starts anything here.
  assert.equal((await call('PUT', '/api/v1/retrain/policies', { model: 'iris', endpoint: 'iris', pipeline: file, triggers: { on_drift: false, on_performance: false } })).status, 200);

  const ctl = new AbortController();
  t.after(() => ctl.abort());
  const topics: string[][] = [];
  const stream = await fetch(`${handshake.url}/api/v1/events`, { headers, signal: ctl.signal });
  void (async () => {
    const reader = stream.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      for (const m of dec.decode(value).matchAll(/data: (.*)\n/g)) topics.push((JSON.parse(m[1]!) as { topics: string[] }).topics);
    }
  })();

  assert.equal((await call('POST', '/api/v1/retrains', { incident_id: 999 })).status, 404);
  const started = await call<RetrainView>('POST', '/api/v1/retrains', { incident_id: incident.id, reason: 'from the editor' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const r = started.body;
  assert.equal(r.trigger, 'manual');
  assert.equal(r.incident_id, String(incident.id));
  assert.deepEqual({ ...r.evidence, user: typeof r.evidence.user }, { user: 'string', reason: 'from the editor', incident_id: String(incident.id), kind: 'performance', severity: incident.severity, summary: incident.summary });
  assert.match(r.reason, new RegExp(`on incident ${incident.id}: from the editor`));
  // One retrain per incident, whoever asks.
  const again = await call('POST', '/api/v1/retrains', { incident_id: incident.id });
  assert.equal(again.status, 409);
  assert.match(again.body.message!, new RegExp(`incident ${incident.id} already started a retrain`));
  // An incident of another endpoint than the named policy's is refused.
  const other = await call('POST', '/api/v1/retrains', { incident_id: incident.id, model: 'iris', endpoint: 'elsewhere' });
  assert.equal(other.status, 404);

  for (let i = 0; i < 500 && !topics.some((x) => x.includes('retrains')); i++) await sleep(10);
  assert.ok(topics.some((x) => x.includes('retrains')), `a retrains event: ${JSON.stringify(topics)}`);
  const listed = (await call<{ retrains: RetrainView[] }>('GET', '/api/v1/retrains')).body.retrains;
  assert.deepEqual(listed.map((x) => [x.id, x.incident_id]), [[r.id, String(incident.id)]]);
});
