import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_WORKING_DIR_BYTES, RayClient, RayError, rayAddress, shellQuote } from '../../../backend/src/services/jobs/launchers/ray-api';
import { rayExit, submissionId } from '../../../backend/src/services/jobs/launchers/ray';
import { normalizeSpec } from '../../../backend/src/services/jobs/spec';
import { parsePipeline } from '../../../backend/src/services/pipelines/spec';

void test('shellQuote: a real sh gets back every argument unchanged, whatever it holds', () => {
  const args = ['python', 'train.py', '', ' ', "it's", '"$(touch /tmp/pwned)"', '`id`', '$HOME', '*', 'a b\tc\nd', "'", "''", '\\', '--lr=0.1', '; rm -rf x', '&& echo hi', 'ünï©ødé', '-', '~', '!x'];
  const quoted = shellQuote(args);
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${quoted}`], { encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), args);
  assert.equal(shellQuote(['python', 'train.py', '--lr=0.1']), 'python train.py --lr=0.1', 'plainly safe words stay bare');
});

void test("rayExit maps Ray's end states onto the job lifecycle", () => {
  assert.deepEqual(rayExit({ status: 'SUCCEEDED', driver_exit_code: 0 }), { exitCode: 0, oomKilled: false });
  const failed = rayExit({
    status: 'FAILED',
    error_type: 'JOB_ENTRYPOINT_COMMAND_ERROR',
    driver_exit_code: 3,
    message: 'Job entrypoint command failed with exit code 3, last available logs (truncated to 20,000 chars):\nboom\n',
  });
  assert.deepEqual(failed, { exitCode: 3, oomKilled: false, message: 'Ray job FAILED (JOB_ENTRYPOINT_COMMAND_ERROR): Job entrypoint command failed with exit code 3' });
  assert.equal(rayExit({ status: 'FAILED', message: 'Job entrypoint command failed with exit code 7, last available logs' }).exitCode, 7, 'the code from the message when Ray gives no driver_exit_code');
  assert.equal(rayExit({ status: 'FAILED', driver_exit_code: -9 }).exitCode, 137, 'killed by a signal: 128 + signal, as a shell says');
  const setup = rayExit({ status: 'FAILED', error_type: 'RUNTIME_ENV_SETUP_FAILED', message: 'Failed to set up runtime environment.\nTraceback ...' });
  assert.deepEqual([setup.exitCode, setup.reason], [null, 'launch_error'], 'no program ran: a failed start');
  assert.match(setup.message ?? '', /RUNTIME_ENV_SETUP_FAILED\): Failed to set up runtime environment\.$/);
  const stopped = rayExit({ status: 'STOPPED', message: 'Job was intentionally stopped.' });
  assert.deepEqual([stopped.reason, stopped.message], ['cancelled', 'Stopped on the Ray cluster: Job was intentionally stopped.']);
  assert.deepEqual([submissionId('ab12'), submissionId('ab12', 1), submissionId('ab12', 3)], ['ab12', 'ab12', 'ab12-3']);
});

void test('rayAddress: default, env, host:port; no credentials, no other scheme', (t) => {
  const old = process.env.MLOPS_RAY_ADDRESS;
  t.after(() => (old === undefined ? delete process.env.MLOPS_RAY_ADDRESS : (process.env.MLOPS_RAY_ADDRESS = old)));
  delete process.env.MLOPS_RAY_ADDRESS;
  assert.equal(rayAddress(), 'http://127.0.0.1:8265');
  process.env.MLOPS_RAY_ADDRESS = 'http://127.0.0.1:9000/';
  assert.equal(rayAddress(), 'http://127.0.0.1:9000');
  assert.equal(rayAddress('127.0.0.2:8266'), 'http://127.0.0.2:8266', 'the given address wins; a bare host:port is http');
  assert.equal(rayAddress('https://ray.example/proxy/'), 'https://ray.example/proxy', 'a remote cluster is accepted, as DOCKER_HOST is');
  assert.throws(() => rayAddress('http://u:p@127.0.0.1:8265'), /must not carry credentials/);
  assert.throws(() => rayAddress('ftp://127.0.0.1'), /http:\/\/ or https:\/\//);
});

void test('a Ray job spec: command required, folder uploaded, no image/mounts/device ids', () => {
  const { launcher, spec } = normalizeSpec({ launcher: 'ray', command: ['python', 'train.py'], cpus: 2, gpus: 1, ray_address: 'http://127.0.0.1:8266' }, '/work/proj');
  assert.equal(launcher, 'ray');
  assert.deepEqual([spec.cwd, spec.rayAddress, spec.resources.cpus, spec.resources.gpus], ['/work/proj', 'http://127.0.0.1:8266', 2, 1]);
  assert.equal(normalizeSpec({ launcher: 'ray', command: ['x'], cwd: 'sub' }, '/work/proj').spec.cwd, '/work/proj/sub');
  assert.throws(() => normalizeSpec({ launcher: 'ray' }, '/w'), /A ray job needs a 'command'/);
  assert.throws(() => normalizeSpec({ launcher: 'ray', command: ['x'], image: 'busybox' }, '/w'), /takes no 'image'/);
  assert.throws(() => normalizeSpec({ launcher: 'ray', command: ['x'], mounts: [{ source: '/a', target: '/b' }] }, '/w'), /takes no 'mounts'/);
  assert.throws(() => normalizeSpec({ launcher: 'ray', command: ['x'], gpu_ids: ['0'] }, '/w'), /not 'gpu_ids'/);
  assert.throws(() => normalizeSpec({ launcher: 'ray', command: ['x'], gpus: 'all' }, '/w'), /GPU count/);
  assert.throws(() => normalizeSpec({ launcher: 'local', command: ['x'], ray_address: 'http://127.0.0.1:1' }, '/w'), /'ray_address' is for Ray jobs/);
});

void test('pipeline steps take launcher: ray (and ray_address), not mounts', () => {
  const p = parsePipeline('ray_address: http://127.0.0.1:8266\nsteps:\n  train: { launcher: ray, command: [python, train.py], cpus: 1 }\n  other: { command: [x] }', '/p/mlops.yaml');
  const train = p.steps.find((s) => s.name === 'train')!;
  assert.deepEqual([train.launcher, train.rayAddress, train.cpus], ['ray', 'http://127.0.0.1:8266', 1]);
  assert.throws(() => parsePipeline('steps:\n  a: { launcher: local, ray_address: http://127.0.0.1:1, command: [x] }', '/p/mlops.yaml'), /ray_address is for launcher: ray/);
  assert.throws(() => parsePipeline('steps:\n  a: { launcher: ray, mounts: ["d:/d"], command: [x] }', '/p/mlops.yaml'), /takes no mounts/);
  assert.throws(() => parsePipeline('steps:\n  a: { launcher: slurm, command: [x] }', '/p/mlops.yaml'), /docker, local or ray/);
});

void test('a working folder over 100 MiB is refused before anything is sent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-ray-big-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'train.py'), 'print(1)');
  writeFileSync(join(dir, 'ckpt.bin'), '');
  truncateSync(join(dir, 'ckpt.bin'), MAX_WORKING_DIR_BYTES + 1);
  // Port 1 answers nothing: the refusal must come from the size, not from the network.
  await assert.rejects(new RayClient('http://127.0.0.1:1').uploadDir(dir), /holds more than 100 MiB to upload; list what the job does not need in a \.rayignore/);
});

void test('RayClient over node:http: JSON bodies out, answers in, an unreachable dashboard named', async (t) => {
  const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
      if (req.url === '/api/jobs/missing') return void res.writeHead(404).end('not found');
      if (req.method === 'POST' && req.url === '/api/jobs/') return void res.writeHead(500).end('Traceback (most recent call last):\n  ...\nValueError: bad entrypoint\n');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'RUNNING', driver_exit_code: null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const ray = new RayClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  assert.deepEqual(await ray.info('raysubmit_1'), { status: 'RUNNING', driver_exit_code: null });
  assert.equal(await ray.info('missing'), null);
  await assert.rejects(ray.submit({ entrypoint: 'x' }), /Ray job submission failed \(HTTP 500\): ValueError: bad entrypoint/);
  assert.deepEqual(seen[2], { method: 'POST', url: '/api/jobs/', type: 'application/json', body: '{"entrypoint":"x"}' });
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(new RayClient(`http://127.0.0.1:${port}`).info('x'), (e) => e instanceof RayError && e.status === 0 && e.message.startsWith(`cannot reach the Ray dashboard at http://127.0.0.1:${port} (ECONNREFUSED)`));
});
