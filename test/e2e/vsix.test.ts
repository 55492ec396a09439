import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openContainer, openWorkbench, OUT, ROOT } from './harness';

void test('the packaged linux-x64 VSIX installs, starts its own backend (native modules load) and shows the views', { timeout: 400_000 }, async () => {
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, stdio: 'pipe' });
  const vsix = join(ROOT, 'mlops-studio-linux-x64.vsix');
  const mb = statSync(vsix).size / 1e6;
  assert.ok(mb > 5 && mb < 60, `VSIX is ${mb.toFixed(1)} MB`);
  const ws = join(OUT, 'e2e-vsix-workspace');
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  const wb = await openWorkbench('vsix', ws, {}, vsix);
  try {
    await openContainer(wb.page);
    await wb.page.locator('.part.statusbar [aria-label^="MLOps backend running"]').first().waitFor({ timeout: 90_000 });
    // A fresh store: the Experiments view answers with no items, so its first-run welcome shows.
    await wb.page.locator('.welcome-view-content', { hasText: 'No runs yet' }).first().waitFor({ timeout: 30_000 });
    const log = wb.outputLog();
    const spawned = /\[spawn\] \S+ (\S+exts\/mlops-studio\.mlops-studio-0\.1\.0[^/]*)\/dist\/backend\/cli\.mjs/.exec(log);
    assert.ok(spawned, `the backend runs from the installed extension:\n${log}`);
    assert.ok(!lstatSync(spawned[1]!).isSymbolicLink(), 'a real install');
    // The monitors' checks worker thread loads its bundle beside cli.mjs.
    assert.ok(lstatSync(join(spawned[1]!, 'dist/backend/monitor-worker.mjs')).isFile(), 'the checks worker is packaged');
    // One SQLite addon per supported Node ABI (20, 22, 24), none of npm's single-ABI build.
    const bindings = join(spawned[1]!, 'node_modules/better-sqlite3/lib/binding');
    assert.deepEqual(readdirSync(bindings).sort(), ['node-v115-linux-x64', 'node-v127-linux-x64', 'node-v137-linux-x64']);
    for (const d of readdirSync(bindings)) assert.ok(lstatSync(join(bindings, d, 'better_sqlite3.node')).isFile(), d);
    assert.ok(!existsSync(join(spawned[1]!, 'node_modules/better-sqlite3/build')));
    assert.match(log, /\[runtime\] Node \d+\.\d+\.\d+ at \S+ \(found on this machine\)/);
    await wb.screenshot('installed');
  } finally {
    await wb.close();
  }
});
