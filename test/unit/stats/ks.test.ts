import { test } from 'node:test';
import { ks2Samp } from '../../../backend/src/services/stats/ks';
import { kstwoSf, durbinCdf, pelzGoodSf } from '../../../backend/src/services/stats/kolmogorov';
import assert from 'node:assert/strict';
import { closeP, closeStat, ref } from './reference';

for (const c of ref.ks2samp) {
  void test(`ks_2samp matches scipy: ${c.name} (n=${c.a.length},${c.b.length})`, () => {
    const r = ks2Samp(c.a, c.b);
    closeStat(r.statistic, c.statistic, 'D');
    closeP(r.pValue, c.pvalue, 'p');
  });
}

void test('kstwo.sf matches scipy across its regimes', () => {
  for (const c of ref.kstwo) closeP(kstwoSf(c.n, c.d), c.sf, `kstwo n=${c.n} d=${c.d}`);
});

void test('Pelz–Good agrees with the exact Durbin matrix where both apply (n = 141..400)', () => {
  for (const n of [141, 150, 400]) {
    for (const z of [0.5, 0.9, 1.3]) {
      const d = z / Math.sqrt(n);
      assert.ok(Math.abs(pelzGoodSf(n, d) - (1 - durbinCdf(n, d))) < 6e-5, `n=${n} z=${z}`);
    }
  }
});

void test('KS rejects empty samples with a clear error', () => {
  assert.throws(() => ks2Samp([], [1, 2]), /non-empty/);
});
