import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, ended, tempHome, until } from './helpers';

// No GPU here: declare an inventory of one device (MLOPS_GPUS) and check admission with local jobs, which see
// their devices through CUDA_VISIBLE_DEVICES.
void test('GPU-aware admission: a device goes to one job at a time; an impossible request fails at once', { timeout: 60_000 }, async (t) => {
  process.env.MLOPS_GPUS = '0';
  t.after(() => delete process.env.MLOPS_GPUS);
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const cwd = mkdtempSync(join(tmpdir(), 'mlops-gpu-'));
  const cmd = ['sh', '-c', 'echo "devices=$CUDA_VISIBLE_DEVICES"; sleep 3'];
  const first = (await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: cmd, gpus: 1, cwd })).body;
  const second = (await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: cmd, gpus: 1, cwd })).body;
  const cpuOnly = (await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], cwd })).body;
  const cpu = await until(b, cpuOnly.job_id, ended);
  assert.equal(cpu.status, 'finished', 'a job without GPUs is not held up behind one waiting for a GPU');
  assert.equal((await b.api<Job>('GET', `/api/v1/jobs/${second.job_id}`)).body.status, 'queued', 'the second GPU job waits for the device');
  const [j1, j2] = [await until(b, first.job_id, ended), await until(b, second.job_id, ended)];
  assert.ok(j2.started_at! >= j1.ended_at!, 'the device was not shared');
  assert.deepEqual([j1.gpus, j2.gpus], [['0'], ['0']]);
  assert.match((await b.api<string>('GET', `/api/v1/jobs/${first.job_id}/logs`)).body, /devices=0/);
  const t0 = Date.now();
  const two = (await b.api<Job>('POST', '/api/v1/jobs', { launcher: 'local', command: ['true'], gpus: 2, cwd })).body;
  const failed = await until(b, two.job_id, ended);
  assert.deepEqual([failed.status, failed.reason], ['failed', 'no_gpu']);
  assert.match(failed.message ?? '', /asks for 2 GPU\(s\); this host has 1/);
  assert.ok(Date.now() - t0 < 1000);
});
