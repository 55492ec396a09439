import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  analyzeAb, chi2Contingency, chiSquareGoodnessOfFit, cohensD, holmBonferroni, meanDifferenceCI, percentiles,
  proportionDifferenceCI, proportionRelativeCI, relativeDifferenceCI, sampleSizeTwoProportions, studentTTest, summarize,
  twoProportionZTest, welchTTest, normalQuantile, tQuantile, tSf, chi2Sf,
} from '../../../backend/src/services/stats';
import type { MetricData } from '../../../backend/src/services/stats';
import { closeP, closeStat, ref } from './reference';

for (const c of ref.ttest) {
  void test(`t-tests, Cohen's d and intervals match scipy: ${c.name}`, () => {
    const t = summarize(c.treatment);
    const k = summarize(c.control);
    const w = welchTTest(t, k);
    closeStat(w.statistic, c.welch.statistic, 'welch t');
    closeStat(w.df, c.welch.df, 'welch df');
    closeP(w.pValue, c.welch.pvalue, 'welch p');
    const ci = meanDifferenceCI(t, k);
    closeStat(ci.lower, c.welch.ci[0], 'ci low');
    closeStat(ci.upper, c.welch.ci[1], 'ci high');
    const s = studentTTest(t, k);
    closeStat(s.statistic, c.student.statistic, 'student t');
    closeStat(s.df, c.student.df, 'student df');
    closeP(s.pValue, c.student.pvalue, 'student p');
    closeStat(cohensD(t, k), c.cohensD, "Cohen's d");
    const rel = relativeDifferenceCI(t, k)!;
    [rel.estimate, rel.lower, rel.upper].forEach((v, i) => closeStat(v, c.relative[i]!, `relative ${i}`));
  });
}

void test('chi2_contingency with and without Yates (capped correction) matches scipy', () => {
  for (const c of ref.contingency) {
    for (const [key, corr] of [['corrected', true], ['uncorrected', false]] as const) {
      const r = chi2Contingency(c.table, corr);
      closeStat(r.statistic, c[key].statistic, `${JSON.stringify(c.table)} ${key}`);
      closeP(r.pValue, c[key].pvalue, `${JSON.stringify(c.table)} ${key}`);
      assert.equal(r.dof, c[key].dof);
    }
  }
  assert.throws(() => chi2Contingency([[0, 0], [1, 2]]), /sums to zero/);
});

void test('two-proportion z-test and its interval match the formula evaluated by scipy', () => {
  for (const c of ref.proportions) {
    const t = { successes: c.treatment[0], n: c.treatment[1] };
    const k = { successes: c.control[0], n: c.control[1] };
    const z = twoProportionZTest(t, k);
    closeStat(z.statistic, c.z, 'z');
    closeP(z.pValue, c.pvalue, 'p');
    const ci = proportionDifferenceCI(t, k);
    closeStat(ci.lower, c.diffCi[0], 'low');
    closeStat(ci.upper, c.diffCi[1], 'high');
    const rel = proportionRelativeCI(t, k);
    if (c.relCi === null) assert.equal(rel, null);
    else [rel!.estimate, rel!.lower, rel!.upper].forEach((v, i) => closeStat(v, c.relCi![i]!, `relative ${i}`));
  }
});

void test('SRM goodness of fit matches scipy.stats.chisquare', () => {
  for (const c of ref.srm) {
    const r = chiSquareGoodnessOfFit(c.observed, c.shares);
    closeStat(r.statistic, c.statistic, 'srm chi2');
    closeP(r.pValue, c.pvalue, 'srm p');
  }
});

void test('sample size per arm, Holm–Bonferroni and percentiles match the reference', () => {
  for (const c of ref.sampleSize) assert.equal(sampleSizeTwoProportions(c.p1, c.p2, c.alpha, c.power), c.n);
  for (const c of ref.holm) holmBonferroni(c.p).forEach((v, i) => closeStat(v, c.adjusted[i]!, 'holm'));
  for (const c of ref.percentiles) Object.values(percentiles(c.values)).forEach((v, i) => closeStat(v, c.p[i]!, `percentile ${i}`));
  assert.throws(() => sampleSizeTwoProportions(0.1, 0.1), /must differ/);
});

void test('distribution functions match scipy', () => {
  for (const [p, x] of ref.special.normalPpf) closeStat(normalQuantile(p), x, `norm.ppf(${p})`);
  for (const [p, df, x] of ref.special.tPpf) closeStat(tQuantile(p, df), x, `t.ppf(${p}, ${df})`);
  for (const [x, df, p] of ref.special.tSf) closeStat(tSf(x, df), p, `t.sf(${x}, ${df})`);
  for (const [x, k, p] of ref.special.chi2Sf) closeStat(chi2Sf(x, k), p, `chi2.sf(${x}, ${k})`);
});

function metric(kind: MetricData['kind'], groups: Record<string, number[]>): MetricData {
  const variants = Object.keys(groups);
  const arm: number[] = [];
  const values: number[] = [];
  const longest = Math.max(...Object.values(groups).map((g) => g.length));
  for (let i = 0; i < longest; i++) {
    variants.forEach((v, k) => {
      const x = groups[v]![i];
      if (x !== undefined) {
        arm.push(k);
        values.push(x);
      }
    });
  }
  return { name: 'm', kind, variants, arm, values };
}

const wave = (n: number, shift: number) => Array.from({ length: n }, (_, i) => 10 + Math.sin(i * 1.7) * 2 + shift);

void test('verdicts: a clear win, no difference, and SRM override each give a reason', () => {
  const win = analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(500, 0.5) })]);
  assert.equal(win.comparisons[0]!.verdict, 'treatment wins');
  assert.match(win.comparisons[0]!.reason, /Welch's t-test p = .* < α = 0.05/);
  const lose = analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(500, -0.5) })]);
  assert.equal(lose.comparisons[0]!.verdict, 'control wins');
  const lowerBetter = analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(500, -0.5) })], { higherIsBetter: false });
  assert.equal(lowerBetter.comparisons[0]!.verdict, 'treatment wins');
  const none = analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(500, 0) })]);
  assert.equal(none.comparisons[0]!.verdict, 'inconclusive');
  const srm = analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(700, 0.5) })]);
  assert.equal(srm.srm.mismatch, true);
  assert.equal(srm.comparisons[0]!.verdict, 'inconclusive');
  assert.match(srm.comparisons[0]!.reason, /sample ratio mismatch/);
  assert.equal(analyzeAb([metric('continuous', { control: wave(500, 0), treatment: wave(700, 0.5) })], { split: { control: 5, treatment: 7 } }).srm.mismatch, false);
});

void test('binary metrics use the z-test and report chi-square with and without Yates; Holm spans arms', () => {
  const conv = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i < k ? 1 : 0));
  const r = analyzeAb([metric('binary', { control: conv(1000, 100), a: conv(1000, 150), b: conv(1000, 110) })]);
  assert.equal(r.comparisons.length, 2);
  const a = r.comparisons.find((c) => c.treatment === 'a')!;
  closeStat(a.chi2!.pearson.statistic, a.statistic ** 2, 'z² = Pearson chi2');
  assert.ok(a.chi2!.yates.statistic < a.chi2!.pearson.statistic);
  assert.deepEqual(r.comparisons.map((c) => c.adjustedPValue), holmBonferroni(r.comparisons.map((c) => c.pValue)));
  assert.equal(a.verdict, 'treatment wins');
  assert.equal(r.metrics[0]!.arms.find((x) => x.variant === 'a')!.conversions, 150);
});

void test('A/B input errors are clear', () => {
  assert.throws(() => analyzeAb([metric('continuous', { only: [1, 2, 3] })]), /at least two variants/);
  assert.throws(() => analyzeAb([metric('continuous', { a: [1, 2], b: [1, 2] })], { control: 'zzz' }), /control variant 'zzz' not found/);
  assert.throws(() => welchTTest(summarize([1]), summarize([1, 2])), /at least 2 observations/);
});
