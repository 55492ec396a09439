import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, parseExpr, renderTemplate, ExprError } from '../../../backend/src/services/pipelines/expr';

const scope = { params: { min_accuracy: '0.9', name: 'iris' }, steps: { evaluate: { status: 'finished', metrics: { accuracy: 0.93 }, outputs: { passed: true } } } };
const ev = (src: string) => evaluate(parseExpr(src), scope);

void test('comparisons coerce numeric strings, booleans combine', () => {
  assert.equal(ev('steps.evaluate.metrics.accuracy >= params.min_accuracy'), true);
  assert.equal(ev('steps.evaluate.metrics.accuracy < 0.9 || !steps.evaluate.outputs.passed'), false);
  assert.equal(ev("steps.evaluate.status == 'finished' and params.name != 'x'"), true);
  assert.equal(ev('not (1 > 2)'), true);
  assert.equal(ev('(1 > 2) || (2 >= 2 && 3 <= 3)'), true);
});

void test('syntax errors name the column; unset references name the path', () => {
  assert.throws(() => parseExpr('steps.evaluate.metrics.accuracy >= '), /ends too early/);
  assert.throws(() => parseExpr('a >= 1 1'), /unexpected '1' at column 8/);
  assert.throws(() => parseExpr('a $ b'), /unexpected '\$' at column 3/);
  assert.throws(() => parseExpr("a == 'open"), /unterminated string/);
  assert.throws(() => parseExpr(''), /empty/);
  assert.throws(() => ev('steps.evaluate.metrics.f1 > 0'), (e: Error) => e instanceof ExprError && /steps.evaluate.metrics.f1 is not set/.test(e.message));
  assert.throws(() => ev("params.name < 3 && 'a' < true"), /cannot compare/);
});

void test('templates render values into strings', () => {
  assert.equal(renderTemplate('--min ${{ params.min_accuracy }} --acc=${{steps.evaluate.metrics.accuracy}}', scope), '--min 0.9 --acc=0.93');
  assert.equal(renderTemplate('no templates', scope), 'no templates');
});
