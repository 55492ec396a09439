import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../../backend/src/core';
import { registerOnnxModel } from '../../fixtures/onnx/harness';
import { CHAMPION, FEATURES, linearClassifier } from '../../fixtures/onnx/models';
import { ensureBuilt, startBackend } from './proc';

/** Peak resident memory of a process so far (bytes), from /proc. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/<pid>/status');
  return Number(m[1]) * 1024;
}

/** 1,000 records with 1,000 keys each, no key shared between records: a 1,000 × 1,000,000 table if built as sent. */
function hostileRecords(): string {
  const records: string[] = [];
  for (let r = 0; r < 1000; r++) {
    const fields: string[] = [];
    for (let k = 0; k < 1000; k++) fields.push(`"k${(r * 1000 + k).toString(36)}":1`);
    records.push(`{${fields.join(',')}}`);
  }
  return `{"dataframe_records":[${records.join(',')}]}`;
}

void test('a 9 MB dataframe_records body with 1,000,000 distinct keys: a 400 naming the unexpected keys, peak memory within a small multiple of the body', { timeout: 120_000 }, async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-payload-memory-'));
  const ctx = openCore(home);
  const v = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  // A heap cap well above what the answer needs, so a backend that builds the table fails fast instead of eating the machine.
  const b = await startBackend(home, ['--max-old-space-size=1024']);
  t.after(async () => {
    await b.stop();
    rmSync(home, { recursive: true, force: true });
  });
  const post = async (path: string, body: string) => {
    const r = await fetch(`${b.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' }, body });
    return { status: r.status, body: (await r.json()) as { predictions?: unknown[]; error_code?: string; message?: string } };
  };
  assert.equal((await post('/endpoints/iris/deploy', JSON.stringify({ model: `iris/${v}` }))).status, 200);
  const good = JSON.stringify({ dataframe_records: [Object.fromEntries(FEATURES.map((f, i) => [f, i < 2 ? 1 : 0]))] });
  const smallBad = JSON.stringify({ dataframe_records: [{ ...JSON.parse(good).dataframe_records[0], colour: 1 }] });
  for (let i = 0; i < 20; i++) assert.deepEqual((await post('/endpoints/iris/invocations', good)).body.predictions, [1]);
  const small = await post('/endpoints/iris/invocations', smallBad);
  assert.equal(small.status, 400);
  assert.match(small.body.message ?? '', /record 0 has 1 unknown feature\(s\) 'colour'\. Expected: sepal_length, sepal_width, petal_length, petal_width/);

  const body = hostileRecords();
  assert.ok(body.length > 9_000_000 && body.length < 10 * 1024 * 1024, `body is ${body.length} bytes`);
  const before = peakRss(b.proc.pid!);
  const r = await post('/endpoints/iris/invocations', body);
  const grew = peakRss(b.proc.pid!) - before;
  assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
  assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
  assert.match(r.body.message ?? '', /^Input does not match the model's signature: record 0 has 1000 unknown feature\(s\) 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9' and 990 more\. Expected: sepal_length/);
  process.stderr.write(`payload-memory: body ${(body.length / 1e6).toFixed(2)} MB, peak RSS grew ${(grew / 1e6).toFixed(1)} MB (${(grew / body.length).toFixed(1)}x the body)\n`);
  assert.ok(grew <= 24 * body.length, `peak RSS grew ${grew} bytes for a ${body.length}-byte body`);
  // Still serving.
  assert.deepEqual((await post('/endpoints/iris/invocations', good)).body.predictions, [1]);
});
