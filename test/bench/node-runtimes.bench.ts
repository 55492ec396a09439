/**
 * The backend on each Node line the VSIX serves (20, 22, 24; binaries from .ci/setup-node.sh):
 *  1. start-up: spawn of `cli.mjs serve` to its handshake line (median of REPEAT);
 *  2. a small tracking write/read over HTTP: 20 log-batch requests of 1,000 metric points, then the history read back;
 *  3. the store engines one could run on it: better-sqlite3 (the per-ABI addon) against node:sqlite (built into
 *     Node 22.5+), 100,000 inserts in one transaction and a full read, in the same process.
 * Usage: npm run bench -- node-runtimes
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { api, CLI, ROOT, startBackend, tempHome } from '../helpers/backend';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const nodes = execFileSync('bash', [join(ROOT, '.ci', 'setup-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const ENGINES = `
const N = 100000, out = {};
const bs = process.argv[1];
const binding = require('node:path').join(bs, 'lib/binding', 'node-v' + process.versions.modules + '-' + process.platform + '-' + process.arch, 'better_sqlite3.node');
const time = (f) => { const t = performance.now(); f(); return performance.now() - t; };
{
  const db = new (require(bs))(':memory:', { nativeBinding: binding });
  db.exec('CREATE TABLE m (run TEXT, key TEXT, step INTEGER, value REAL)');
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?, ?)');
  out['better-sqlite3'] = [time(() => db.transaction(() => { for (let i = 0; i < N; i++) ins.run('r', 'loss', i, 1 / (i + 1)); })()),
    time(() => db.prepare('SELECT * FROM m').all())];
}
const sqlite = process.getBuiltinModule?.('node:sqlite');
if (sqlite) {
  const db = new sqlite.DatabaseSync(':memory:');
  db.exec('CREATE TABLE m (run TEXT, key TEXT, step INTEGER, value REAL)');
  const ins = db.prepare('INSERT INTO m VALUES (?, ?, ?, ?)');
  out['node:sqlite'] = [time(() => { db.exec('BEGIN'); for (let i = 0; i < N; i++) ins.run('r', 'loss', i, 1 / (i + 1)); db.exec('COMMIT'); }),
    time(() => db.prepare('SELECT * FROM m').all())];
}
console.log(JSON.stringify(out));
`;

async function main(): Promise<void> {
  for (const major of [20, 22, 24]) {
    const bin = join(nodes, String(major), 'bin', 'node');
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    const starts: number[] = [];
    const writes: number[] = [];
    const reads: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const t0 = performance.now();
      const b = await startBackend(tempHome('mlops-bench-node-'), [], {}, bin);
      starts.push(performance.now() - t0);
      const exp = (await api<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'bench' })).body.experiment_id;
      const run = (await api<{ run: { info: { run_id: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const t1 = performance.now();
      for (let k = 0; k < 20; k++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: Math.random(), timestamp: 1, step: k * 1000 + i }));
        const res = await api(b, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics });
        if (res.status !== 200) throw new Error(JSON.stringify(res.body));
      }
      writes.push(performance.now() - t1);
      const t2 = performance.now();
      const hist = await api<{ metrics: unknown[] }>(b, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss&max_results=25000`);
      reads.push(performance.now() - t2);
      if (hist.body.metrics.length !== 20_000) throw new Error(`read ${hist.body.metrics.length} points`);
      await b.stop();
    }
    const eng = spawnSync(bin, ['-e', ENGINES, join(ROOT, 'node_modules', 'better-sqlite3')], { encoding: 'utf8' });
    const engines = JSON.parse(eng.stdout || '{}') as Record<string, [number, number]>;
    const fmt = (e: string) => (engines[e] ? `${engines[e][0].toFixed(0)} ms insert / ${engines[e][1].toFixed(0)} ms read` : 'n/a');
    console.log(
      `${version} (${CLI.replace(ROOT + '/', '')}): start-up ${median(starts).toFixed(0)} ms; 20 x 1,000 points written ${median(writes).toFixed(0)} ms, read back ${median(reads).toFixed(0)} ms` +
        ` | 100k rows: better-sqlite3 ${fmt('better-sqlite3')}, node:sqlite ${fmt('node:sqlite')}`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
