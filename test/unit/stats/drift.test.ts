import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildReferenceProfile, currentColumns, decileEdges, driftReport, jensenShannon, parseProfile, psiFromCounts,
  quantileSketch, serializeProfile, sortedCopy, wassersteinSorted, ks2Samp, StatsInputError,
} from '../../../backend/src/services/stats';
import type { RawColumn } from '../../../backend/src/services/stats';
import { closeP, closeStat, ref } from './reference';

const num = (values: number[], missing = 0): RawColumn => ({ kind: 'numeric', values, missing });
const cat = (counts: Record<string, number>, missing = 0): RawColumn => ({ kind: 'categorical', counts: new Map(Object.entries(counts)), missing });

for (const c of ref.numericDrift) {
  void test(`numeric drift methods match numpy/scipy: ${c.name}`, () => {
    const r = sortedCopy(c.reference);
    const cur = sortedCopy(c.current);
    decileEdges(r).forEach((e, i) => closeStat(e, c.deciles[i]!, `decile ${i + 1}`));
    closeStat(wassersteinSorted(r, cur), c.wasserstein, 'wasserstein');
    const report = driftReport(buildReferenceProfile(new Map([['x', num(c.reference)]]), Infinity), currentColumns(new Map([['x', num(c.current)]])));
    const m = Object.fromEntries(report.features[0]!.methods.map((x) => [x.method, x]));
    closeStat(m.psi!.score, c.psi, 'psi');
    closeStat(m.wasserstein_norm!.score, c.wassersteinNorm, 'wasserstein_norm');
    closeStat(m.jensen_shannon!.score, c.jensenShannon, 'jensen_shannon');
    const ks = ks2Samp(c.reference, c.current);
    closeStat(m.ks!.score, ks.statistic, 'ks D');
    assert.equal(m.ks!.pValue, ks.pValue);
  });
}

for (const c of ref.categoricalDrift) {
  void test(`categorical drift methods match scipy: ${c.name}`, () => {
    const report = driftReport(buildReferenceProfile(new Map([['c', cat(c.reference)]])), currentColumns(new Map([['c', cat(c.current)]])));
    const m = Object.fromEntries(report.features[0]!.methods.map((x) => [x.method, x]));
    closeStat(m.psi!.score, c.psi, 'psi');
    closeStat(m.jensen_shannon!.score, c.jensenShannon, 'js');
    closeStat(m.chi2!.score, c.chi2, 'chi2');
    closeP(m.chi2!.pValue!, c.chi2PValue, 'chi2 p');
  });
}

void test('PSI replaces zero proportions by 1e-4 and JS of identical histograms is 0', () => {
  const expected = (0.5 - 1e-4) * Math.log(0.5 / 1e-4) + (1e-4 - 0.5) * Math.log(1e-4 / 0.5);
  closeStat(psiFromCounts([1, 1, 0], [1, 0, 1]), expected, 'psi');
  assert.equal(jensenShannon([3, 4], [6, 8]), 0);
});

void test('unseen categories are listed and count towards drift', () => {
  const report = driftReport(buildReferenceProfile(new Map([['c', cat({ a: 100 })]])), currentColumns(new Map([['c', cat({ a: 50, b: 50 })]])));
  assert.deepEqual(report.features[0]!.unseenCategories, ['b']);
  assert.equal(report.features[0]!.drift, true);
});

void test('the ensemble needs two votes; the dataset verdict uses the drifted share', () => {
  const a = Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const shifted = a.map((v) => v + 0.5);
  const refCols = new Map([['same', num(a)], ['moved', num(a)], ['also_same', num(a)]]);
  const curCols = new Map([['same', num(a)], ['moved', num(shifted)], ['also_same', num(a.slice(0, 1500))]]);
  const r = driftReport(buildReferenceProfile(refCols), currentColumns(curCols));
  assert.deepEqual(r.features.map((f) => f.drift), [false, true, false]);
  assert.equal(r.driftedShare, 1 / 3);
  assert.equal(r.drift, false);
  assert.equal(driftReport(buildReferenceProfile(refCols), currentColumns(curCols), { datasetShare: 0.3 }).drift, true);
  const bonf = driftReport(buildReferenceProfile(refCols), currentColumns(curCols), { bonferroni: true });
  assert.equal(bonf.features[0]!.methods.find((m) => m.method === 'ks')!.threshold, 0.05 / 3);
});

void test('features on one side only, or without values, are skipped with a reason', () => {
  const r = driftReport(
    buildReferenceProfile(new Map([['only_ref', num([1, 2])], ['empty_cur', num([1, 2])], ['empty_ref', num([])]])),
    currentColumns(new Map([['only_cur', num([1])], ['empty_cur', num([], 5)], ['empty_ref', num([1])]])),
  );
  assert.deepEqual(r.features, []);
  assert.deepEqual(r.skipped.map((s) => `${s.feature}: ${s.reason}`).sort(), [
    'empty_cur: no values in the current data', 'empty_ref: no values in the reference',
    'only_cur: missing from the reference', 'only_ref: missing from the current data',
  ]);
  assert.equal(r.drift, false);
});

void test('non-finite values are rejected naming the feature', () => {
  assert.throws(() => buildReferenceProfile(new Map([['age', num([1, NaN])]])), (e: Error) => e instanceof StatsInputError && /feature 'age'/.test(e.message));
  assert.throws(() => currentColumns(new Map([['x', num([Infinity])]])), /feature 'x'.*Infinity/);
});

void test('all-equal samples give finite scores (normalising std floored at 1e-3)', () => {
  const r = driftReport(buildReferenceProfile(new Map([['k', num([3, 3, 3])]])), currentColumns(new Map([['k', num([3, 3])]])));
  for (const m of r.features[0]!.methods) assert.ok(Number.isFinite(m.score), m.method);
  assert.equal(r.features[0]!.drift, false);
});

void test('the sketch keeps KS within 1/m and Wasserstein within range/m of the exact values', () => {
  let s = 7;
  const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647);
  const refVals = Array.from({ length: 50_000 }, () => Math.log(rnd()) * -2);
  const curVals = Array.from({ length: 3_000 }, () => Math.log(rnd()) * -2.2 + 0.05);
  const m = 512;
  const sorted = sortedCopy(refVals);
  const sketch = quantileSketch(sorted, m);
  const cur = sortedCopy(curVals);
  const exact = ks2Samp(refVals, curVals).statistic;
  const approx = ks2Samp(sketch, curVals).statistic;
  assert.ok(Math.abs(exact - approx) < 1 / m, `KS ${exact} vs ${approx}`);
  const range = sorted[sorted.length - 1]! - sorted[0]!;
  assert.ok(Math.abs(wassersteinSorted(sorted, cur) - wassersteinSorted(sketch, cur)) <= range / m);
});

void test('profiles round-trip through JSON and a sketch-based check agrees with the exact one', () => {
  const vals = Array.from({ length: 5000 }, (_, i) => Math.sqrt(i) % 7);
  const cur = new Map([['v', num(vals.map((v) => v * 1.1))], ['c', cat({ x: 3, y: 9 })]]);
  const refCols = new Map([['v', num(vals)], ['c', cat({ x: 5, y: 5 })]]);
  const profile = parseProfile(serializeProfile(buildReferenceProfile(refCols, 256)));
  const viaSketch = driftReport(profile, currentColumns(cur));
  const exact = driftReport(buildReferenceProfile(refCols, Infinity), currentColumns(cur));
  assert.deepEqual(viaSketch.features.map((f) => f.drift), exact.features.map((f) => f.drift));
  const psi = (r: typeof exact) => r.features[0]!.methods[0]!.score;
  assert.equal(psi(viaSketch), psi(exact));
  assert.throws(() => parseProfile('{"format":"x"}'), /not an mlops reference profile/);
  assert.throws(() => parseProfile('nope'), /not valid JSON/);
});
