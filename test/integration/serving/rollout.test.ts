import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../../backend/src/core';
import type { EndpointView } from '../../../backend/src/services/serving/endpoint';
import { registerOnnxModel, sampleRows } from '../../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, faultyClassifier, linearClassifier } from '../../fixtures/onnx/models';
import { cli, ensureBuilt, sleep, startBackend, startLoad, type Backend } from './proc';

const RATE = 500;

/** Rows with x0 in [0, 4): a quarter of them make the faulty fixture fail (x0 ≥ 3). */
function bodies(n: number): unknown[] {
  let s = 42;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 0x1_0000_0000);
  return Array.from({ length: n }, () => ({ dataframe_split: { columns: [...FEATURES], data: [[rnd() * 4, rnd() * 3, rnd() * 3, rnd() * 3]] } }));
}

async function info(b: Backend, name: string): Promise<EndpointView> {
  const r = await fetch(`${b.url}/endpoints/${name}`, { headers: { authorization: `Bearer ${b.token}` } });
  return (await r.json()) as EndpointView;
}

async function waitFor(b: Backend, name: string, pred: (v: EndpointView) => boolean, timeoutMs: number): Promise<EndpointView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await info(b, name);
    if (pred(v)) return v;
    if (Date.now() > until) throw new Error(`timed out; endpoint is ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

void test('under 500 req/s from another process: deploy, full canary ramp, manual and automatic rollback drop no request', { timeout: 600_000 }, async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-rollout-'));
  const ctx = openCore(home);
  const v1 = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(ctx, 'iris', linearClassifier(CHALLENGER));
  const v3 = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  const bad = registerOnnxModel(ctx, 'iris', faultyClassifier(CHAMPION));
  const corrupt = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION).slice(0, 50));
  ctx.db.close();
  const b = await startBackend(home);
  t.after(async () => {
    await b.stop();
    rmSync(home, { recursive: true, force: true });
  });
  const first = await cli(home, 'deploy', `iris/${v1}`, '--endpoint', 'iris');
  assert.equal(first.code, 0, first.stderr);

  const load = startLoad({ url: b.url, token: b.token, path: '/endpoints/iris/invocations', rate: RATE, seconds: 600, bodies: bodies(512) });
  await sleep(1500);
  const steps: Record<string, number> = {};
  const phase = (name: string) => process.stderr.write(`rollout: ${name} (${JSON.stringify(steps)})\n`);

  // 1. Replace: v2 loads and warms while v1 serves, then takes all traffic at once.
  let t0 = Date.now();
  const replace = await cli(home, 'deploy', `iris/${v2}`, '--endpoint', 'iris', '--strategy', 'replace');
  assert.equal(replace.code, 0, replace.stderr);
  steps.replace_ms = Date.now() - t0;
  await sleep(1000);

  phase('replaced');
  // 2. A full canary ramp 1 → 5 → 10 → 25 → 50 → 100 % (0.5 s steps), ending with v3 stable.
  t0 = Date.now();
  const canary = await cli(home, 'deploy', `iris/${v3}`, '--endpoint', 'iris', '--strategy', 'canary', '--interval', '0.5');
  assert.equal(canary.code, 0, canary.stderr);
  const ramped = await waitFor(b, 'iris', (v) => v.status === 'serving' && v.weights[`iris/${v3}`] === 100, 60_000);
  steps.canary_ms = Date.now() - t0;
  assert.equal(ramped.variants.find((v) => v.role === 'previous')?.id, `iris/${v2}`);

  phase('canary ramp done');
  // 3. Manual rollback: back to the warm previous (v2).
  t0 = Date.now();
  const rb = await cli(home, 'rollback', 'iris', '--json');
  assert.equal(rb.code, 0, rb.stderr);
  steps.manual_rollback_cli_ms = Date.now() - t0;
  const rec = (JSON.parse(rb.stdout) as { rollback: { to: string; durationMs: number } }).rollback;
  assert.equal(rec.to, `iris/${v2}`);
  steps.manual_rollback_server_ms = rec.durationMs;

  phase('manual rollback done');
  // 4. Automatic rollback: a canary that fails on a quarter of inputs; callers get the stable answer meanwhile.
  t0 = Date.now();
  const faulty = await cli(home, 'deploy', `iris/${bad}`, '--endpoint', 'iris', '--strategy', 'canary', '--steps', '10,50,100', '--interval', '5');
  assert.equal(faulty.code, 0, faulty.stderr);
  const rolled = await waitFor(b, 'iris', (v) => v.last_rollback?.actor === 'guardrail', 60_000);
  steps.auto_rollback_ms = Date.now() - t0;
  assert.match(rolled.last_rollback!.reason, /error rate/);
  assert.deepEqual(rolled.weights, { [`iris/${v2}`]: 100 });

  phase('automatic rollback done');
  // 5. A corrupt model is refused; the endpoint keeps serving v2.
  const refused = await cli(home, 'deploy', `iris/${corrupt}`, '--endpoint', 'iris');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not a valid ONNX model/);
  await sleep(1000);

  load.stop();
  const s = await load.result;
  t.diagnostic(`load: ${JSON.stringify({ ...s, timeline: undefined })}`);
  t.diagnostic(`steps: ${JSON.stringify(steps)}`);
  assert.equal(s.failed, 0, `failed requests: ${JSON.stringify(s.status)} ${s.errors.join('; ')}`);
  // Open loop: the generator offered RATE/s whatever the answers took; every offered request was answered 200.
  assert.ok(s.sent / s.seconds > RATE * 0.8, `offered ${(s.sent / s.seconds).toFixed(0)} req/s`);
  assert.equal(s.done, s.sent);
  assert.ok(s.fallback > 0, 'the faulty canary was hit and its callers fell back');
  for (const v of [v1, v2, v3]) assert.ok((s.variants[`iris/${v}`] ?? 0) > 0, `iris/${v} served`);

  const list = await cli(home, 'endpoints', 'list');
  assert.equal(list.code, 0);
  assert.match(list.stdout, /iris\s+serving\s+iris\/2\s+stable\s+100/);
  const audit = await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${b.token}` } });
  assert.match(await audit.text(), /ml_rollbacks_total\{endpoint="iris",reason="error_rate"\} 1/);
});

void test('/metrics passes promtool check metrics', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-promtool-'));
  const ctx = openCore(home);
  const v1 = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(ctx, 'iris', linearClassifier(CHALLENGER));
  // Training data beside the model: ml_drift_score compares served inputs with its profile.
  const dir = ctx.artifacts.resolve(ctx.registry.getVersion('iris', v1).storage_location!.replace('mlflow-artifacts:/', ''));
  writeFileSync(join(dir, 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(500).map((r) => r.join(',')).join('\n')}\n`);
  ctx.db.close();
  const b = await startBackend(home);
  t.after(async () => {
    await b.stop();
    rmSync(home, { recursive: true, force: true });
  });
  assert.equal((await cli(home, 'deploy', `iris/${v1}`, '--endpoint', 'iris')).code, 0);
  assert.equal((await cli(home, 'deploy', `iris/${v2}`, '--endpoint', 'iris', '--strategy', 'shadow')).code, 0);
  const h = { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' };
  for (const body of bodies(300)) await fetch(`${b.url}/endpoints/iris/invocations`, { method: 'POST', headers: h, body: JSON.stringify(body) });
  const res = await fetch(`${b.url}/endpoints/iris/invocations`, { method: 'POST', headers: h, body: JSON.stringify(bodies(1)[0]) });
  await fetch(`${b.url}/endpoints/iris/feedback`, { method: 'POST', headers: h, body: JSON.stringify({ request_id: res.headers.get('x-request-id'), label: [1] }) });
  const text = await (await fetch(`${b.url}/metrics`, { headers: h })).text();
  for (const name of ['ml_predictions_total', 'ml_prediction_latency_seconds_bucket', 'ml_feature_distribution', 'ml_model_accuracy', 'ml_drift_score', 'ml_traffic_weight_percent']) {
    assert.match(text, new RegExp(`^${name}\\{`, 'm'), `${name} has samples`);
  }
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'promtool is installed by .ci/setup-system.sh');
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
});
