import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareVerdict, mcnemar, pairedBootstrap } from '../../../backend/src/services/stats/paired';

/** Values from scipy (test/fixtures/stats/paired.py writes them). */
const ref = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'stats', 'paired.json'), 'utf8')) as {
  mcnemar: { b_only: number; a_only: number; p_exact: number; p_mid: number }[];
  bootstrap: { name: string; codes: number[]; diff: number; lower: number; upper: number; bootstrap_se: number }[];
};

void test("McNemar's exact and mid-p tests match scipy's binomial (1e-10) on every case", () => {
  for (const c of ref.mcnemar) {
    const r = mcnemar(c.b_only, c.a_only);
    assert.ok(Math.abs(r.p_exact - c.p_exact) < 1e-10, `exact b=${c.b_only} c=${c.a_only}: ${r.p_exact} vs ${c.p_exact}`);
    assert.ok(Math.abs(r.p_mid - c.p_mid) < 1e-10, `mid-p b=${c.b_only} c=${c.a_only}: ${r.p_mid} vs ${c.p_mid}`);
  }
  // Hand-computed: 0 vs 5 discordant rows, P(X = 0) = 1/32, exact 2/32, mid-p 1/32; no discordant rows: 1.
  assert.deepEqual(mcnemar(0, 5), { b_only: 0, a_only: 5, p_exact: 0.0625, p_mid: 0.03125 });
  assert.deepEqual(mcnemar(0, 0), { b_only: 0, a_only: 0, p_exact: 1, p_mid: 1 });
});

void test('the paired bootstrap interval agrees with scipy.stats.bootstrap (percentile) within Monte Carlo error, and replays exactly', () => {
  for (const c of ref.bootstrap) {
    const codes = Int8Array.from(c.codes);
    const r = pairedBootstrap(codes, { resamples: 20_000, seed: 7 });
    assert.equal(r.diff, c.diff);
    const tol = Math.max(0.1 * c.bootstrap_se, 1.5 / codes.length);
    assert.ok(Math.abs(r.lower - c.lower) < tol, `${c.name} lower ${r.lower} vs scipy ${c.lower} (tol ${tol})`);
    assert.ok(Math.abs(r.upper - c.upper) < tol, `${c.name} upper ${r.upper} vs scipy ${c.upper} (tol ${tol})`);
    assert.deepEqual(pairedBootstrap(codes, { resamples: 20_000, seed: 7 }), r, 'same seed, same interval');
  }
  const codes = Int8Array.from(ref.bootstrap[0]!.codes);
  assert.notDeepEqual(pairedBootstrap(codes, { resamples: 2000, seed: 1 }), pairedBootstrap(codes, { resamples: 2000, seed: 2 }));
});

void test('the verdict: better, non-inferior, worse, inconclusive', () => {
  const sig = { p_mid: 0.001 };
  const ns = { p_mid: 0.4 };
  assert.equal(compareVerdict({ lower: 0.01, upper: 0.05 }, sig, 0.01, 0.05).verdict, 'better');
  assert.equal(compareVerdict({ lower: 0.01, upper: 0.05 }, ns, 0.01, 0.05).verdict, 'non_inferior');
  assert.equal(compareVerdict({ lower: -0.005, upper: 0.02 }, ns, 0.01, 0.05).verdict, 'non_inferior');
  assert.equal(compareVerdict({ lower: -0.08, upper: -0.02 }, sig, 0.01, 0.05).verdict, 'worse');
  assert.equal(compareVerdict({ lower: -0.05, upper: 0.03 }, ns, 0.01, 0.05).verdict, 'inconclusive');
  assert.equal(compareVerdict({ lower: 0, upper: 0 }, { p_mid: 1 }, 0.01, 0.05).verdict, 'non_inferior');
  assert.match(compareVerdict({ lower: -0.08, upper: -0.02 }, sig, 0.01, 0.05).reason, /\[-8\.00 pp, -2\.00 pp\] is below 0/);
});
