// A/A simulation: both arms from the same distribution, results looked at continually. The always-valid mSPRT
// should keep its false-positive rate ≤ α at any stopping time; a fixed-horizon test re-run at every look should not.
// Size: STATS_AA_SIMS (1000) experiments of up to STATS_AA_N (10,000) observations per arm; the fixed-horizon test
// is looked at every 100 per arm, the sequential test after every single observation.
import { SequentialTest, twoProportionZTest, welchTTest } from '../../backend/src/services/stats';
import { markdownTable, pct, rng } from './stats-common';

const SIMS = Number(process.env.STATS_AA_SIMS ?? 1000);
const N = Number(process.env.STATS_AA_N ?? 10_000);
const PEEK = 100;
const ALPHA = 0.05;

interface Running { n: number; mean: number; m2: number }
const add = (r: Running, x: number) => {
  r.n++;
  const d = x - r.mean;
  r.mean += d / r.n;
  r.m2 += d * (x - r.mean);
};

function simulate(kind: 'continuous' | 'binary', seedBase: number) {
  let peekFp = 0;
  let finalFp = 0;
  let seqFp = 0;
  for (let s = 0; s < SIMS; s++) {
    const g = rng(seedBase + s);
    const draw = kind === 'continuous' ? () => g.normal() : () => (g.uniform() < 0.1 ? 1 : 0);
    const arms: [Running, Running] = [{ n: 0, mean: 0, m2: 0 }, { n: 0, mean: 0, m2: 0 }];
    const seq = new SequentialTest({ alpha: ALPHA });
    let peeked = false;
    let pFinal = 1;
    for (let i = 1; i <= N; i++) {
      for (const a of [0, 1] as const) {
        const x = draw();
        add(arms[a], x);
        seq.add(a, x);
      }
      if (i % PEEK === 0) {
        const [c, t] = arms.map((r) => ({ n: r.n, mean: r.mean, variance: r.m2 / (r.n - 1) }));
        const p = kind === 'continuous'
          ? welchTTest(t!, c!).pValue
          : twoProportionZTest({ successes: Math.round(t!.mean * t!.n), n: t!.n }, { successes: Math.round(c!.mean * c!.n), n: c!.n }).pValue;
        if (p < ALPHA) peeked = true;
        pFinal = p;
      }
    }
    if (peeked) peekFp++;
    if (pFinal < ALPHA) finalFp++;
    if (seq.state().rejectedAt !== null) seqFp++;
  }
  return { peekFp: peekFp / SIMS, finalFp: finalFp / SIMS, seqFp: seqFp / SIMS };
}

// One standard error of a rate near α, to read the table with.
const se = Math.sqrt((ALPHA * (1 - ALPHA)) / SIMS);
const t0 = performance.now();
const rows = (['continuous', 'binary'] as const).map((k, i) => {
  const r = simulate(k, 1_000_000 * (i + 1));
  return [k === 'continuous' ? 'continuous N(0,1) vs N(0,1)' : 'binary 10% vs 10%', pct(r.finalFp), pct(r.peekFp), pct(r.seqFp)];
});
console.log(`A/A simulation: ${SIMS} experiments × up to ${N} per arm, α = ${ALPHA} (± ${pct(2 * se)} at 2 s.e.)\n`);
console.log(markdownTable(['metric', 'fixed horizon, one look at the end', `fixed horizon, a look every ${PEEK}/arm (${N / PEEK} looks)`, 'mSPRT always-valid, a look after every observation'], rows));
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
