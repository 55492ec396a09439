import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { buildApp } from '../../backend/src/app';
import { AUTH, registerOnnxModel } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, linearClassifier } from '../fixtures/onnx/models';
import { VirtualClock } from '../helpers/clock';

/**
 * The engine's background work (canary steps, guardrail rollbacks, a completed ramp) passes through no HTTP route, so
 * the request hook never sees it; on an in-memory store no watcher sees it either. The engine publishes it itself.
 */
void test('a canary step and the completed ramp reach the event stream with no request', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-events-serving-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: 'serving-test-token', dbFile: ':memory:', clock, serving: { tickMs: 1000 } });
  t.after(() => app.server.close());
  const v1 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHAMPION));
  const v2 = registerOnnxModel(app.ctx, 'iris', linearClassifier(CHALLENGER));
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.server.address() as { port: number };
  const ctl = new AbortController();
  t.after(() => ctl.abort());
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, { headers: AUTH, signal: ctl.signal });
  const reader = res.body!.getReader();
  const events: string[][] = [];
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += dec.decode(value);
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data:'));
        if (data) events.push((JSON.parse(data.slice(5)) as { topics: string[] }).topics);
      }
    }
  })();
  const deploy = (body: object) => app.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: body });
  assert.equal((await deploy({ model: `iris/${v1}` })).statusCode, 200);
  assert.equal((await deploy({ model: `iris/${v2}`, strategy: 'canary', steps: [10, 50, 100], step_interval_s: 60 })).statusCode, 200);
  const waitEvent = async (what: string) => {
    for (let i = 0; i < 300; i++) {
      const e = events.find((x) => x.includes('endpoints'));
      if (e) return e;
      await sleep(10);
    }
    assert.fail(`no endpoints event after ${what}`);
  };
  await waitEvent('the deploys');
  await sleep(400); // the deploys' coalesced event is out; what comes next is the step's own
  events.length = 0;
  await clock.advance(60_000);
  assert.deepEqual(await waitEvent('the canary step'), ['endpoints', 'models', 'audit']);
  const view = (await app.server.inject({ method: 'GET', url: '/endpoints/iris', headers: AUTH })).json<{ canary: { step: number } | null }>();
  assert.equal(view.canary?.step, 1);
  events.length = 0;
  await clock.advance(60_000);
  await waitEvent('the completed ramp');
  const done = (await app.server.inject({ method: 'GET', url: '/endpoints/iris', headers: AUTH })).json<{ status: string }>();
  assert.equal(done.status, 'serving');
});
