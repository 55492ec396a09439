import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UiTableColumns, UiTablePage } from '../../backend/src/api/v1/contract-table';
import { DB_KINDS, harness, M, type Harness } from '../helpers/app';

type Err = { error_code: string; message: string };

for (const kind of DB_KINDS) {
  void describe(`experiments table API /api/v1/ui/runs/table (${kind} database)`, () => {
    let h: Harness;
    let exp: string;
    let other: string;
    const ids: string[] = [];
    const table = (body: Record<string, unknown>) => h.call<UiTablePage & Err>('POST', '/api/v1/ui/runs/table', { experiment_ids: [exp], ...body });
    before(async () => {
      h = await harness(kind);
      exp = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'table' })).body.experiment_id;
      other = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'other' })).body.experiment_id;
      // r0..r5: rmse = 6 - i, lr alternating, opt adam for even i; r5's acc is NaN; r2 has a 2,000-character note.
      for (let i = 0; i < 6; i++) {
        const r = await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp, run_name: `r${i}`, start_time: 1000 + i });
        const id = r.body.run.info.run_id;
        ids.push(id);
        await h.call('POST', M('runs/log-batch'), {
          run_id: id,
          params: [{ key: 'lr', value: i % 2 ? '0.1' : '0.01' }, { key: 'opt', value: i % 2 ? 'sgd' : 'adam' }, ...(i === 2 ? [{ key: 'note', value: 'x'.repeat(2000) }] : [])],
          metrics: [
            { key: 'rmse', value: 6 - i, timestamp: 1, step: 0 },
            { key: 'acc', value: i === 5 ? 'NaN' : i / 10, timestamp: 1, step: 0 },
          ],
          tags: [{ key: 'team', value: i < 3 ? 'a' : 'b' }],
        });
      }
      const gone = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: exp, run_name: 'deleted', start_time: 2000 })).body.run.info.run_id;
      await h.call('POST', M('runs/log-batch'), { run_id: gone, params: [{ key: 'only_deleted', value: '1' }] });
      await h.call('POST', M('runs/delete'), { run_id: gone });
      const o = (await h.call<{ run: { info: { run_id: string } } }>('POST', M('runs/create'), { experiment_id: other, run_name: 'o0', start_time: 500 })).body.run.info.run_id;
      await h.call('POST', M('runs/log-batch'), { run_id: o, params: [{ key: 'depth', value: '3' }] });
    });
    after(async () => {
      assert.deepEqual(h.serverErrors, []);
      await h.close();
    });

    void test('a page: active runs newest first, only the asked columns, numbers for metrics, null where not logged or NaN', async () => {
      const r = await table({ columns: ['metrics.rmse', 'params.lr', 'tags.team', 'metrics.acc', 'params.missing'] });
      assert.equal(r.status, 200);
      assert.equal(r.body.total, 6);
      assert.deepEqual(r.body.columns, ['metrics.rmse', 'params.lr', 'tags.team', 'metrics.acc', 'params.missing']);
      assert.deepEqual(r.body.runs.map((x) => x.name), ['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
      assert.deepEqual(r.body.runs[0]!.values, [1, '0.1', 'b', null, null]);
      assert.deepEqual(r.body.runs[5]!.values, [6, '0.01', 'a', 0, null]);
      assert.equal(r.body.runs[0]!.run_id, ids[5]);
      assert.equal(r.body.runs[0]!.experiment_id, exp);
      assert.equal(r.body.next_page_token, undefined);
    });

    void test("MLflow's filter grammar and order_by, on the server", async () => {
      const r = await table({ filter: "metrics.rmse < 5 and params.opt = 'adam'", order_by: ['metrics.rmse ASC'], columns: ['metrics.rmse'] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.runs.map((x) => [x.name, x.values[0]]), [['r4', 2], ['r2', 4]]);
      assert.equal(r.body.total, 2);
      const byParam = await table({ order_by: ['params.lr DESC', 'attributes.run_name ASC'], columns: ['params.lr'] });
      assert.deepEqual(byParam.body.runs.map((x) => x.name), ['r1', 'r3', 'r5', 'r0', 'r2', 'r4']);
      const tagLike = await table({ filter: "tags.team LIKE 'b%' and attributes.status = 'RUNNING'" });
      assert.deepEqual(tagLike.body.runs.map((x) => x.name), ['r5', 'r4', 'r3']);
      assert.deepEqual(tagLike.body.runs[0]!.values, []);
      const both = await h.call<UiTablePage>('POST', '/api/v1/ui/runs/table', { experiment_ids: [exp, other], order_by: ['start_time ASC'] });
      assert.deepEqual(both.body.runs.map((x) => x.name), ['o0', 'r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    });

    void test('page tokens walk every matching run once, in order', async () => {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await table({ max_results: 4, order_by: ['metrics.rmse DESC'], ...(token ? { page_token: token } : {}) });
        assert.equal(r.status, 200);
        assert.equal(r.body.total, 6);
        seen.push(...r.body.runs.map((x) => x.name));
        token = r.body.next_page_token;
        pages++;
      } while (token);
      assert.equal(pages, 2);
      assert.deepEqual(seen, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    });

    void test('long text is cut to 500 characters; the cells of one page are bounded by shrinking the page', async () => {
      const r = await table({ filter: "attributes.run_name = 'r2'", columns: ['params.note'] });
      const v = r.body.runs[0]!.values[0] as string;
      assert.equal(v.length, 500);
      assert.ok(v.endsWith('…'));
      // 200 columns allow 1,250 rows a page; ask for 5,000 and the page is that size (here: all 6 runs fit).
      const cols = Array.from({ length: 200 }, (_, i) => `params.p${i}`);
      const wide = await table({ columns: cols, max_results: 5000 });
      assert.equal(wide.status, 200);
      assert.equal(wide.body.runs[0]!.values.length, 200);
    });

    void test('a page holds at most 250,000 cells: 200 columns shrink a 5,000-run page to 1,250, and paging goes on', async () => {
      const big = (await h.call<{ experiment_id: string }>('POST', M('experiments/create'), { name: 'wide' })).body.experiment_id;
      // Through the store the routes use (1,300 HTTP creates would take seconds on a loaded machine).
      const runs = h.app.ctx.tracking.runs;
      h.app.ctx.db.transaction(() => {
        for (let i = 0; i < 1300; i++) runs.create({ experimentId: big, runName: `w${i}`, startTime: i });
      })();
      const cols = Array.from({ length: 200 }, (_, i) => `metrics.m${i}`);
      const r = await h.call<UiTablePage>('POST', '/api/v1/ui/runs/table', { experiment_ids: [big], columns: cols, max_results: 5000 });
      assert.equal(r.body.runs.length, 1250);
      assert.equal(r.body.total, 1300);
      const rest = await h.call<UiTablePage>('POST', '/api/v1/ui/runs/table', { experiment_ids: [big], columns: cols, max_results: 5000, page_token: r.body.next_page_token });
      assert.equal(rest.body.runs.length, 50);
      assert.equal(rest.body.next_page_token, undefined);
    });

    void test('hostile or malformed input is a 400 in MLflow error shape, with the parser message', async () => {
      const bad = await table({ filter: 'metrics.rmse <' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(bad.body.message, /filter|Invalid|expected/i);
      const orFilter = await table({ filter: "params.lr = '1' OR params.lr = '2'" });
      assert.equal(orFilter.status, 400);
      assert.match(orFilter.body.message, /OR is not supported/);
      const col = await table({ columns: ['rmse'] });
      assert.equal(col.status, 400);
      assert.equal(col.body.message, "Invalid column 'rmse': use metrics.<key>, params.<key> or tags.<key>");
      const tooMany = await table({ columns: Array.from({ length: 201 }, (_, i) => `metrics.m${i}`) });
      assert.equal(tooMany.status, 400);
      const order = await table({ order_by: ['bogus.x'] });
      assert.equal(order.status, 400);
      assert.equal((await table({ page_token: 'not-a-token' })).status, 400);
      const notId = await h.call<Err>('POST', '/api/v1/ui/runs/table', { experiment_ids: ['abc'] });
      assert.deepEqual([notId.status, notId.body.error_code], [404, 'RESOURCE_DOES_NOT_EXIST']);
      assert.equal((await h.call('POST', '/api/v1/ui/runs/table', { experiment_ids: [] })).status, 400);
    });

    void test('columns: the keys the active runs logged, sorted, per entity', async () => {
      const r = await h.call<UiTableColumns>('POST', '/api/v1/ui/runs/table/columns', { experiment_ids: [exp] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { metrics: ['acc', 'rmse'], params: ['lr', 'note', 'opt'], tags: ['mlflow.runName', 'team'], truncated: false });
      const both = await h.call<UiTableColumns>('POST', '/api/v1/ui/runs/table/columns', { experiment_ids: [exp, other] });
      assert.deepEqual(both.body.params, ['depth', 'lr', 'note', 'opt']);
    });
  });
}
