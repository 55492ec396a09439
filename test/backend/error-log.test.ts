import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorLog } from '../../backend/src/util/error-log';

void test('the error log rotates by size and keeps three old files', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlops-log-'));
  try {
    const log = new ErrorLog(home, { maxBytes: 300 });
    for (let i = 0; i < 40; i++) log.write({ requestId: `r${i}`, method: 'GET', url: '/x', status: 500, err: new Error(`boom ${i}`) });
    assert.deepEqual(readdirSync(join(home, 'logs')).sort(), ['backend.log', 'backend.log.1', 'backend.log.2', 'backend.log.3']);
    assert.match(readFileSync(join(home, 'logs', 'backend.log'), 'utf8'), /req=r39 GET \/x 500\n {4}Error: boom 39/);
    assert.ok(!readdirSync(join(home, 'logs')).some((f) => readFileSync(join(home, 'logs', f), 'utf8').includes('req=r0 ')), 'the oldest entries are dropped');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

void test('a background task that throws leaves a record in backend.log without --log', async () => {
  const { buildApp } = await import('../../backend/src/app');
  const { VirtualClock } = await import('../helpers/clock');
  const home = mkdtempSync(join(tmpdir(), 'mlops-log-'));
  const clock = new VirtualClock();
  const app = await buildApp({ home, token: 't', clock });
  try {
    await app.server.ready();
    app.runtime.scheduler.add({ name: 'exploding', intervalMs: 1000, run: () => { throw new Error('kaboom-7f3a'); } });
    await clock.advance(1500);
    app.runtime.log.warn('a warning from background work');
    const text = readFileSync(join(home, 'logs', 'backend.log'), 'utf8');
    assert.match(text, /ERROR background task 'exploding' failed after \d+ ms\n {4}Error: kaboom-7f3a/);
    assert.match(text, /WARN a warning from background work\n/);
  } finally {
    await app.server.close();
    rmSync(home, { recursive: true, force: true });
  }
});
