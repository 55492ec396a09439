import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ROOT, CLI, api, mlflowEnv, python, startBackend } from '../helpers/backend';

const run = promisify(execFile);

async function client(b: { url: string; token: string }, env: Record<string, string>): Promise<Record<string, unknown>> {
  const { stdout } = await run(python(), [join(ROOT, 'test/python/mlflow_gate_refusal.py')], { env: { ...mlflowEnv(b), ...env }, timeout: 120_000 }).catch((e: { stdout?: string; stderr?: string }) => {
    throw new Error(`client script failed:\n${e.stderr ?? ''}\n${e.stdout ?? ''}`);
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function mlops(home: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [CLI, '--home', home, ...argv], { env: { ...process.env, MLOPS_ACTOR: 'cli-user' } });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

void test('a gated @champion: the real mlflow client gets an MlflowException naming the failed condition; the CLI sets, shows and overrides the gate', { timeout: 300_000 }, async () => {
  const b = await startBackend();
  try {
    const reg = await client(b, { GATE_MODEL: 'churn', GATE_STAGE: 'register' });
    const [low, high] = reg.versions as string[];
    // The gate, set with the CLI on the running backend's store.
    const set = await mlops(b.home, 'models', 'gate', 'set', 'churn', '--metric', 'accuracy >= 0.9', '--metric', 'val_loss < 0.3', '--reason', 'quality bar');
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /gate of churn: accuracy >= 0\.9, val_loss < 0\.3, data validation: if_recorded/);
    const shown = await api<{ metrics: unknown[]; updated_by: string }>(b, 'GET', '/api/v1/models/churn/gates');
    assert.deepEqual(shown.body.metrics, [{ metric: 'accuracy', op: '>=', value: 0.9 }, { metric: 'val_loss', op: '<', value: 0.3 }]);
    assert.equal(shown.body.updated_by, 'cli-user');

    const out = await client(b, { GATE_MODEL: 'churn', GATE_STAGE: 'promote', GATE_VERSIONS: `${low},${high}` });
    const attempts = out.attempts as Record<string, { type: string; error_code: string; message: string } | 'ok'>;
    const refused = attempts[low!] as { type: string; error_code: string; message: string };
    assert.equal(refused.type, 'RestException');
    assert.equal(refused.error_code, 'RESOURCE_CONFLICT');
    assert.equal(refused.message, 'RESOURCE_CONFLICT: Promotion gate refused moving churn@champion to version 1: accuracy >= 0.9 failed (actual 0.85). To promote anyway, override with a reason.');
    assert.equal(attempts[high!], 'ok');
    assert.equal(out.champion, high);

    // The CLI: a dry-run check (exit 1 when it fails), a refused move, then an override with a reason.
    const check = await mlops(b.home, 'models', 'gate', 'show', 'churn', low!);
    assert.equal(check.code, 1);
    assert.match(check.out, /accuracy >= 0\.9\s+FAIL\s+0\.85/);
    const refusedCli = await mlops(b.home, 'models', 'alias', 'churn', low!, 'champion');
    assert.equal(refusedCli.code, 1);
    assert.match(refusedCli.err, /Promotion gate refused moving churn@champion to version 1: accuracy >= 0\.9 failed \(actual 0\.85\)/);
    const noReason = await mlops(b.home, 'models', 'alias', 'churn', low!, 'champion', '--override');
    assert.equal(noReason.code, 1);
    assert.match(noReason.err, /needs a reason/);
    const over = await mlops(b.home, 'models', 'alias', 'churn', low!, 'champion', '--override', '--reason', 'rollback: v2 misbehaves');
    assert.equal(over.code, 0, over.err);
    assert.match(over.out, /churn@champion -> version 1 \(promotion gate overridden\)/);
    const audit = await api<{ events: { action: string; actor: string; reason: string | null; before: unknown; after: unknown }[] }>(b, 'GET', '/api/v1/audit?object_id=churn@champion');
    const ev = audit.body.events.find((e) => e.action === 'alias.gate_override')!;
    assert.deepEqual([ev.actor, ev.reason, ev.before], ['cli-user', 'rollback: v2 misbehaves', { version: high }]);
    assert.deepEqual((ev.after as { failed: { condition: string }[] }).failed.map((f) => f.condition), ['accuracy >= 0.9']);
    const cleared = await mlops(b.home, 'models', 'gate', 'clear', 'churn');
    assert.match(cleared.out, /gate of churn removed/);
    assert.match((await mlops(b.home, 'models', 'gate', 'show', 'churn')).out, /churn has no promotion gate/);
  } finally {
    await b.stop();
  }
});
