// Detection benchmark: the drift ensemble on synthetic data with known shifts and no-change controls, per shift size
// and sample size (true-positive rate on shifts, false-positive rate on controls); ADWIN and Page–Hinkley on
// stationary and shifted streams (false alarms, detection delay).
// Size: STATS_BENCH_REPS (200) repetitions per cell. STATS_BENCH_SIZES=200,1000 runs only those columns and
// STATS_BENCH_STREAMS=0 skips the detector table, so the slow columns can run as separate processes; each cell's
// seeds depend only on its scenario, size and repetition, so a split run sees the same data as a whole one.
import { Adwin, PageHinkley, buildReferenceProfile, currentColumns, driftReport } from '../../backend/src/services/stats';
import type { RawColumn } from '../../backend/src/services/stats';
import { markdownTable, pct, rng } from './stats-common';

const REPS = Number(process.env.STATS_BENCH_REPS ?? 200);
const ALL_SIZES = [200, 1000, 5000, 10000];
const SIZES = process.env.STATS_BENCH_SIZES ? process.env.STATS_BENCH_SIZES.split(',').map(Number) : ALL_SIZES;
const STREAMS_ON = process.env.STATS_BENCH_STREAMS !== '0';
// STATS_BENCH_FIXED=1: the baseline, thresholds fixed at their configured values whatever the sample size.
const FIXED = process.env.STATS_BENCH_FIXED === '1';
type Gen = (g: ReturnType<typeof rng>, n: number) => RawColumn;

const normal = (shift: number, scale: number): Gen => (g, n) => ({ kind: 'numeric', values: Float64Array.from({ length: n }, () => shift + scale * g.normal()), missing: 0 });
const gradual = (end: number): Gen => (g, n) => ({ kind: 'numeric', values: Float64Array.from({ length: n }, (_, i) => (end * i) / n + g.normal()), missing: 0 });
const mix = (p: number[]): Gen => (g, n) => {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    let u = g.uniform();
    let k = 0;
    while (k < p.length - 1 && u >= p[k]!) u -= p[k++]!;
    counts.set(`c${k}`, (counts.get(`c${k}`) ?? 0) + 1);
  }
  return { kind: 'categorical', counts, missing: 0 };
};

const BASE_MIX = [0.5, 0.3, 0.2];
const scenarios: { name: string; ref: Gen; cur: Gen; shifted: boolean }[] = [
  { name: 'no change (numeric)', ref: normal(0, 1), cur: normal(0, 1), shifted: false },
  { name: 'no change (categorical)', ref: mix(BASE_MIX), cur: mix(BASE_MIX), shifted: false },
  { name: 'mean shift 0.1σ', ref: normal(0, 1), cur: normal(0.1, 1), shifted: true },
  { name: 'mean shift 0.25σ', ref: normal(0, 1), cur: normal(0.25, 1), shifted: true },
  { name: 'mean shift 0.5σ', ref: normal(0, 1), cur: normal(0.5, 1), shifted: true },
  { name: 'variance ×1.25 (std)', ref: normal(0, 1), cur: normal(0, 1.25), shifted: true },
  { name: 'variance ×1.5 (std)', ref: normal(0, 1), cur: normal(0, 1.5), shifted: true },
  { name: 'category mix .5/.3/.2 → .4/.3/.3', ref: mix(BASE_MIX), cur: mix([0.4, 0.3, 0.3]), shifted: true },
  { name: 'category mix .5/.3/.2 → .3/.3/.4', ref: mix(BASE_MIX), cur: mix([0.3, 0.3, 0.4]), shifted: true },
  { name: 'gradual drift 0 → 0.5σ', ref: normal(0, 1), cur: gradual(0.5), shifted: true },
  { name: 'gradual drift 0 → 1σ', ref: normal(0, 1), cur: gradual(1), shifted: true },
];

function ensembleTable(): string {
  const rows: (string | number)[][] = [];
  for (const [si, s] of scenarios.entries()) {
    const row: (string | number)[] = [s.name, s.shifted ? 'TPR' : 'FPR'];
    for (const n of SIZES) {
      let hits = 0;
      for (let r = 0; r < REPS; r++) {
        const g = rng(1 + (si * ALL_SIZES.length + Math.max(0, ALL_SIZES.indexOf(n))) * REPS + r);
        const report = driftReport(buildReferenceProfile(new Map([['f', s.ref(g, n)]]), Infinity), currentColumns(new Map([['f', s.cur(g, n)]])), { sampleSizeAware: !FIXED });
        if (report.features[0]!.drift) hits++;
      }
      row.push(pct(hits / REPS));
    }
    rows.push(row);
  }
  return markdownTable(['scenario', 'rate', ...SIZES.map((n) => `n = ${n}`)], rows);
}

function streamTable(): string {
  const STREAMS = Math.max(20, REPS / 2);
  const LEN = 10_000;
  const CHANGE = 5_000;
  const rows: (string | number)[][] = [];
  for (const shift of [0, 0.5, 1, 2]) {
    for (const [name, make] of [
      ["ADWIN δ=0.002, δ'=δ/W (default)", () => new Adwin()],
      ["ADWIN δ=0.002, δ'=δ/ln W (MOA/river)", () => new Adwin({ deltaPrime: 'ln' })],
      ['Page–Hinkley (river defaults)', () => new PageHinkley()],
    ] as const) {
      let falseAlarms = 0;
      let detected = 0;
      const delays: number[] = [];
      for (let r = 0; r < STREAMS; r++) {
        const g = rng(10_000 + r);
        const d = make();
        let first: number | null = null;
        for (let i = 0; i < LEN; i++) {
          const alarm = d.update(g.normal() + (i >= CHANGE ? shift : 0));
          if (!alarm) continue;
          if (shift === 0 || i < CHANGE) falseAlarms++;
          else if (first === null) first = i;
        }
        if (first !== null) {
          detected++;
          delays.push(first - CHANGE);
        }
      }
      delays.sort((a, b) => a - b);
      rows.push([
        shift === 0 ? 'stationary' : `mean shift ${shift}σ at t=${CHANGE}`, name, STREAMS, falseAlarms,
        shift === 0 ? '–' : `${detected}/${STREAMS}`, delays.length ? delays[delays.length >> 1]! : '–', delays.length ? delays[delays.length - 1]! : '–',
      ]);
    }
  }
  return markdownTable(['stream (N(0,1), 10,000 points)', 'detector', 'streams', 'false alarms (total)', 'detected', 'median delay', 'max delay'], rows);
}

const t0 = performance.now();
console.log(`Drift ensemble (feature drifts when ≥ 2 methods agree; default thresholds, ${FIXED ? 'fixed' : 'sample-size aware'}), ${REPS} repetitions per cell, reference and current of size n:\n`);
console.log(ensembleTable());
if (STREAMS_ON) {
  console.log('\nConcept drift detectors, one observation at a time:\n');
  console.log(streamTable());
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
