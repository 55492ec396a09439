import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, M, type Harness } from '../helpers/app';

type Obj = Record<string, unknown>;

void describe('search under hostile filters (file database)', () => {
  let h: Harness;
  let exp: string;
  let runId: string;
  before(async () => {
    h = await harness('file');
    exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'hostile' })).body.experiment_id;
    for (let i = 0; i < 20; i++) {
      const run = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp, start_time: 1000 + i })).body.run.info.run_id;
      // 6,000 characters is MLflow's longest param value
      const res = await h.call('POST', M('runs/log-batch'), { run_id: run, params: [{ key: 'p', value: 'a'.repeat(6000) }], metrics: [{ key: 'm', value: i, timestamp: 1 }] });
      assert.equal(res.status, 200);
      runId = run;
    }
  });
  after(async () => {
    assert.deepEqual(h.serverErrors, [], 'no request may answer 5xx');
    await h.close();
  });

  const search = (body: Obj) => h.call<{ runs?: unknown[]; error_code?: string; message?: string }>('POST', M('runs/search'), { experiment_ids: [exp], ...body });

  void test("LIKE '%a%a%a%a%b' over 6,000-character params answers in < 50 ms (a backtracking regex took 8 s on 200 characters)", async () => {
    const times: number[] = [];
    for (const [filter, want] of [
      ["params.p LIKE '%a%a%a%a%b'", 0],
      ["params.p ILIKE '%A%A%A%A%B'", 0],
      ["params.p LIKE '%a_a%a%a'", 20],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await search({ filter });
        times.push(performance.now() - t0);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.runs?.length ?? 0, want, filter);
      }
    }
    // best of three per pattern: the machine is shared, the claim is about the matcher
    const best = [0, 3, 6].map((i) => Math.min(...times.slice(i, i + 3)));
    console.log(`LIKE over 20 x 6,000 chars: best ${best.map((t) => t.toFixed(1)).join(' / ')} ms`);
    for (const t of best) assert.ok(t < 50, `search took ${t.toFixed(1)} ms`);
    assert.ok(runId);
  });
});
