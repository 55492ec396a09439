import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePageToken, encodePageToken, parseFilter, parseOrderBy } from '../../../backend/src/store/search/filter';
import { compileLike, likeMatches } from '../../../backend/src/store/search/like';
import { validateKey, parseMetricValue, parseInt64 } from '../../../backend/src/store/validation';

void test('parseFilter reads MLflow filter strings', () => {
  assert.deepEqual(parseFilter("metrics.rmse < 1 and params.model = 'tree'"), [
    { entity: 'metric', key: 'rmse', op: '<', value: 1 },
    { entity: 'param', key: 'model', op: '=', value: 'tree' },
  ]);
  assert.deepEqual(parseFilter('metrics.`f1 score` >= -1.5e-3'), [{ entity: 'metric', key: 'f1 score', op: '>=', value: -0.0015 }]);
  assert.deepEqual(parseFilter('tags."mlflow.runName" != "x"'), [{ entity: 'tag', key: 'mlflow.runName', op: '!=', value: 'x' }]);
  assert.deepEqual(parseFilter("attribute.run_id IN ('a', 'b')"), [{ entity: 'attribute', key: 'run_id', op: 'IN', value: ['a', 'b'] }]);
  assert.deepEqual(parseFilter("run.status NOT IN ('FAILED')"), [{ entity: 'attribute', key: 'status', op: 'NOT IN', value: ['FAILED'] }]);
  assert.deepEqual(parseFilter('params.alpha IS NULL AND tags.t IS NOT NULL'), [
    { entity: 'param', key: 'alpha', op: 'IS NULL', value: null },
    { entity: 'tag', key: 't', op: 'IS NOT NULL', value: null },
  ]);
  assert.deepEqual(parseFilter('metrics.val.loss <> 2'), [{ entity: 'metric', key: 'val.loss', op: '!=', value: 2 }]);
  assert.deepEqual(parseFilter('start_time >= .5'), [{ entity: 'attribute', key: 'start_time', op: '>=', value: 0.5 }]);
  assert.deepEqual(parseFilter(''), []);
  assert.deepEqual(parseFilter(undefined), []);
});

void test('parseFilter rejects what MLflow rejects, naming the problem', () => {
  const bad: [string, RegExp][] = [
    ["a = 1 OR b = 2", /OR is not supported/],
    ['metrics.x <', /expected a value/],
    ['foo.bar = 1', /invalid entity type 'foo'/],
    ["params.a = 'open", /unterminated quote/],
    ['metrics.a ~ 1', /unexpected character/],
    ["params.a IN 'x'", /expected '\('/],
    ['metrics.a = 1 metrics.b = 2', /expected AND/],
    ['params.a = bare', /quote strings/],
  ];
  for (const [f, msg] of bad) assert.throws(() => parseFilter(f), msg, f);
});

void test('order_by, page tokens and LIKE patterns', () => {
  assert.deepEqual(parseOrderBy(['metrics.rmse DESC', 'start_time', 'params.`a b` asc']), [
    { entity: 'metric', key: 'rmse', asc: false },
    { entity: 'attribute', key: 'start_time', asc: true },
    { entity: 'param', key: 'a b', asc: true },
  ]);
  assert.throws(() => parseOrderBy(['metrics.a', 'metrics.a DESC']), /more than once/);
  assert.equal(encodePageToken(1000), 'eyJvZmZzZXQiOjEwMDB9');
  assert.equal(decodePageToken('eyJvZmZzZXQiOiAxMDAwfQ=='), 1000, "the reference server's token decodes too");
  assert.equal(decodePageToken(undefined), 0);
  for (const t of ['x', Buffer.from('{"offset":-3}').toString('base64'), Buffer.from('{"offset":1.5}').toString('base64'), Buffer.from('[]').toString('base64')]) {
    assert.throws(() => decodePageToken(t), /Invalid page token/);
  }
  const like = (pattern: string, value: string, ci = false) => likeMatches(compileLike(pattern, ci), value);
  assert.ok(like('a%c_', 'abbbcd'));
  assert.ok(!like('A%', 'abc'));
  assert.ok(like('A%', 'abc', true));
  assert.ok(like('1.5%', '1.5x') && !like('1.5%', '105x'));
});

void test('keys, metric values and integers are validated as MLflow does', () => {
  for (const k of ['loss', 'val/loss', 'a b:c-d.e_f']) assert.equal(validateKey(k, 'Metric'), k);
  for (const k of ['/abs', 'a/../b', 'a//b', '.', 'a/./b', 'bad!', 'x'.repeat(251)]) assert.throws(() => validateKey(k, 'Metric'), /Invalid Metric key|limit is 250/, k);
  assert.ok(Number.isNaN(parseMetricValue('NaN')));
  assert.equal(parseMetricValue('Infinity'), Infinity);
  assert.equal(parseMetricValue('-Infinity'), -Infinity);
  assert.equal(parseMetricValue('2.5'), 2.5);
  assert.throws(() => parseMetricValue('abc'), /expected a number/);
  assert.throws(() => parseMetricValue(undefined), /Missing value/);
  assert.equal(parseInt64('123', 'step'), 123);
  assert.equal(parseInt64(undefined, 'step'), undefined);
  assert.throws(() => parseInt64('1.5', 'step'), /'step'/);
  assert.throws(() => parseInt64(-1, 'timestamp', { min: 0 }), /≥ 0/);
});
