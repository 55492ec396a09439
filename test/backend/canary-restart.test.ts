import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp, type App } from '../../backend/src/app';
import { AUTH, registerOnnxModel } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';

interface View {
  status: string;
  canary: { step: number; percent: number; next_step_at: number } | null;
  variants: { id: string; role: string; weight: number }[];
}

async function view(app: App): Promise<View> {
  const r = await app.server.inject({ method: 'GET', url: '/endpoints/iris', headers: AUTH });
  return r.json<View>();
}

/** Waits for the state (an HTTP round trip may trail the tick that changed it), not for a duration. */
async function until(app: App, ok: (v: View) => boolean): Promise<View> {
  for (let i = 0; i < 200; i++) {
    const v = await view(app);
    if (ok(v)) return v;
    await sleep(10);
  }
  return view(app);
}

void test('a running canary survives a backend restart: it resumes at its step and its next step comes when it was due', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-canary-restart-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const a = await buildApp({ home, token: 'serving-test-token', clock, serving: { tickMs: 1000 } });
  const v1 = registerOnnxModel(a.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(a.ctx, 'iris', linearClassifier(CHALLENGER));
  const deploy = (body: object) => a.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: body });
  assert.equal((await deploy({ model: `iris/${v1}` })).statusCode, 200);
  assert.equal((await deploy({ model: `iris/${v2}`, strategy: 'canary', steps: [10, 50, 100], step_interval_s: 60 })).statusCode, 200);
  const t0 = clock.now();
  await clock.advance(60_000);
  const before = await until(a, (v) => v.canary?.step === 1);
  assert.equal(before.canary?.percent, 50);
  assert.equal(before.canary?.next_step_at, t0 + 120_000);
  await a.server.close();

  // The second backend starts 10 s (virtual) later on the same home.
  const clock2 = new VirtualClock(t0 + 70_000);
  const b = await buildApp({ home, token: 'serving-test-token', clock: clock2, serving: { tickMs: 1000 } });
  t.after(() => b.server.close());
  await b.server.ready();
  const after = await view(b);
  assert.equal(after.status, 'canary');
  assert.deepEqual(after.canary && { step: after.canary.step, percent: after.canary.percent, next: after.canary.next_step_at }, { step: 1, percent: 50, next: t0 + 120_000 });
  assert.deepEqual(after.variants.filter((v) => v.role !== 'previous').map((v) => [v.id, v.role, v.weight]).sort(), [[`iris/${v1}`, 'stable', 50], [`iris/${v2}`, 'candidate', 50]]);
  await sleep(50);
  assert.equal((await view(b)).canary?.step, 1, 'no step before it is due');
  await clock2.advance(50_000);
  const done = await until(b, (v) => v.status === 'serving');
  assert.equal(done.variants.find((v) => v.role === 'stable')?.id, `iris/${v2}`, 'the ramp completed and promoted the canary');
});
