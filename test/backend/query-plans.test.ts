import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Statement } from 'better-sqlite3';
import { harness } from '../helpers/app';

/**
 * The indexes are chosen for the queries the API runs: capture the SQL each call prepares and check SQLite's
 * plan for it. A full SCAN of a big table (runs, metrics, latest_metrics, params, tags, model_versions,
 * audit_log) would make that call O(store size).
 */
const BIG = ['runs', 'metrics', 'latest_metrics', 'params', 'tags', 'model_versions', 'audit_log', 'registered_model_aliases'];

void test('searches and lookups use indexes, not full scans', async () => {
  const h = await harness('memory');
  try {
    const db = h.app.ctx.db;
    const ctx = h.app.ctx;
    const exp = ctx.tracking.experiments.create('plans');
    const run = ctx.tracking.runs.create({ experimentId: exp });
    ctx.tracking.runs.logBatch(run.info.run_id, [{ key: 'rmse', value: 0.4, timestamp: 1, step: 0 }], [{ key: 'model', value: 'tree' }], [{ key: 'team', value: 'a' }]);
    ctx.registry.createModel('M', {}, { actor: 't' });
    ctx.registry.createVersion({ name: 'M', source: `runs:/${run.info.run_id}/model` }, { actor: 't' });
    ctx.registry.setAlias('M', 'champion', '1', { actor: 't' });
    db.exec('ANALYZE');

    const captured: string[] = [];
    const orig = db.prepare.bind(db);
    (db as { prepare: (sql: string) => Statement }).prepare = (sql: string) => {
      captured.push(sql);
      return orig(sql);
    };
    const check = (label: string, call: () => unknown) => {
      captured.length = 0;
      call();
      assert.ok(captured.length > 0, `${label}: no SQL captured`);
      for (const sql of captured) {
        if (/^\s*(INSERT|UPDATE|DELETE|EXPLAIN)/i.test(sql)) continue;
        const plan = (orig(`EXPLAIN QUERY PLAN ${sql}`).all(...Array((sql.match(/\?/g) ?? []).length).fill('x')) as { detail: string }[]).map((r) => r.detail);
        for (const step of plan) {
          const scanned = /^SCAN (\w+)/.exec(step)?.[1];
          assert.ok(!scanned || !BIG.includes(scanned), `${label}: full scan of ${scanned}\n${sql}\n${plan.join('\n')}`);
        }
      }
    };
    const rid = run.info.run_id;
    check('search by metric filter and order', () => ctx.tracking.search.search({ experimentIds: [exp], filter: 'metrics.rmse < 0.5', orderBy: ['metrics.rmse ASC'], maxResults: 100 }));
    check('search by param and tag', () => ctx.tracking.search.search({ experimentIds: [exp], filter: "params.model = 'tree' and tags.team = 'a'" }));
    check('default search order', () => ctx.tracking.search.search({ experimentIds: [exp], maxResults: 100 }));
    check('get run', () => ctx.tracking.runs.get(rid));
    check('metric history', () => ctx.tracking.runs.metricHistory(rid, 'rmse'));
    check('versions by name', () => ctx.registry.searchVersions({ filter: "name = 'M'" }));
    check('version by alias', () => ctx.registry.versionByAlias('M', 'champion'));
    check('registered model', () => ctx.registry.getModel('M'));
    check('audit by object', () => ctx.audit.list({ objectId: 'M@champion', objectType: 'alias' }));
    // metric history is read in key order: no sort step at all
    const histPlan = (orig('EXPLAIN QUERY PLAN SELECT key, value FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY timestamp, step, value').all('a', 'b') as { detail: string }[]).map((r) => r.detail);
    assert.ok(!histPlan.some((d) => d.includes('TEMP B-TREE')), histPlan.join('\n'));
  } finally {
    await h.close();
  }
});
