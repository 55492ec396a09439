// Drives the built CLI (dist/backend/cli.mjs) on real CSV files and checks its numbers against the scipy fixtures.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { closeP, closeStat, ref } from '../unit/stats/reference';

const cli = join(import.meta.dirname, '../../dist/backend/cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'mlops-stats-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function csv(name: string, header: string[], rows: (string | number)[][]): string {
  const file = join(dir, name);
  writeFileSync(file, [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return file;
}

interface MethodJson { method: string; score: number; pValue?: number; drift: boolean }
interface FeatureJson { feature: string; methods: MethodJson[]; drift: boolean; unseenCategories?: string[] }

void test('drift check: numbers through CSV match scipy/numpy; categorical and unseen categories reported', () => {
  const num = ref.numericDrift[0]!;
  const ks = ref.ks2samp.find((c) => c.name === 'medium shifted')!;
  const n = Math.max(num.reference.length, ks.a.length);
  const cell = (xs: number[], i: number) => (i < xs.length ? xs[i]! : '');
  const cats = ['a', 'b', 'c'];
  const refFile = csv('ref.csv', ['x', 'y', 'color'], Array.from({ length: n }, (_, i) => [cell(num.reference, i), cell(ks.a, i), cats[i % 3]!]));
  const curN = Math.max(num.current.length, ks.b.length);
  const curFile = csv('cur.csv', ['x', 'y', 'color'], Array.from({ length: curN }, (_, i) => [cell(num.current, i), cell(ks.b, i), i % 4 === 0 ? 'new' : 'a']));
  const r = run('drift', 'check', '--reference', refFile, '--current', curFile, '--json');
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out) as { features: FeatureJson[]; drift: boolean; driftedShare: number };
  const m = (f: string, k: string) => report.features.find((x) => x.feature === f)!.methods.find((x) => x.method === k)!;
  closeStat(m('x', 'psi').score, num.psi, 'psi');
  closeStat(m('x', 'wasserstein_norm').score, num.wassersteinNorm, 'wasserstein_norm');
  closeStat(m('x', 'jensen_shannon').score, num.jensenShannon, 'js');
  closeStat(m('y', 'ks').score, ks.statistic, 'ks D');
  closeP(m('y', 'ks').pValue!, ks.pvalue, 'ks p');
  const color = report.features.find((x) => x.feature === 'color')!;
  assert.deepEqual(color.unseenCategories, ['new']);
  assert.equal(color.drift, true);
  assert.equal(report.drift, report.driftedShare >= 0.5);
  const table = run('drift', 'check', '--reference', refFile, '--current', curFile);
  assert.equal(table.code, 0);
  assert.match(table.out, /^feature\s+kind\s+PSI/m);
  assert.match(table.out, /dataset: (DRIFT|no drift) \(\d\/3 features drifted/);
});

void test('drift profile, then check against the profile', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => [Math.sin(i) * 10, i % 7]);
  const refFile = csv('pref.csv', ['s', 'k'], rows);
  const curFile = csv('pcur.csv', ['s', 'k'], rows.slice(0, 3000).map(([s, k]) => [s! + 5, k!]));
  const out = join(dir, 'profile.json');
  const p = run('drift', 'profile', '--reference', refFile, '--out', out, '--sketch-size', '512');
  assert.equal(p.code, 0, p.err);
  const viaProfile = run('drift', 'check', '--profile', out, '--current', curFile, '--json');
  const exact = run('drift', 'check', '--reference', refFile, '--current', curFile, '--json');
  const drifts = (s: string) => (JSON.parse(s) as { features: FeatureJson[] }).features.map((f) => [f.feature, f.drift]);
  assert.deepEqual(drifts(viaProfile.out), drifts(exact.out));
  assert.deepEqual(drifts(exact.out), [['s', true], ['k', false]]);
});

void test('drift check --no-size-aware keeps the configured distance thresholds on a small batch', () => {
  const rows = Array.from({ length: 100 }, (_, i) => [Math.sin(i * 1.7) * 3]);
  const refFile = csv('small-ref.csv', ['v'], rows);
  const curFile = csv('small-cur.csv', ['v'], rows.map(([v]) => [v! * 1.05 + 0.1]));
  const thresholds = (args: string[]) => {
    const r = run('drift', 'check', '--reference', refFile, '--current', curFile, '--json', ...args);
    assert.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out) as { features: { methods: { method: string; threshold: number }[] }[]; thresholds: { sampleSizeAware: boolean } };
    return { aware: rep.thresholds.sampleSizeAware, used: Object.fromEntries(rep.features[0]!.methods.map((m) => [m.method, m.threshold])) };
  };
  const on = thresholds([]);
  const off = thresholds(['--no-size-aware', '--psi', '0.15']);
  assert.equal(on.aware, true);
  assert.ok(on.used.psi! > 0.2 && on.used.jensen_shannon! > 0.1 && on.used.wasserstein_norm! > 0.1, JSON.stringify(on.used));
  assert.equal(off.aware, false);
  assert.deepEqual([off.used.psi, off.used.jensen_shannon, off.used.wasserstein_norm], [0.15, 0.1, 0.1]);
});

void test('drift check: bad input gets one clear message and exit 1 (usage errors exit 2)', () => {
  const good = csv('good.csv', ['a', 'b'], [[1, 2], [3, 4]]);
  const cases: [string[], number, RegExp][] = [
    [['--reference', csv('ragged.csv', ['a', 'b'], [[1, 2], [3]]), '--current', good], 1, /ragged\.csv: line 3 has 1 fields but the header has 2/],
    [['--reference', good, '--current', csv('text.csv', ['a', 'b'], [[1, 2], [3, 'abc']])], 1, /text\.csv: line 3, feature 'b': 'abc' is not a number/],
    [['--reference', csv('inf.csv', ['a', 'b'], [[1, 'inf']]), '--current', good], 1, /inf\.csv: line 2, feature 'b': infinite value/],
    [['--reference', join(dir, 'missing.csv'), '--current', good], 1, /cannot read .*missing\.csv: no such file/],
    [['--reference', csv('empty.csv', [''], []).replace(/$/, ''), '--current', good], 1, /header row has no name|is empty/],
    [['--current', good], 2, /exactly one of --reference/],
    [['--reference', good, '--current', good, '--psi', 'abc'], 2, /--psi must be a number/],
  ];
  for (const [args, code, msg] of cases) {
    const r = run('drift', 'check', ...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, msg);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
  const missing = run('drift', 'check', '--reference', csv('m1.csv', ['a', 'b'], [[1, ''], [2, 'NA'], [3, 5]]), '--current', csv('m2.csv', ['a', 'c'], [[1, 1]]), '--json');
  assert.equal(missing.code, 0, missing.err);
  const skipped = (JSON.parse(missing.out) as { skipped: { feature: string; reason: string }[] }).skipped;
  assert.deepEqual(skipped.map((s) => s.feature).sort(), ['b', 'c']);
});

void test('ab analyze: Welch t and interval through CSV match scipy; binary with SRM and sequential', () => {
  const c = ref.ttest.find((x) => x.name === 'unequal variances and sizes')!;
  const rows = [...c.control.map((v) => ['control', v]), ...c.treatment.map((v) => ['treatment', v])];
  const file = csv('ab.csv', ['variant', 'value'], rows);
  const r = run('ab', 'analyze', '--data', file, '--variant-column', 'variant', '--metric-column', 'value', '--json', '--split', 'control=30,treatment=12');
  assert.equal(r.code, 0, r.err);
  const rep = JSON.parse(r.out) as { comparisons: { statistic: number; pValue: number; absolute: { lower: number; upper: number }; verdict: string; reason: string }[]; srm: { mismatch: boolean } };
  const cmp = rep.comparisons[0]!;
  closeStat(cmp.statistic, c.welch.statistic, 'welch t');
  closeP(cmp.pValue, c.welch.pvalue, 'welch p');
  closeStat(cmp.absolute.lower, c.welch.ci[0], 'ci low');
  assert.equal(rep.srm.mismatch, false);
  assert.ok(cmp.reason.length > 10);

  const bin: (string | number)[][] = [];
  for (let i = 0; i < 4000; i++) bin.push([i % 2 ? 'B' : 'A', i % 2 ? Number(i % 17 < 3) : Number(i % 19 < 2)]);
  for (let i = 0; i < 300; i++) bin.push(['B', 0]);
  const bfile = csv('bin.csv', ['arm', 'conv'], bin);
  const b = run('ab', 'analyze', '--data', bfile, '--variant-column', 'arm', '--metric-column', 'conv', '--control', 'A', '--sequential', '--json');
  assert.equal(b.code, 0, b.err);
  const brep = JSON.parse(b.out) as { srm: { mismatch: boolean }; comparisons: { test: string; verdict: string; reason: string; sequential: { pValue: number } }[] };
  assert.equal(brep.srm.mismatch, true);
  assert.equal(brep.comparisons[0]!.test, 'two_proportion_z');
  assert.equal(brep.comparisons[0]!.verdict, 'inconclusive');
  assert.match(brep.comparisons[0]!.reason, /sample ratio mismatch/);
  assert.ok(brep.comparisons[0]!.sequential.pValue <= 1);

  const bad = run('ab', 'analyze', '--data', csv('abbad.csv', ['v', 'm'], [['a', 1], ['b', 'x']]), '--variant-column', 'v', '--metric-column', 'm');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /abbad\.csv: line 3, metric 'm': 'x' is not a number/);
  const kind = run('ab', 'analyze', '--data', file, '--variant-column', 'variant', '--metric-column', 'value', '--kind', 'binary');
  assert.equal(kind.code, 1);
  assert.match(kind.err, /binary metrics must be 0\/1/);
  assert.equal(run('ab', 'analyze', '--data', file, '--variant-column', 'variant', '--metric-column', 'value', '--kind', 'nope').code, 2);
  const size = ref.sampleSize[0]!;
  const ss = run('ab', 'sample-size', '--baseline', String(size.p1), '--target', String(size.p2), '--alpha', String(size.alpha), '--power', String(size.power), '--json');
  assert.equal(ss.code, 0, ss.err);
  assert.equal((JSON.parse(ss.out) as { perArm: number }).perArm, size.n);
  assert.equal(run('ab', 'sample-size', '--baseline', '1.5', '--target', '0.2').code, 2);
});

void test('a large file is streamed: 300,000 rows × 4 features', async () => {
  const write = (name: string, shift: number) =>
    new Promise<string>((resolve) => {
      const file = join(dir, name);
      const s = createWriteStream(file);
      s.write('a,b,c,d\n');
      for (let i = 0; i < 300_000; i++) s.write(`${Math.sin(i) + shift},${(i * 7919) % 1000},${i % 5},${Math.cos(i * 0.37)}\n`);
      s.end(() => resolve(file));
    });
  const [r, c] = await Promise.all([write('big-ref.csv', 0), write('big-cur.csv', 0.3)]);
  const t0 = Date.now();
  const out = run('drift', 'check', '--reference', r, '--current', c, '--json');
  assert.equal(out.code, 0, out.err);
  const rep = JSON.parse(out.out) as { features: FeatureJson[] };
  assert.deepEqual(rep.features.map((f) => f.drift), [true, false, false, false]);
  assert.ok(Date.now() - t0 < 60_000);
});
