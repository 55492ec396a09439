import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ROOT, CLI, api, mlflowEnv, python, startBackend } from '../helpers/backend';

const run = promisify(execFile);

void test('the real mlflow client logs, registers, searches and downloads through our backend', { timeout: 300_000 }, async () => {
  const b = await startBackend();
  try {
    const { stdout } = await run(python(), [join(ROOT, 'test/python/mlflow_client_roundtrip.py')], { env: mlflowEnv(b), timeout: 240_000, maxBuffer: 1 << 24 }).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`client script failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; run_id: string; model_id: string; history: number[][] };
    assert.equal(out.ok, true);
    assert.deepEqual(out.history, [[0, 1], [1, 0.7], [2, 0.4]]);

    // The same data seen from our side: the REST API and the CLI reading the store directly.
    const got = await api<{ run: { data: { params: { key: string; value: string }[] }; outputs: { model_outputs: { model_id: string }[] } } }>(b, 'GET', `/api/2.0/mlflow/runs/get?run_id=${out.run_id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.run.outputs.model_outputs.map((m) => m.model_id), [out.model_id]);
    const { stdout: shown } = await run(process.execPath, [CLI, '--home', b.home, 'runs', 'show', out.run_id, '--json']);
    const parsed = JSON.parse(shown) as { run: { data: { params: { key: string; value: string }[] } }; lineage: { source: { name?: string } } };
    assert.deepEqual(parsed.run.data.params.map((p) => `${p.key}=${p.value}`), ['alpha=0.5', 'l1=0.1', 'solver=lbfgs']);
    assert.match(parsed.lineage.source.name ?? '', /mlflow_client_roundtrip\.py$/);
    const { stdout: versions } = await run(process.execPath, [CLI, '--home', b.home, 'models', 'versions', 'RoundTrip', '--json']);
    const vs = JSON.parse(versions) as { version: string; aliases?: string[]; status: string }[];
    assert.deepEqual(vs.map((v) => [v.version, v.aliases, v.status]), [['1', ['champion'], 'READY']]);
    const { stdout: audit } = await run(process.execPath, [CLI, '--home', b.home, 'audit', '--json']);
    const actions = (JSON.parse(audit) as { action: string; object_id: string }[]).map((e) => `${e.action} ${e.object_id}`);
    assert.deepEqual(actions, ['alias.set RoundTrip@champion', 'model_version.create RoundTrip/1', 'registered_model.create RoundTrip']);
  } finally {
    await b.stop();
  }
});
