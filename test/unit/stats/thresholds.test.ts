import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildReferenceProfile, chi2Quantile, currentColumns, DEFAULT_THRESHOLDS, driftReport, jsNullQuantile, psiNullQuantile,
} from '../../../backend/src/services/stats';
import type { DriftThresholds, RawColumn } from '../../../backend/src/services/stats';
import { mulberry32 } from '../../../backend/src/util/random';

// mulberry32 + Box–Muller: seeded, so every run checks the same 200 pairs.
function rng(seed: number): { uniform: () => number; normal: () => number } {
  // mulberry32's value moved half a step up, so it is never 0 (Box–Muller takes its log); same sequence as before.
  const next = mulberry32(seed);
  const uniform = () => next() + 2 ** -33;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

type G = ReturnType<typeof rng>;
const numeric = (g: G, n: number, shift = 0): RawColumn => ({ kind: 'numeric', values: Float64Array.from({ length: n }, () => shift + g.normal()), missing: 0 });
const categorical = (g: G, n: number): RawColumn => {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const u = g.uniform();
    const k = u < 0.5 ? 'a' : u < 0.8 ? 'b' : 'c';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return { kind: 'categorical', counts, missing: 0 };
};

function check(ref: RawColumn, cur: RawColumn, t: Partial<DriftThresholds> = {}) {
  const report = driftReport(buildReferenceProfile(new Map([['f', ref]]), Infinity), currentColumns(new Map([['f', cur]])), t);
  const f = report.features[0]!;
  return { drift: f.drift, m: Object.fromEntries(f.methods.map((x) => [x.method, x])) };
}

void test('chi-square quantiles match the tables (scipy.stats.chi2.ppf)', () => {
  assert.ok(Math.abs(chi2Quantile(0.99, 9) - 21.665994) < 1e-5);
  assert.ok(Math.abs(chi2Quantile(0.99, 2) - 9.210340) < 1e-5);
  assert.ok(Math.abs(chi2Quantile(0.95, 1) - 3.841459) < 1e-5);
});

void test('null quantiles shrink as 1/n (PSI) and 1/√n (JS)', () => {
  assert.ok(Math.abs(psiNullQuantile(10, 200, 200) - 21.665994 * 0.01) < 1e-6);
  assert.ok(Math.abs(jsNullQuantile(10, 200, 200) - Math.sqrt((21.665994 * 0.01) / (8 * Math.LN2))) < 1e-6);
  assert.equal(psiNullQuantile(1, 10, 10), 0);
  assert.ok(Math.abs(jsNullQuantile(10, 800, 800) * 2 - jsNullQuantile(10, 200, 200)) < 1e-9);
});

void test('for large batches the thresholds are the configured floors', () => {
  const g = rng(1);
  const num = check(numeric(g, 5000), numeric(g, 5000));
  for (const [k, floor] of [['psi', DEFAULT_THRESHOLDS.psi], ['wasserstein_norm', DEFAULT_THRESHOLDS.wassersteinNorm], ['jensen_shannon', DEFAULT_THRESHOLDS.jensenShannon]] as const) {
    assert.equal(num.m[k]!.threshold, floor, k);
    assert.equal(num.m[k]!.floor, floor, k);
  }
  const cat = check(categorical(g, 2000), categorical(g, 2000));
  assert.equal(cat.m.psi!.threshold, DEFAULT_THRESHOLDS.psi);
  assert.equal(cat.m.jensen_shannon!.threshold, DEFAULT_THRESHOLDS.jensenShannon);
});

void test('for small batches the report shows the raised threshold it used, and a custom floor still holds', () => {
  const g = rng(2);
  const { m } = check(numeric(g, 200), numeric(g, 200));
  assert.ok(m.wasserstein_norm!.threshold > 0.2, `wasserstein threshold ${m.wasserstein_norm!.threshold}`);
  assert.ok(m.jensen_shannon!.threshold > 0.19, `js threshold ${m.jensen_shannon!.threshold}`);
  assert.equal(m.jensen_shannon!.floor, 0.1);
  const strict = check(numeric(g, 200), numeric(g, 200), { wassersteinNorm: 0.5 });
  assert.equal(strict.m.wasserstein_norm!.threshold, 0.5);
  const fixed = check(numeric(g, 200), numeric(g, 200), { sampleSizeAware: false });
  assert.equal(fixed.m.jensen_shannon!.threshold, 0.1);
  assert.equal(fixed.m.psi!.threshold, 0.2);
});

void test('200 no-change pairs at n = 200 per side: ≤ 5% ensemble false alarms (fixed thresholds: > 30%)', () => {
  const PAIRS = 200;
  let aware = 0;
  let fixed = 0;
  let cat = 0;
  for (let r = 0; r < PAIRS; r++) {
    const g = rng(1000 + r);
    const ref = numeric(g, 200);
    const cur = numeric(g, 200);
    if (check(ref, cur).drift) aware++;
    if (check(ref, cur, { sampleSizeAware: false }).drift) fixed++;
    if (check(categorical(g, 200), categorical(g, 200)).drift) cat++;
  }
  assert.ok(aware / PAIRS <= 0.05, `numeric false alarms ${aware}/${PAIRS}`);
  assert.ok(cat / PAIRS <= 0.05, `categorical false alarms ${cat}/${PAIRS}`);
  assert.ok(fixed / PAIRS > 0.3, `fixed-threshold false alarms ${fixed}/${PAIRS}: the test would not see the problem`);
});

void test('a real shift at n = 200 is still flagged (mean shift 0.5σ)', () => {
  let hits = 0;
  for (let r = 0; r < 50; r++) {
    const g = rng(5000 + r);
    if (check(numeric(g, 200), numeric(g, 200, 0.5)).drift) hits++;
  }
  assert.ok(hits >= 45, `detected ${hits}/50`);
});
