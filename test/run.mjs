// Runs the test files of the given tiers (folders under test/) with Node's test runner and tsx.
// Usage: node test/run.mjs unit backend integration e2e   (no tier: all of them)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const allTiers = ['unit', 'backend', 'webviews', 'integration', 'e2e'];
const tiers = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const only = process.env.TEST_ONLY; // substring filter on file paths, for local use
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.m?ts$/.test(name) && (!only || p.includes(only))) files.push(p);
  }
};
for (const t of tiers.length ? tiers : allTiers) {
  try { walk(join('test', t)); } catch { /* tier folder absent */ }
}
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
