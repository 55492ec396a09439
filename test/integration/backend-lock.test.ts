import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { api, CLI, startBackend, tempHome } from '../helpers/backend';
import type { Job } from '../../backend/src/services/jobs/types';

type Outcome = { up: true; proc: ChildProcess; url: string; pid: number } | { up: false; code: number | null; stderr: string };

/** `mlops serve` on `home`: either its handshake (it runs on) or how it exited. */
function serve(home: string): Promise<Outcome> {
  const proc = spawn(process.execPath, [CLI, '--home', home, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((res) => {
    createInterface({ input: proc.stdout! }).once('line', (l) => {
      const h = JSON.parse(l) as { url: string; pid: number };
      res({ up: true, proc, url: h.url, pid: h.pid });
    });
    proc.once('exit', (code) => res({ up: false, code, stderr }));
  });
}

const stop = (p: ChildProcess): Promise<void> =>
  new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    p.once('exit', () => res());
    p.kill('SIGTERM');
  });

void test('two backends started at once on one home: exactly one serves, the other exits 1 naming it', { timeout: 120_000 }, async () => {
  for (let round = 0; round < 4; round++) {
    const home = tempHome();
    const outcomes = await Promise.all([serve(home), serve(home)]);
    try {
      const up = outcomes.filter((o) => o.up);
      const down = outcomes.filter((o) => !o.up);
      assert.equal(up.length, 1, `round ${round}: ${JSON.stringify(down)}`);
      assert.equal(down[0]!.code, 1);
      // The loser may have lost while the winner was still starting (no URL yet), but the pid is always known.
      assert.match(down[0]!.stderr, new RegExp(`^mlops: another backend already serves ${home}: pid ${up[0]!.pid}\\b`));
      assert.equal(down[0]!.stderr.trim().split('\n').length, 1, 'one message');
    } finally {
      for (const o of outcomes) if (o.up) await stop(o.proc);
      rmSync(home, { recursive: true, force: true });
    }
  }
});

void test('a second mlops serve leaves the running backend, its handshake and its local job alone; a crash frees the home', { timeout: 120_000 }, async () => {
  const home = tempHome();
  const first = await startBackend(home);
  try {
    const { body: job } = await api<Job>(first, 'POST', '/api/v1/jobs', { launcher: 'local', command: ['sleep', '60'], cwd: home });
    for (let s = await api<Job>(first, 'GET', `/api/v1/jobs/${job.job_id}`); s.body.status !== 'running'; s = await api<Job>(first, 'GET', `/api/v1/jobs/${job.job_id}`)) {
      assert.equal(s.body.status, 'queued');
      await new Promise((r) => setTimeout(r, 100));
    }
    const handshake = readFileSync(join(home, 'backend.json'), 'utf8');

    const second = await serve(home);
    if (second.up) await stop(second.proc);
    assert.equal(second.up, false, 'the second backend must not start');
    if (second.up) return;
    assert.equal(second.code, 1);
    assert.equal(second.stderr, `mlops: another backend already serves ${home}: pid ${first.pid} at ${first.url}. One backend per home: use that one (its handshake is ${join(home, 'backend.json')}) or stop it first.\n`);

    assert.equal(readFileSync(join(home, 'backend.json'), 'utf8'), handshake, 'the handshake file is untouched');
    const after = await api<Job>(first, 'GET', `/api/v1/jobs/${job.job_id}`);
    assert.equal(after.body.status, 'running', JSON.stringify(after.body));
    const pid = Number(after.body.handle!.split(':')[0]);
    assert.doesNotThrow(() => process.kill(pid, 0), 'the job process is alive');

    // kill -9: the kernel drops the lock with the process, so the next backend starts
    await first.stop('SIGKILL');
    const next = await startBackend(home);
    await next.stop();
  } finally {
    await first.stop();
    rmSync(home, { recursive: true, force: true });
  }
});
