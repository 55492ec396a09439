import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../backend/src/core';
import { harness } from '../helpers/app';
import { registerOnnxModel, sampleRows } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';
import { cli, ensureBuilt } from '../integration/serving/proc';
import { mcnemar } from '../../backend/src/services/stats/paired';

interface Cmp {
  id: number;
  champion: { model: string; correct: number; accuracy: number };
  challenger: { model: string; correct: number; accuracy: number };
  rows: number;
  both_right: number;
  both_wrong: number;
  mcnemar: { b_only: number; a_only: number; p_exact: number; p_mid: number };
  bootstrap: { diff: number; lower: number; upper: number; resamples: number; seed: number };
  verdict: string;
  reason: string;
  data_sha256: string;
}

const champ = (x: number[]) => (x[0]! + x[1]! > x[2]! + x[3]! ? 1 : 0);
const chall = (x: number[]) => (x[0]! > x[2]! ? 1 : 0);

/** A holdout CSV: the four features and a `species` label from `rule`. */
function holdout(dir: string, name: string, rows: number[][], rule: (x: number[], i: number) => number): string {
  const file = join(dir, name);
  writeFileSync(file, `${FEATURES.join(',')},species\n${rows.map((r, i) => `${r.join(',')},${rule(r, i)}`).join('\n')}\n`);
  return file;
}

void test('champion vs challenger over /api/v1: real ONNX models on a labelled holdout, accuracies, McNemar, bootstrap and verdict', async () => {
  const h = await harness('memory');
  try {
    const ctx = h.app.ctx;
    const v1 = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
    const v2 = registerOnnxModel(ctx, 'iris', linearClassifier(CHALLENGER));
    const v3 = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
    ctx.registry.setAlias('iris', 'champion', v1, { actor: 'test' });
    const rows = sampleRows(3000, 5);
    const expect = (rule: (x: number[]) => number) => ({ a: rows.filter((r) => champ(r) === rule(r)).length, b: rows.filter((r) => chall(r) === rule(r)).length });

    // Labels follow the challenger's rule: it is right everywhere, the champion only where the rules agree.
    const good = holdout(h.home, 'good.csv', rows, chall);
    const r1 = await h.call<Cmp>('POST', '/api/v1/models/compare', { champion: 'iris@champion', challenger: `iris/${v2}`, data: good, label: 'species', margin: 0.01 });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    const e1 = expect(chall);
    assert.deepEqual([r1.body.rows, r1.body.champion.model, r1.body.champion.correct, r1.body.challenger.correct], [3000, 'iris/1', e1.a, 3000]);
    assert.equal(r1.body.mcnemar.b_only, 3000 - e1.a);
    assert.equal(r1.body.mcnemar.a_only, 0);
    assert.deepEqual(r1.body.mcnemar, mcnemar(3000 - e1.a, 0));
    assert.ok(r1.body.bootstrap.lower > 0 && r1.body.bootstrap.upper < 1);
    assert.equal(r1.body.bootstrap.diff, (3000 - e1.a) / 3000);
    assert.equal(r1.body.verdict, 'better');

    // Labels follow the champion's rule: the challenger is worse.
    const bad = holdout(h.home, 'bad.csv', rows, champ);
    const r2 = await h.call<Cmp>('POST', '/api/v1/models/compare', { champion: `iris/${v1}`, challenger: `iris/${v2}`, data: bad, label: 'species' });
    assert.equal(r2.body.verdict, 'worse', r2.body.reason);
    assert.equal(r2.body.challenger.correct, expect(champ).b);
    assert.ok(r2.body.bootstrap.upper < -0.01);

    // The same graph registered twice: never a discordant row, non-inferior at any margin.
    const r3 = await h.call<Cmp>('POST', '/api/v1/models/compare', { champion: `iris/${v1}`, challenger: `iris/${v3}`, data: bad, label: 'species', margin: 0 });
    assert.deepEqual([r3.body.mcnemar.b_only, r3.body.mcnemar.a_only, r3.body.bootstrap.lower, r3.body.bootstrap.upper, r3.body.verdict], [0, 0, 0, 0, 'non_inferior']);

    // 60 rows labelled half by each rule: too few discordant rows to tell.
    const few = holdout(h.home, 'few.csv', rows.slice(0, 60), (x, i) => (i % 2 ? champ(x) : chall(x)));
    const r4 = await h.call<Cmp>('POST', '/api/v1/models/compare', { champion: `iris/${v1}`, challenger: `iris/${v2}`, data: few, label: 'species' });
    assert.equal(r4.body.verdict, 'inconclusive', JSON.stringify(r4.body));

    // Deterministic: the same request gives the same numbers; the record can be read back.
    const again = await h.call<Cmp>('POST', '/api/v1/models/compare', { champion: 'iris@champion', challenger: `iris/${v2}`, data: good, label: 'species', margin: 0.01 });
    assert.deepEqual({ ...again.body, id: 0, created_at: 0 }, { ...r1.body, id: 0, created_at: 0 });
    const stored = await h.call<Cmp>('GET', `/api/v1/models/comparisons/${r1.body.id}`);
    assert.deepEqual(stored.body, r1.body);

    // Hostile input: 4xx in MLflow's shape, naming the problem.
    const wrongFeatures = join(h.home, 'wrong.csv');
    writeFileSync(wrongFeatures, 'sepal_length,colour,species\n1,2,1\n');
    const bads: [Record<string, unknown>, number, RegExp][] = [
      [{ champion: 'iris/1', challenger: 'iris/2', data: good }, 400, /no label column 'label'/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: 'good.csv', label: 'species' }, 400, /absolute path/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: join(h.home, 'nope.csv'), label: 'species' }, 400, /does not exist/],
      [{ champion: 'iris/1', challenger: 'iris/9', data: good, label: 'species' }, 404, /iris/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: holdout(h.home, 'x.csv', [[1, 2]], () => 1), label: 'species' }, 400, /not a readable CSV file: Invalid Record Length/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: wrongFeatures, label: 'species' }, 400, /rows 1-1 of .*missing feature\(s\) 'sepal_width'/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: good, label: 'species', margin: 2 }, 400, /margin/],
      [{ champion: 'iris/1', challenger: 'iris/2', data: '/etc/passwd', label: 'species' }, 400, /label column|CSV/],
    ];
    for (const [body, status, msg] of bads) {
      const r = await h.call<{ error_code: string; message: string }>('POST', '/api/v1/models/compare', body);
      assert.equal(r.status, status, `${JSON.stringify(body)} -> ${JSON.stringify(r.body)}`);
      assert.match(r.body.message, msg);
    }
    assert.equal((await h.call('GET', '/api/v1/models/comparisons/999')).status, 404);
    assert.deepEqual(h.serverErrors, []);
  } finally {
    await h.close();
  }
});

void test('mlops models compare prints both accuracies, the test and the verdict, and records the comparison', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-compare-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  registerOnnxModel(ctx, 'iris', linearClassifier(CHALLENGER));
  ctx.registry.setAlias('iris', 'champion', '1', { actor: 'test' });
  ctx.db.close();
  const rows = sampleRows(1000, 9);
  const data = holdout(home, 'holdout.csv', rows, chall);
  const r = await cli(home, 'models', 'compare', 'iris@champion', 'iris/2', '--data', data, '--label', 'species', '--margin', '0.02');
  assert.equal(r.code, 0, r.stderr);
  const a = rows.filter((x) => champ(x) === chall(x)).length;
  assert.match(r.stdout, new RegExp(`iris/1\\s+champion\\s+${a}/1000\\s+${((a / 1000) * 100).toFixed(2)} %`));
  assert.match(r.stdout, /iris\/2\s+challenger\s+1000\/1000\s+100\.00 %/);
  assert.match(r.stdout, /McNemar: \d+ rows only the challenger got right, 0 only the champion; exact p/);
  assert.match(r.stdout, /verdict: better \(margin 2\.00 pp, alpha 0\.05\)/);
  const json = await cli(home, 'models', 'compare', 'iris/1', 'iris/2', '--data', data, '--label', 'species', '--json');
  const c = JSON.parse(json.stdout) as Cmp;
  assert.deepEqual([c.id, c.rows, c.challenger.correct, c.verdict, c.bootstrap.resamples], [2, 1000, 1000, 'better', 2000]);
  const usage = await cli(home, 'models', 'compare', 'iris/1', 'iris/2', '--data', data, '--margin', 'x');
  assert.equal(usage.code, 2);
  const noLabel = await cli(home, 'models', 'compare', 'iris/1', 'iris/2', '--data', data);
  assert.equal(noLabel.code, 1);
  assert.match(noLabel.stderr, /no label column 'label'/);
});
