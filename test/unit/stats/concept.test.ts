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

void test('ADWIN and Page–Hinkley restored from their state go on exactly as if never stopped', () => {
  const g = gaussian(7);
  const xs = Array.from({ length: 9000 }, (_, i) => g() + (i >= 6000 ? 0.5 : 0));
  const whole = new Adwin();
  for (const x of xs) whole.update(x);
  let part = new Adwin();
  const found: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    // Stopped every 700 observations, through JSON (as a monitor's stored state), and restored.
    if (i % 700 === 0) part = new Adwin({}, JSON.parse(JSON.stringify(part.state())) as ReturnType<Adwin['state']>);
    if (part.update(xs[i]!)) found.push(i);
  }
  assert.deepEqual(found, whole.detections);
  assert.ok(found.length > 0);
  assert.equal(part.width, whole.width);
  assert.equal(part.mean, whole.mean);
  const ph = new PageHinkley({ direction: 'up', threshold: 20 });
  let php = new PageHinkley({ direction: 'up', threshold: 20 });
  const phFound: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    ph.update(xs[i]!);
    if (i % 500 === 0) php = new PageHinkley({ direction: 'up', threshold: 20 }, JSON.parse(JSON.stringify(php.state())) as ReturnType<PageHinkley['state']>);
    if (php.update(xs[i]!)) phFound.push(i);
  }
  assert.deepEqual(phFound, ph.detections);
});

void test('ADWIN reports the split it found at a change: the older part before it, the newer one after', () => {
  const a = new Adwin();
  let cut: { before: { n: number; total: number }; after: { n: number; total: number } } | null = null;
  for (let i = 0; i < 4000; i++) if (a.update(i >= 2000 && i % 2 === 0 ? 1 : 0)) cut ??= a.lastCut;
  assert.ok(cut, 'a change found');
  const { before, after } = cut;
  assert.equal(before.total / before.n, 0, 'the part before the change is all 0');
  assert.ok(after.total / after.n > 0.2, `after mean ${after.total / after.n}`);
  assert.ok(before.n >= 1500 && before.n <= 2000, `split at ${before.n}`);
});
