// Runs benchmarks: every test/bench/*.bench.ts, or those named on the command line (by file name or substring).
// Usage: npm run bench [-- sync]   Each benchmark prints its own results; record them in test/bench/RESULTS.md.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = join('test', 'bench');
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !wanted.length || wanted.some((w) => f.includes(w)))
  .sort();
if (!files.length) {
  console.error(`no benchmarks match ${wanted.join(' ') || '*.bench.ts'} in ${dir}`);
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
