// The O(n) check of an unsorted batch against a profile (bucketed.ts) must give what the sorted merge gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildReferenceProfile, compareToSketch, countsBetweenEdges, driftReport, ksAndWasserstein, numericProfile, numericProfileUnsorted,
  ksStatisticSorted, quickselect, sortedCopy,
} from '../../../backend/src/services/stats';
import type { CurrentColumn, NumericProfile } from '../../../backend/src/services/stats';
import { closeStat } from './reference';

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

type Gen = (r: () => number) => number;
const shapes: Record<string, Gen> = {
  normal: (r) => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()),
  ties: (r) => Math.floor(r() * 6),
  heavy: (r) => 1 / (r() - 0.5),
  halfTies: (r) => (r() < 0.5 ? 0 : r()),
  constant: () => 3,
};

function check(refVals: number[], curVals: number[], label: string): void {
  const edges = [-1, 0, 0.5, 1, 3, 3.5];
  for (const sketch of [Infinity, 64]) {
    const refSorted = sortedCopy(refVals);
    const points = Number.isFinite(sketch) ? (buildReferenceProfile(new Map([['x', { kind: 'numeric', values: refVals, missing: 0 }]]), sketch).features.x as NumericProfile).sketch.points : refSorted;
    const cur = Float64Array.from(curVals);
    const got = compareToSketch(points, cur, edges);
    const curSorted = sortedCopy(curVals);
    const want = ksAndWasserstein(points, curSorted);
    const what = `${label}, sketch ${sketch}`;
    assert.equal(got.h, want.h, `${what}: KS gap`);
    if (want.wasserstein === 0) assert.ok(Math.abs(got.wasserstein) < 1e-12, `${what}: Wasserstein ${got.wasserstein}`);
    else closeStat(got.wasserstein, want.wasserstein, `${what}: Wasserstein`);
    const bins = countsBetweenEdges(curSorted, edges);
    assert.deepEqual(got.below, bins.slice(0, -1).map((_, i) => bins.slice(0, i + 1).reduce((a, b) => a + b, 0)), `${what}: counts below edges`);
    assert.deepEqual(Array.from(cur), curVals, `${what}: the caller's values are left as they were`);
  }
}

void test('unsorted batches give the sorted merge\'s KS gap, Wasserstein and bin counts (ties, tails, constants)', () => {
  const r = lcg(11);
  for (const [rs, refShape] of Object.entries(shapes)) {
    for (const [cs, curShape] of Object.entries(shapes)) {
      for (const [n, m] of [[1, 1], [7, 300], [500, 40], [3000, 3000]] as const) {
        const shift = r() < 0.5 ? 0 : 0.7;
        check(Array.from({ length: n }, () => refShape(r)), Array.from({ length: m }, () => curShape(r) + shift), `${rs} ${n} vs ${cs} ${m}`);
      }
    }
  }
});

void test('current values equal to reference values and outside its range are placed exactly', () => {
  const ref = [1, 2, 2, 3, 5, 8, 13];
  check(ref, [0, 1, 1, 2, 4, 5, 13, 13, 20], 'on the points');
  check(ref, [-5, -4], 'all below');
  check(ref, [100, 200, 200], 'all above');
  check([1e-310, 2e-310], [1.5e-310, 1e-310], 'denormal span');
});

void test('driftReport gives the same report for a batch in any order and the same batch sorted', () => {
  const r = lcg(5);
  // 70,000 reference values: the exact profile takes the sort-and-merge path, the sketch the bucketed one.
  const ref = Array.from({ length: 70_000 }, () => shapes.normal!(r));
  const cur = Array.from({ length: 5_000 }, () => shapes.normal!(r) * 1.1 + 0.05);
  for (const sketch of [Infinity, 2048]) {
    const profile = buildReferenceProfile(new Map([['x', { kind: 'numeric', values: ref, missing: 0 }]]), sketch);
    const a = driftReport(profile, new Map<string, CurrentColumn>([['x', { kind: 'numeric', values: Float64Array.from(cur), missing: 0 }]]));
    const b = driftReport(profile, new Map<string, CurrentColumn>([['x', { kind: 'numeric', sorted: sortedCopy(cur), missing: 0 }]]));
    const fa = a.features[0]!;
    const fb = b.features[0]!;
    assert.equal(fa.drift, fb.drift);
    fa.methods.forEach((m, i) => {
      closeStat(m.score, fb.methods[i]!.score, `${m.method} (sketch ${sketch})`);
      assert.equal(m.pValue, fb.methods[i]!.pValue, `${m.method} p`);
    });
  }
});

void test('the sorted merge finds the KS gap scipy\'s way when ties meet the end of a sample', () => {
  const r = lcg(23);
  const cases: [number[], number[]][] = [[[5], [5, 6]], [[5, 6], [5]], [[1, 2, 2], [2, 2, 3]], [[0, 0], [0]]];
  for (let k = 0; k < 300; k++) {
    const len = () => 1 + Math.floor(r() * 12);
    cases.push([Array.from({ length: len() }, () => Math.floor(r() * 4)), Array.from({ length: len() }, () => Math.floor(r() * 4))]);
  }
  for (const [a, b] of cases) {
    const sa = sortedCopy(a);
    const sb = sortedCopy(b);
    assert.equal(ksAndWasserstein(sa, sb).h, ksStatisticSorted(sa, sb).h, `${a} vs ${b}`);
    assert.equal(compareToSketch(sa, Float64Array.from(b), []).h, ksStatisticSorted(sa, sb).h, `${a} vs ${b} (bucketed)`);
  }
});

void test('quickselect puts the k-th smallest at k with smaller values before and larger after', () => {
  const r = lcg(3);
  for (const len of [1, 2, 3, 10, 101, 1000]) {
    for (const ties of [false, true]) {
      const a = Float64Array.from({ length: len }, () => (ties ? Math.floor(r() * 4) : r()));
      const s = Float64Array.from(a).sort();
      const k = Math.floor(r() * len);
      quickselect(a, 0, len - 1, k);
      assert.equal(a[k], s[k]);
      for (let i = 0; i < len; i++) assert.ok(i < k ? a[i]! <= a[k]! : a[i]! >= a[k]!);
    }
  }
});

void test('a profile built by selecting ranks equals the one built from the sorted sample', () => {
  const r = lcg(17);
  const n = 60_000;
  const cases: Record<string, () => Float64Array> = {
    normal: () => Float64Array.from({ length: n }, () => shapes.normal!(r) * 2 + 7),
    ties: () => Float64Array.from({ length: n }, () => shapes.ties!(r) + 1),
    heavy: () => Float64Array.from({ length: n }, () => shapes.heavy!(r)),
    'one value and outliers': () => Float64Array.from({ length: n }, (_, i) => (i % 1000 === 0 ? i : 5)),
    'sorted input': () => Float64Array.from({ length: n }, () => shapes.normal!(r)).sort(),
    'reversed input': () => Float64Array.from({ length: n }, () => shapes.normal!(r)).sort().reverse(),
  };
  for (const [name, make] of Object.entries(cases)) {
    for (const m of [512, 2048]) {
      const values = make();
      const copy = values.slice();
      const got = numericProfileUnsorted(values, 3, m);
      const want = numericProfile(sortedCopy(values), 3, m);
      assert.deepEqual(values, copy, `${name}: values left as they were`);
      const { mean, std, sketch, ...rest } = got;
      const { mean: wm, std: ws, sketch: wsk, ...wrest } = want;
      assert.deepEqual(rest, wrest, `${name}, m = ${m}`);
      assert.deepEqual(Array.from(sketch.points), Array.from(wsk.points), `${name}, m = ${m}: sketch`);
      assert.equal(sketch.exact, wsk.exact);
      closeStat(mean, wm, `${name}: mean`);
      closeStat(std, ws, `${name}: std`);
    }
  }
  const big = Float64Array.from({ length: 120_000 }, () => shapes.normal!(r));
  const viaBuild = buildReferenceProfile(new Map([['x', { kind: 'numeric', values: big, missing: 0 }]])).features.x as NumericProfile;
  assert.deepEqual(viaBuild.deciles, numericProfile(sortedCopy(big), 0).deciles, 'buildReferenceProfile on a column large enough to select gives the same deciles');
});
