import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { harness, M, TOKEN, type Harness } from '../helpers/app';
import { requests, type FuzzRequest, type Route } from '../helpers/fuzz-arbitraries';

/**
 * Property-based fuzzing of every route through app.inject() on a file database: hostile bodies, query strings,
 * path parameters, headers, page tokens, filters and artifact paths. No answer may be a 5xx (501 for multipart
 * upload is a deliberate answer), every 4xx has MLflow's error shape, and the store is consistent afterwards.
 * FUZZ_RUNS and FUZZ_SEED change the number of cases and the seed (printed, so a failure can be replayed).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 8000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);

/** Routes that never answer by design (an event stream) or that the serving tests own. */
const SKIP = [/^GET \/api\/v1\/events$/];

interface Live {
  exp: string;
  run: string;
  model: string;
  lm: string;
  art: string;
}

type Point = string;
const pointId = (run: string, key: string, step: number, ts: number, value: number): Point => `${run}|${key}|${step}|${ts}|${Number.isNaN(value) ? 'nan' : value}`;

/** The points a log-metric or log-batch request carried, parsed as the MLflow API defines them. */
function pointsOf(url: string, body: Record<string, unknown>): Point[] {
  const run = String(body.run_id ?? body.run_uuid);
  const num = (v: unknown, dflt?: number): number => {
    if (v === undefined || v === null || v === '') return dflt ?? NaN;
    if (typeof v === 'number') return v;
    const s = String(v);
    if (s === 'Infinity' || s === 'inf') return Infinity;
    if (s === '-Infinity' || s === '-inf') return -Infinity;
    return s === 'NaN' ? NaN : Number(s);
  };
  const list = url.endsWith('log-metric') ? [body] : ((body.metrics ?? []) as Record<string, unknown>[]);
  return list.map((m) => pointId(run, String(m.key), num(m.step, 0), num(m.timestamp), num(m.value)));
}

async function seed(h: Harness, n: number): Promise<Live> {
  const ok = async <T>(method: string, url: string, body: unknown): Promise<T> => {
    const res = await h.call<T>(method, url, body);
    assert.equal(res.status, 200, `${url}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const exp = (await ok<{ experiment_id: string }>('POST', M('experiments/create'), { name: `fuzz-${n}` })).experiment_id;
  const run = (await ok<{ run: { info: { run_id: string; artifact_uri: string } } }>('POST', M('runs/create'), { experiment_id: exp, start_time: 1 })).run.info;
  const model = `model-${n}`;
  await ok('POST', M('registered-models/create'), { name: model });
  await ok('POST', M('model-versions/create'), { name: model, source: run.artifact_uri, run_id: run.run_id });
  await ok('PUT', `/api/v1/models/${model}/gates`, { metrics: [{ metric: 'm', op: '>', value: 0 }], tags: [{ key: 'validated' }] });
  const lm = (await ok<{ model: { model_id: string } }>('POST', M('logged-models'), { experiment_id: exp, name: 'lm' })).model.model_id;
  // The artifact fixtures: a file, a directory, a dangling symlink and a symlink loop.
  const art = run.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
  const dir = join(h.home, 'artifacts', art);
  mkdirSync(join(dir, 'dir'), { recursive: true });
  writeFileSync(join(dir, 'file.txt'), 'hello');
  writeFileSync(join(dir, '日本.json'), '{}');
  rmSync(join(dir, 'dangling'), { force: true });
  rmSync(join(dir, 'loop'), { force: true });
  symlinkSync(join(dir, 'nowhere', 'x'), join(dir, 'dangling'));
  symlinkSync(join(dir, 'loop'), join(dir, 'loop'));
  return { exp, run: run.run_id, model, lm, art };
}

void test('fuzz: hostile requests on every route answer < 500, and the store stays consistent', { timeout: 600_000 }, async () => {
  const h = await harness('file');
  // The error behind each 5xx, for the failure report (the 500 body itself says only 'Internal error').
  let lastError = '';
  h.app.server.addHook('onError', async (_req, _reply, err) => {
    lastError = err.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err);
  });
  const routes: Route[] = h.app.routes.filter((r) => !SKIP.some((re) => re.test(`${r.method} ${r.url}`)));
  assert.ok(routes.length > 80, `only ${routes.length} routes registered`);
  const cases = fc.sample(requests(routes), { numRuns: RUNS, seed: SEED });
  const histogram = new Map<number, number>();
  const failures: string[] = [];
  const acked = new Set<Point>();
  let runsCreated = 0;
  let experimentsCreated = 0;
  let live = await seed(h, 0);
  runsCreated += 1;
  experimentsCreated += 1;
  const t0 = performance.now();
  for (const [i, c] of cases.entries()) {
    if (i > 0 && i % 500 === 0) {
      live = await seed(h, i);
      runsCreated += 1;
      experimentsCreated += 1;
    }
    // placeholders as written, or percent-encoded in a path or query string
    const sub = (s: string) => s.replace(/(?:\$|%24)(EXP|RUN|MODEL|LM|ART)/g, (_m, k: string) => live[({ EXP: 'exp', RUN: 'run', MODEL: 'model', LM: 'lm', ART: 'art' } as const)[k as 'EXP']]);
    const req: FuzzRequest = { ...c, url: sub(c.url), ...(c.payload !== undefined ? { payload: sub(c.payload) } : {}) };
    const res = await h.app.server.inject({ method: req.method as 'GET', url: req.url, headers: { authorization: `Bearer ${TOKEN}`, ...req.headers }, ...(req.payload !== undefined ? { payload: req.payload } : {}) });
    histogram.set(res.statusCode, (histogram.get(res.statusCode) ?? 0) + 1);
    const where = `#${i} ${req.method} ${req.url.slice(0, 300)} ${req.payload?.slice(0, 300) ?? ''} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
    if (res.statusCode >= 500 && res.statusCode !== 501) failures.push(`${where} [${lastError}]`);
    else if (res.statusCode >= 400 && !(res.headers['content-type'] ?? '').toString().startsWith('text/event-stream')) {
      const body = JSON.parse(res.body) as { error_code?: unknown; message?: unknown };
      if (typeof body.error_code !== 'string' || typeof body.message !== 'string') failures.push(`not MLflow's error shape: ${where}`);
    }
    const path = req.url.split('?', 1)[0]!;
    if (res.statusCode === 200 && req.method === 'POST') {
      if (/\/mlflow\/runs\/create$/.test(path)) runsCreated++;
      if (/\/mlflow\/experiments\/create$/.test(path)) experimentsCreated++;
      if (/\/mlflow\/runs\/log-(metric|batch)$/.test(path)) for (const p of pointsOf(path, JSON.parse(req.payload!) as Record<string, unknown>)) acked.add(p);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const hist = [...histogram.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ');
  console.log(`fuzz: ${cases.length} cases over ${routes.length} routes in ${seconds.toFixed(1)} s (seed ${SEED}); statuses ${hist}`);
  for (const f of failures.slice(0, 30)) console.log(`  ${f}`);

  // The store afterwards: intact, no dangling references, and exactly what was acknowledged.
  const db = h.app.ctx.db;
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  assert.equal((db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, runsCreated, 'runs in the store = runs/create answered 200');
  assert.equal((db.prepare('SELECT count(*) AS n FROM experiments').get() as { n: number }).n, experimentsCreated + 1, 'experiments = Default + acknowledged creates');
  const stored = new Set(
    (db.prepare('SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics').all() as { run_uuid: string; key: string; step: number; timestamp: number; value: number; is_nan: number }[]).map((m) =>
      pointId(m.run_uuid, m.key, m.step, m.timestamp, m.is_nan ? NaN : m.value),
    ),
  );
  assert.ok(acked.size > RUNS / 60, `only ${acked.size} metric points were acknowledged: the generator should log more`);
  assert.deepEqual([...acked].filter((p) => !stored.has(p)).slice(0, 5), [], 'every acknowledged metric point is stored');
  assert.deepEqual([...stored].filter((p) => !acked.has(p)).slice(0, 5), [], 'no point is stored that was not acknowledged');
  const badLatest = db
    .prepare(
      `SELECT l.run_uuid, l.key FROM latest_metrics l WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE m.run_uuid = l.run_uuid AND m.key = l.key
         AND m.step = l.step AND m.timestamp = l.timestamp AND m.is_nan = l.is_nan AND m.value = l.value)
       UNION ALL SELECT DISTINCT m.run_uuid, m.key FROM metrics m WHERE NOT EXISTS (SELECT 1 FROM latest_metrics l WHERE l.run_uuid = m.run_uuid AND l.key = m.key)`,
    )
    .all();
  assert.deepEqual(badLatest, [], 'latest_metrics holds one stored point for every (run, key) with points');
  await h.close();
  assert.deepEqual(failures.slice(0, 30), [], `${failures.length} of ${cases.length} requests answered 5xx or broke the error shape`);
});
