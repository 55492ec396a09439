import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Job } from '../../../backend/src/services/jobs/types';
import { backend, tempHome, testImages, until, ended } from './helpers';

const root = resolve(import.meta.dirname, '../../..');
const cliPath = join(root, 'dist/backend/cli.mjs');

/** The bundled CLI, as users run it (CI builds it before the tests; build it here when missing). */
function mlops(home: string, args: string[], cwd = root): { code: number; out: string; err: string } {
  if (!existsSync(cliPath)) execFileSync(process.execPath, [join(root, '.ci/build.mjs')], { cwd: root });
  const r = spawnSync(process.execPath, [cliPath, '--home', home, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Async, for when this process also serves the backend the CLI talks to (spawnSync would block it). */
function mlopsAsync(home: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [cliPath, '--home', home, ...args], { cwd: root });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('close', (code) => done({ code: code ?? -1, out, err }));
  });
}

void test('mlops train / jobs / runs reproduce', { timeout: 300_000 }, async (t) => {
  testImages();
  const home = tempHome(t);

  await t.test('train --local streams output and exits with the job code; usage errors exit 2', () => {
    const r = mlops(home, ['train', '--local', '--experiment', 'cli', '--', 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']);
    assert.equal(r.code, 3, r.err);
    // Output the job wrote before the CLI attached comes from the log file, where the streams are merged.
    assert.match(r.out + r.err, /to-stdout/);
    assert.match(r.out + r.err, /to-stderr/);
    assert.match(r.err, /failed \(exit\): Exited with code 3/);
    assert.equal(mlops(home, ['train', '--local', '--image', 'x', '--', 'true']).code, 2);
    assert.equal(mlops(home, ['train']).code, 2);
    const bad = mlops(home, ['train', '--memory', 'lots', '--', 'true']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Invalid memory 'lots'/);
  });

  await t.test('train --build builds the Dockerfile, records the digest, and runs reproduce exactly or says why not', () => {
    const proj = mkdtempSync(join(tmpdir(), 'mlops-build-'));
    writeFileSync(join(proj, 'Dockerfile'), 'FROM mlops-test/busybox:1\nCOPY run.sh /app/run.sh\n');
    writeFileSync(join(proj, 'run.sh'), 'echo "rows: $(wc -l < /data/d.csv)"\n');
    writeFileSync(join(proj, 'd.csv'), 'a\n1\n2\n');
    const r = mlops(home, ['train', '--build', proj, '--mount', `${proj}:/data:ro`, '--data', join(proj, 'd.csv'), '--', 'sh', '/app/run.sh'], proj);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /built mlops\/mlops-build-[a-z0-9]+:[0-9a-f]{12}/);
    assert.match(r.out, /rows: 3/);
    const jobs = JSON.parse(mlops(home, ['jobs', 'list', '--json']).out) as Job[];
    const job = jobs[0]!;
    assert.equal(job.launcher, 'docker');
    const imageId = execFileSync('docker', ['image', 'inspect', '-f', '{{.Id}}', job.spec.image!], { encoding: 'utf8' }).trim();
    // The tag is named after the temporary folder: remove it so repeated runs leave no tags behind.
    t.after(() => execFileSync('docker', ['rmi', '--no-prune', job.spec.image!], { stdio: 'ignore' }));
    const again = mlops(home, ['runs', 'reproduce', job.run_id!], proj);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /reproducing run/);
    assert.match(again.out, /rows: 3/);
    const redo = (JSON.parse(mlops(home, ['jobs', 'list', '--json']).out) as Job[])[0]!;
    assert.equal(redo.spec.image, imageId, 'the reproduction runs the recorded image by id');
    writeFileSync(join(proj, 'd.csv'), 'a\n1\n2\n3\n');
    const refused = mlops(home, ['runs', 'reproduce', job.run_id!], proj);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /data: .*d\.csv changed \(sha256 [0-9a-f]{12} → [0-9a-f]{12}\)/);
    assert.match(refused.err, /cannot be reproduced exactly/);
  });

  await t.test('jobs list / logs / cancel against a running backend', async () => {
    const home2 = tempHome(t);
    const b = await backend(home2);
    t.after(() => b.close());
    const started = await mlopsAsync(home2, ['train', '-d', '--local', '--', 'sh', '-c', 'echo begun; exec sleep 30']);
    assert.equal(started.code, 0, started.err);
    const id = started.out.trim();
    await until(b, id, (j) => j.status === 'running');
    const list = await mlopsAsync(home2, ['jobs', 'list']);
    assert.match(list.out, new RegExp(`${id.slice(0, 12)}\\s+running`));
    const cancel = await mlopsAsync(home2, ['jobs', 'cancel', id.slice(0, 6)]);
    assert.equal(cancel.code, 0, cancel.err);
    const job = await until(b, id, ended);
    assert.equal(job.status, 'cancelled');
    assert.match((await mlopsAsync(home2, ['jobs', 'logs', id])).out, /begun/);
    const slow = (await mlopsAsync(home2, ['train', '-d', '--local', '--', 'sh', '-c', 'sleep 1; echo late-line'])).out.trim();
    const followed = await mlopsAsync(home2, ['jobs', 'logs', '-f', slow]);
    assert.equal(followed.code, 0, followed.err);
    assert.match(followed.out, /late-line/, 'logs -f follows the job to its end');
    const missing = await mlopsAsync(home2, ['jobs', 'logs', 'ffffffffff']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Job 'ffffffffff' not found/);
  });

  await t.test('pipeline run prints each step and exits 1 when a step failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlops-cli-pipe-'));
    writeFileSync(join(dir, 'd.csv'), 'x\n1\n2\n');
    writeFileSync(
      join(dir, 'mlops.yaml'),
      'params: { rows: 2 }\nsteps:\n  check:\n    validate: { data: d.csv, schema: { rows: { min: 2 }, columns: { x: { type: integer, max: 5 } } } }\n  say:\n    needs: [check]\n    command: [sh, -c, "echo rows=${{ params.rows }}"]\n',
    );
    const ok = mlops(home, ['pipeline', 'run', '--local'], dir);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.err, /✓ check: finished — 2 rows passed 1 column check/);
    assert.match(ok.out, /say\s+finished/);
    writeFileSync(join(dir, 'd.csv'), 'x\n1\n9\n');
    const bad = mlops(home, ['pipeline', 'run', join(dir, 'mlops.yaml')], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /✗ check: failed — data validation failed \(1 problem\(s\)\): column 'x': 1 value\(s\) above the maximum 5/);
    assert.match(bad.err, /pipeline .* failed: step 'check' failed/);
    assert.equal(mlops(home, ['pipeline', 'run'], tmpdir()).code, 2, 'no mlops.yaml here: usage error');
  });
});
