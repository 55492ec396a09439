import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ColumnCollector, ksPValue, parseCell } from '../../../backend/src/services/stats';

void test('cells: missing tokens, numbers, infinities and text', () => {
  for (const s of ['', ' ', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']) assert.equal(parseCell(s).kind, 'missing', s);
  assert.deepEqual(parseCell(' -1.5e3 '), { kind: 'number', value: -1500 });
  assert.deepEqual(parseCell('.5'), { kind: 'number', value: 0.5 });
  for (const s of ['inf', '-Infinity', '1e999']) assert.equal(parseCell(s).kind, 'infinite', s);
  for (const s of ['0x10', '1,5', 'abc', '1e']) assert.equal(parseCell(s).kind, 'text', s);
});

void test('a reference column turns categorical at its first text value; the current keeps the reference types', () => {
  const ref = new ColumnCollector('ref.csv', ['n', 'c'], undefined, new Set());
  ref.add(['1', '7'], 2);
  ref.add(['', 'x'], 3);
  ref.add(['2.5', '7'], 4);
  const cols = ref.columns();
  assert.deepEqual(cols.get('n'), { kind: 'numeric', values: Float64Array.from([1, 2.5]), missing: 1 });
  const c = cols.get('c')!;
  assert.equal(c.kind, 'categorical');
  assert.deepEqual(c.kind === 'categorical' && [...c.counts], [['7', 2], ['x', 1]]);
  const types = new Map([['n', 'numeric' as const], ['c', 'categorical' as const]]);
  const cur = new ColumnCollector('cur.csv', ['n', 'c'], types);
  cur.add(['3', '9'], 2);
  assert.throws(() => cur.add(['oops', '9'], 3), /cur\.csv: line 3, feature 'n': 'oops' is not a number/);
  assert.throws(() => cur.add(['1'], 4), /line 4 has 1 fields but the header has 2/);
  assert.throws(() => new ColumnCollector('f.csv', ['a', 'a']), /column 'a' appears twice/);
  assert.throws(() => new ColumnCollector('f.csv', ['a', '']), /column 2 of the header row has no name/);
});

void test('the exact KS pass is skipped only where its tail is below 1e-10', () => {
  const far = ksPValue(10_000, 10_000, 0.5 * 1e8);
  assert.equal(far.method, 'asymptotic');
  assert.ok(far.pValue < 1e-10);
  assert.equal(ksPValue(10_000, 10_000, 0.01 * 1e8).method, 'exact');
});
