import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, CLI, startBackend, tempHome } from '../helpers/backend';

const mlops = (home: string, args: string[]) => spawnSync(process.execPath, [CLI, '--home', home, ...args], { encoding: 'utf8', timeout: 30_000 });

/** Overwrites the cell pointers of the first interior b-tree page (table 0x05 or index 0x02) after the schema page. */
function corruptInteriorPage(file: string): number {
  const fd = openSync(file, 'r+');
  try {
    const head = Buffer.alloc(100);
    readSync(fd, head, 0, 100, 0);
    const pageSize = head.readUInt16BE(16) === 1 ? 65536 : head.readUInt16BE(16);
    const pages = statSync(file).size / pageSize;
    const byte = Buffer.alloc(1);
    for (let p = 2; p <= pages; p++) {
      readSync(fd, byte, 0, 1, (p - 1) * pageSize);
      if (byte[0] !== 0x05 && byte[0] !== 0x02) continue;
      writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, (p - 1) * pageSize + 12);
      return p;
    }
    throw new Error('no interior page');
  } finally {
    closeSync(fd);
  }
}

void test('a store with a corrupted interior page is refused by mlops serve and the CLI, and mlops doctor says what to do', { timeout: 120_000 }, async () => {
  const home = tempHome();
  try {
    const b = await startBackend(home);
    const exp = (await api<{ experiment_id: string }>(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'whole' })).body.experiment_id;
    const run = (await api<{ run: { info: { run_id: string } } }>(b, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i, timestamp: 1, step: i }));
    for (let k = 0; k < 5; k++) assert.equal((await api(b, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics: metrics.map((m) => ({ ...m, step: m.step + k * 1000 })) })).status, 200);
    assert.equal(mlops(home, ['backup', join(home, 'backup.db')]).status, 0, 'a backup while the backend runs');
    await b.stop();
    const healthy = mlops(home, ['doctor']);
    assert.equal(healthy.status, 0, healthy.stderr);
    assert.match(healthy.stdout, /: ok \(/);

    corruptInteriorPage(join(home, 'mlops.db'));
    const served = await new Promise<{ code: number | null; err: string }>((res) => {
      const p = spawn(process.execPath, [CLI, '--home', home, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (c: Buffer) => (err += c.toString()));
      p.stdout.once('data', () => p.kill());
      p.once('exit', (code) => res({ code, err }));
    });
    assert.equal(served.code, 1, served.err);
    assert.match(served.err, /^mlops: the store \S+mlops\.db is damaged \(.+\); it was not opened, so nothing more was written to it\. Run 'mlops doctor'/);
    assert.equal(served.err.trim().split('\n').length, 1, 'one message');
    const listed = mlops(home, ['experiments', 'list']);
    assert.equal(listed.status, 1);
    assert.match(listed.stderr, /is damaged/);
    const doctor = mlops(home, ['doctor']);
    assert.equal(doctor.status, 1);
    assert.match(doctor.stdout, /DAMAGED\n {2}\S/);
    assert.match(doctor.stderr, /copy your latest backup .* over \S+mlops\.db/);

    // the backup is whole and restores the data
    const restored = new Database(join(home, 'backup.db'), { readonly: true });
    assert.equal((restored.prepare("SELECT count(*) AS n FROM metrics WHERE key = 'loss'").get() as { n: number }).n, 5000);
    assert.equal((restored.pragma('integrity_check', { simple: true }) as string), 'ok');
    restored.close();
    assert.equal((statSync(join(home, 'backup.db')).mode & 0o777).toString(8), '600');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
