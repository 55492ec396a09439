import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openContainer, openWorkbench, OUT } from './harness';
import { notification } from './ui';

void test('a Node the backend cannot run on: the status bar and a notification say which versions it needs', { timeout: 240_000 }, async () => {
  const ws = join(OUT, 'e2e-runtime-workspace');
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(ws, { recursive: true });
  // A Node 23 (ABI 131, no SQLite addon shipped for it) set as mlopsStudio.nodePath; it answers the version probe.
  const node23 = join(OUT, 'e2e-runtime-node23');
  writeFileSync(node23, '#!/bin/sh\necho "23.11.1 131"\n');
  chmodSync(node23, 0o755);
  const wb = await openWorkbench('runtime', ws, { 'mlopsStudio.nodePath': node23 });
  try {
    await openContainer(wb.page);
    const status = wb.page.locator('.part.statusbar [aria-label^="MLOps backend error"]').first();
    await status.waitFor({ timeout: 90_000 });
    assert.match((await status.getAttribute('aria-label')) ?? '', /points to Node 23\.11\.1; the backend needs Node\.js 20, 22 or 24/);
    const toast = await notification(wb.page, /needs Node\.js 20, 22 or 24/, 60_000);
    assert.match((await toast.textContent()) ?? '', /Set Node Path/);
    assert.doesNotMatch(wb.outputLog(), /\[spawn\]/, 'nothing was started with the unfit Node');
    await wb.screenshot('no-runtime');
  } finally {
    await wb.close();
  }
});
