import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Adwin, PageHinkley, SequentialTest, msprtLook } from '../../../backend/src/services/stats';

function gaussian(seed: number): () => number {
  let s = seed;
  const u = () => (s = (s * 48271) % 2147483647) / 2147483647;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

void test('ADWIN (δ = 0.002) raises no alarm on stationary streams', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const g = gaussian(seed);
    const a = new Adwin();
    for (let i = 0; i < 20_000; i++) a.update(g());
    assert.deepEqual(a.detections, [], `seed ${seed}`);
    assert.equal(a.width, 20_000);
  }
});

void test('ADWIN detects a mean shift soon after it happens and forgets the old data', () => {
  const g = gaussian(11);
  const a = new Adwin();
  for (let i = 0; i < 6000; i++) a.update(g() + (i >= 3000 ? 1 : 0));
  const first = a.detections[0]!;
  assert.ok(first >= 3000 && first < 3200, `first detection at ${first}`);
  assert.ok(a.width <= 3100, `window ${a.width}`);
  assert.ok(Math.abs(a.mean - 1) < 0.1);
});

void test('Page–Hinkley detects an upward and a downward shift', () => {
  for (const shift of [3, -3]) {
    const g = gaussian(5);
    const p = new PageHinkley({ threshold: 50 });
    const hits: number[] = [];
    for (let i = 0; i < 1000; i++) if (p.update(g() + (i >= 500 ? shift : 0))) hits.push(i);
    assert.ok(hits.length >= 1 && hits[0]! >= 500 && hits[0]! < 560, `shift ${shift}: ${hits.join(',')}`);
  }
  assert.throws(() => new PageHinkley().update(NaN), /not a finite number/);
});

void test('mSPRT: Λ and the confidence-sequence radius agree (p ≤ α exactly when 0 leaves the interval)', () => {
  for (const diff of [0.01, 0.05, 0.1, 0.2]) {
    const { lambda, radius } = msprtLook(diff, 0.002, 0.0004, 0.05);
    assert.equal(1 / lambda <= 0.05, Math.abs(diff) > radius, `diff ${diff}`);
  }
});

void test('the sequential test rejects a real effect and its p-value never increases', () => {
  const g = gaussian(9);
  const s = new SequentialTest();
  let last = 1;
  for (let i = 0; i < 20_000; i++) {
    s.add((i % 2) as 0 | 1, g() + (i % 2 ? 0.1 : 0));
    const p = s.state().pValue;
    assert.ok(p <= last);
    last = p;
  }
  const st = s.state();
  assert.ok(st.rejectedAt !== null && st.pValue < 0.05);
  assert.ok(st.runningInterval[0] > 0 && st.runningInterval[0] <= 0.1 && st.runningInterval[1] >= 0.1);
});
