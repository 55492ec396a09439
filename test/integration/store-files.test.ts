import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, CLI, startBackend, tempHome, type RunningBackend } from '../helpers/backend';
import type { Job } from '../../backend/src/services/jobs/types';

/** Store files the backend process holds open that were unlinked under it. */
function deletedStoreFds(pid: number): string[] {
  const out: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (/mlops\.db|backend\.lock/.test(target) && target.endsWith('(deleted)')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** `mlops jobs list --json`: the CLI's direct path (its own SQLite connection, opened and closed). */
function cliJobIds(home: string): string[] {
  const r = spawnSync(process.execPath, [CLI, '--home', home, 'jobs', 'list', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as Job[]).map((j) => j.job_id);
}

async function runJob(b: RunningBackend, body: Record<string, unknown>): Promise<string> {
  const { status, body: job } = await api<Job>(b, 'POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], ...body });
  assert.equal(status, 201, JSON.stringify(job));
  for (;;) {
    const { body: j } = await api<Job>(b, 'GET', `/api/v1/jobs/${job.job_id}`);
    if (j.status !== 'queued' && j.status !== 'running') return j.job_id;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * fcntl() locks belong to the process and die with *any* descriptor it closes on the file. A backend that read its
 * own mlops.db and mlops.db-shm with plain fs (hashing a job's untracked files or data folder) lost its SQLite locks;
 * the next CLI command then believed it was the last connection and deleted -wal and -shm on close, and the CLI no
 * longer saw what the backend wrote.
 */
for (const how of ['the job cwd is a git checkout holding the store (a folder of the user, not ignored)', 'the job data folder is the store folder'] as const) {
  void test(`the backend never drops its store locks when ${how}`, { timeout: 120_000 }, async () => {
    const proj = tempHome('mlops-proj-');
    execFileSync('git', ['init', '-q', proj]);
    writeFileSync(join(proj, 'train.py'), 'print(1)\n');
    execFileSync('git', ['-C', proj, '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'init', '--allow-empty']);
    // A folder the user chose that already held files: the store leaves it without a .gitignore, so git lists
    // mlops.db, -wal, -shm and backend.lock as untracked files of the job's checkout.
    const home = join(proj, 'store');
    mkdirSync(home);
    writeFileSync(join(home, 'notes.txt'), 'mine\n');
    const b = await startBackend(home);
    try {
      const first = await runJob(b, how.startsWith('the job cwd') ? { cwd: proj } : { data: [home] });
      assert.deepEqual(cliJobIds(home), [first]);
      assert.deepEqual(deletedStoreFds(b.pid), [], 'the store files under the backend are intact');
      const second = await runJob(b, {});
      assert.deepEqual(cliJobIds(home).sort(), [first, second].sort(), 'the CLI sees what the backend wrote after');
    } finally {
      await b.stop();
      rmSync(proj, { recursive: true, force: true });
    }
  });
}
