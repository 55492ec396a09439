import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession } from 'onnxruntime-node';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { runServingDemo } from '../../backend/src/services/serving/demo';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { cli, ensureBuilt } from '../integration/serving/proc';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

/** The built CLI as its own process (as users run it). */
async function mlops(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  ensureBuilt();
  const r = await cli(argv[1]!, ...argv.slice(2));
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function homeWithModels(t: { after: (fn: () => void) => void }): { home: string; versions: number[] } {
  const home = mkdtempSync(join(tmpdir(), 'mlops-serving-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const versions = [registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION)), registerOnnxModel(ctx, 'iris', linearClassifier(CHALLENGER))];
  ctx.registry.setAlias('iris', 'champion', versions[0], { actor: 'test' });
  ctx.db.close();
  return { home, versions };
}

void test('mlops predict streams a CSV through the model in batches', async (t) => {
  const { home } = homeWithModels(t);
  const rows = sampleRows(5000, 11);
  const input = join(home, 'data.csv');
  writeFileSync(input, `${FEATURES.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  const output = join(home, 'preds.csv');
  const r = await mlops('--home', home, 'predict', 'iris@champion', '--input', input, '--output', output, '--batch-size', '700');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /5000 rows scored with iris\/1/);
  const lines = readFileSync(output, 'utf8').trim().split('\n');
  assert.equal(lines[0], `${FEATURES.join(',')},prediction`);
  assert.equal(lines.length, 5001);
  lines.slice(1).forEach((l, i) => {
    const x = rows[i]!;
    const margin = x[0]! + x[1]! - x[2]! - x[3]!;
    // Ties (equal sums) round differently in float32; only clear margins are checked.
    if (Math.abs(margin) > 1e-3) assert.equal(l.split(',').at(-1), String(margin > 0 ? 1 : 0), `row ${i}`);
  });
  writeFileSync(input, 'sepal_length,colour\n1,2\n');
  const bad = await mlops('--home', home, 'predict', 'iris/1', '--input', input, '--output', output, '--no-progress');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /missing feature\(s\) 'sepal_width'.*unknown feature\(s\) 'colour'/);
  const missing = await mlops('--home', home, 'predict', 'iris/1', '--input', join(home, 'nope.csv'), '--output', output);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /does not exist/);
  assert.match((await mlops('--home', home, 'predict', 'iris/7', '--input', input, '--output', output)).err, /iris/);
});

void test('mlops export writes a checked, self-contained bundle and refuses models over the size limit', async (t) => {
  const { home } = homeWithModels(t);
  const out = join(home, 'bundle');
  const r = await mlops('--home', home, 'export', 'iris/2', '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(out).sort(), ['MLmodel', 'README.md', 'SHA256SUMS', 'metadata.json', 'model.onnx', 'signature.json']);
  for (const line of readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split('\n')) {
    const [sum, file] = line.split('  ');
    assert.equal(createHash('sha256').update(readFileSync(join(out, file!))).digest('hex'), sum);
  }
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).version, 2);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'signature.json'), 'utf8')).onnx.features, [...FEATURES]);
  const s = await InferenceSession.create(join(out, 'model.onnx'));
  assert.deepEqual(s.outputNames, ['label', 'probabilities']);
  await s.release();
  const again = await mlops('--home', home, 'export', 'iris/2', '--out', out);
  assert.match(again.err, /is not empty/);
  const small = await mlops('--home', home, 'export', 'iris/2', '--out', join(home, 'b2'), '--max-size', '100B');
  assert.equal(small.code, 1);
  assert.match(small.err, /the bundle limit is 100 B/);
  assert.equal((await mlops('--home', home, 'export', 'iris/2', '--out', join(home, 'b3'), '--max-size', 'lots')).code, 2);
});

void test('deploy/rollback CLI without a backend says how to start one', async (t) => {
  const { home } = homeWithModels(t);
  const r = await mlops('--home', home, 'deploy', 'iris/1', '--endpoint', 'e');
  assert.equal(r.code, 1);
  assert.match(r.err, /no backend is running .* start one with 'mlops serve'/);
});

void test('runServingDemo: champion, canary under synthetic traffic, rollback, no failed request', async (t) => {
  const { home, versions } = homeWithModels(t);
  const { app, handshake } = await startServer({ home });
  t.after(() => app.server.close());
  const lines: string[] = [];
  const r = await runServingDemo({ url: handshake.url, token: handshake.token, champion: 'iris@champion', challenger: `iris/${versions[1]}`, rate: 100, stepSeconds: 0.3, rollbackAt: 25, log: (l) => lines.push(l) });
  assert.equal(r.failed, 0);
  assert.ok(r.requests > 20);
  assert.equal(r.rollback.to, 'iris/1');
  assert.equal(r.rollback.from, 'iris/2');
  assert.ok((r.byVariant['iris/2'] ?? 0) > 0, JSON.stringify(r.byVariant));
  assert.deepEqual(r.final.weights, { 'iris/1': 100 });
  assert.match(lines.join('\n'), /rolled back iris\/2 → iris\/1/);
});
