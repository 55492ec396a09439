// Performance: a full drift report (PSI, KS, Wasserstein, JS per feature) on STATS_PERF_ROWS (1,000,000) rows ×
// STATS_PERF_FEATURES (20) numeric features, reference and current of that size each, against (a) the cost of
// sorting the data once, the lower bound for exact KS, and (b) Evidently's drift report on the same data, in the
// same run (Evidently from PyPI in the venv made by test/bench/setup-evidently.sh; STATS_PERF_EVIDENTLY=0 skips it).
// Our report is timed three ways: against a stored profile (built beforehand, as at registration), building the
// default profile from the raw reference first, and exact from raw data on both sides (Evidently's setting).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { buildReferenceProfile, currentColumns, driftReport } from '../../backend/src/services/stats';
import type { DriftReport, FeatureDrift, RawColumn } from '../../backend/src/services/stats';
import { markdownTable, rng } from './stats-common';

const ROWS = Number(process.env.STATS_PERF_ROWS ?? 1_000_000);
const FEATURES = Number(process.env.STATS_PERF_FEATURES ?? 20);
const REPEAT = 3;

function makeData(seed: number, shifted: boolean): Float64Array[] {
  const g = rng(seed);
  return Array.from({ length: FEATURES }, (_, f) => {
    const a = new Float64Array(ROWS);
    // Every fourth feature drifts in the current data; the rest only differ by sampling noise.
    const shift = shifted && f % 4 === 0 ? 0.3 : 0;
    const scale = 1 + (f % 5);
    for (let i = 0; i < ROWS; i++) a[i] = f % 3 === 2 ? Math.exp(g.normal() * 0.5) * scale + shift * scale : (g.normal() + shift) * scale + f;
    return a;
  });
}

const cols = (data: Float64Array[]) => new Map<string, RawColumn>(data.map((v, i) => [`f${i}`, { kind: 'numeric', values: v, missing: 0 }]));

const ref = makeData(1, false);
const cur = makeData(2, true);
const load0 = loadavg()[0]!;

async function main(): Promise<void> {
  // Node 20 workers do not inherit tsx's loader from execArgv, so each one registers it before loading the file.
  const workerSource = `require('tsx/cjs/api').register(); require(${JSON.stringify(join(import.meta.dirname, 'stats-perf-worker.ts'))});`;
  // Two workers, each holding the stored profile, check half of the features each (the batch is copied to them).
  const workers = [0, 1].map(() => new Worker(workerSource, { eval: true, workerData: buildReferenceProfile(cols(ref)) }));
  const names = cur.map((_, i) => `f${i}`);
  const half = Math.ceil(FEATURES / 2);
  async function viaWorkers(): Promise<FeatureDrift[]> {
    const parts = await Promise.all(workers.map((w, k) => new Promise<FeatureDrift[]>((resolve) => {
      w.once('message', resolve);
      w.postMessage({ names: names.slice(k * half, (k + 1) * half), columns: cur.slice(k * half, (k + 1) * half) });
    })));
    return parts.flat();
  }
  await viaWorkers();

  // Rounds interleave the measurements so that each sees the same background load; the best round counts.
  const tProfile = performance.now();
  const profile = buildReferenceProfile(cols(ref));
  const profileMs = performance.now() - tProfile;
  const exactProfile = buildReferenceProfile(cols(ref), Infinity);
  const ms = { sortCurrent: Infinity, sortBoth: Infinity, viaProfile: Infinity, workers: Infinity, viaExactProfile: Infinity, buildAndCheck: Infinity, full: Infinity };
  let fullReport!: DriftReport;
  let profileReport!: DriftReport;
  let workerFeatures!: FeatureDrift[];
  for (let r = 0; r < REPEAT; r++) {
    const time = async <T>(k: keyof typeof ms, fn: () => T | Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await fn();
      ms[k] = Math.min(ms[k], performance.now() - t);
      return out;
    };
    await time('sortCurrent', () => cur.map((c) => c.slice().sort()));
    await time('sortBoth', () => [...ref, ...cur].map((c) => c.slice().sort()));
    profileReport = await time('viaProfile', () => driftReport(profile, currentColumns(cols(cur))));
    workerFeatures = await time('workers', viaWorkers);
    await time('viaExactProfile', () => driftReport(exactProfile, currentColumns(cols(cur))));
    await time('buildAndCheck', () => driftReport(buildReferenceProfile(cols(ref)), currentColumns(cols(cur))));
    fullReport = await time('full', () => driftReport(buildReferenceProfile(cols(ref), Infinity), currentColumns(cols(cur))));
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const sortCurrent = { ms: ms.sortCurrent };
  const full = { ms: ms.full, result: fullReport };

  interface EvidentlyResult { ms: number; ks: Record<string, number>; wass: Record<string, number> }
  let evidently = null as EvidentlyResult | null;
  if (process.env.STATS_PERF_EVIDENTLY !== '0') {
    const venv = execFileSync('bash', [join(import.meta.dirname, 'setup-evidently.sh')], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const dir = mkdtempSync(join(tmpdir(), 'stats-perf-'));
    try {
      for (const [name, data] of [['ref', ref], ['cur', cur]] as const) {
        const buf = new Float64Array(ROWS * FEATURES);
        data.forEach((c, f) => buf.set(c, f * ROWS));
        writeFileSync(join(dir, `${name}.f64`), buf);
      }
      const r = spawnSync(join(venv, 'bin/python'), [join(import.meta.dirname, 'stats_evidently.py'), dir, String(ROWS), String(FEATURES)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new Error(`Evidently run failed: ${r.stderr}`);
      evidently = JSON.parse(r.stdout.trim().split('\n').pop()!) as EvidentlyResult;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
  const rows: (string | number)[][] = [
    [`sort the current data once (${FEATURES} × Float64Array.sort)`, s(sortCurrent.ms), '1.0×', ''],
    ['sort reference and current once', s(ms.sortBoth), ratio(ms.sortBoth, sortCurrent.ms), ''],
    ['our report against a stored reference profile (production path; profile built beforehand)', s(ms.viaProfile), ratio(ms.viaProfile, sortCurrent.ms), evidently ? ratio(evidently.ms, ms.viaProfile) : 'n/a'],
    ['the same, features split over 2 worker threads (batch copied to them)', s(ms.workers), ratio(ms.workers, sortCurrent.ms), evidently ? ratio(evidently.ms, ms.workers) : 'n/a'],
    ['exact report against a stored exact profile (every reference value kept; the batch is sorted)', s(ms.viaExactProfile), ratio(ms.viaExactProfile, sortCurrent.ms), evidently ? ratio(evidently.ms, ms.viaExactProfile) : 'n/a'],
    ['building the default profile (m = 2048) from the raw reference, then the report', s(ms.buildAndCheck), ratio(ms.buildAndCheck, sortCurrent.ms), evidently ? ratio(evidently.ms, ms.buildAndCheck) : 'n/a'],
    ['exact report from raw data on both sides (exact KS and Wasserstein, like Evidently)', s(full.ms), ratio(full.ms, sortCurrent.ms), evidently ? ratio(evidently.ms, full.ms) : 'n/a'],
    ...(evidently ? [[`Evidently 0.7 report: ValueDrift × 4 methods × ${FEATURES} columns`, s(evidently.ms), ratio(evidently.ms, sortCurrent.ms), '1.0×']] : []),
  ];
  console.log(`${ROWS.toLocaleString('en')} rows × ${FEATURES} numeric features each side; ${cpus().length} cores; load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}; best of ${REPEAT} interleaved rounds (Evidently: one run); building the stored profile took ${s(profileMs)}\n`);
  console.log(markdownTable(['what', 'time', 'vs sorting once', 'Evidently ÷ this'], rows));

  // The two engines should agree where they compute the same thing (KS p-value and normalised Wasserstein).
  if (evidently) {
    const m = (r: DriftReport, f: string, k: string) => r.features.find((x) => x.feature === f)!.methods.find((x) => x.method === k)!;
    let maxP = 0;
    let maxW = 0;
    for (const f of Object.keys(evidently.ks)) {
      maxP = Math.max(maxP, Math.abs(m(full.result, f, 'ks').pValue! - evidently.ks[f]!));
      maxW = Math.max(maxW, Math.abs(m(full.result, f, 'wasserstein_norm').score - evidently.wass[f]!) / Math.max(evidently.wass[f]!, 1e-12));
    }
    console.log(`\nagreement with Evidently: max |ΔKS p| = ${maxP.toExponential(2)}, max relative Δ normalised Wasserstein = ${maxW.toExponential(2)}`);
  }
  const drifted = (fs: FeatureDrift[]) => fs.filter((f) => f.drift).map((f) => f.feature).join(',');
  const sameVerdicts = drifted(profileReport.features) === drifted(full.result.features) && drifted(workerFeatures) === drifted(full.result.features);
  console.log(`drifted features: ${full.result.driftedFeatures}/${FEATURES} (expected ${Math.ceil(FEATURES / 4)}); profile, worker and exact reports flag the same features: ${sameVerdicts}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
