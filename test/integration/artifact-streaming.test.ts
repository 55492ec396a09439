import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { startBackend } from '../helpers/backend';

const SIZE = 512 * 1024 * 1024;
const CHUNK = 1 << 20;

/** Peak resident memory of a process, from the kernel's own accounting. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

function chunkAt(i: number): Buffer {
  const b = Buffer.alloc(CHUNK, i % 251);
  b.writeUInt32LE(i, 0);
  return b;
}

void test('a 512 MiB artifact streams up and down without the backend holding it in memory', { timeout: 300_000 }, async () => {
  const b = await startBackend();
  try {
    const before = peakRssMb(b.pid);
    const sent = createHash('sha256');
    let i = 0;
    const body = new Readable({
      read() {
        if (i * CHUNK >= SIZE) {
          this.push(null);
          return;
        }
        const c = chunkAt(i++);
        sent.update(c);
        this.push(c);
      },
    });
    const url = new URL(`${b.url}/api/2.0/mlflow-artifacts/artifacts/0/big/artifacts/blob.bin`);
    const status = await new Promise<number>((res, rej) => {
      const req = request(url, { method: 'PUT', headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/octet-stream', 'content-length': SIZE } }, (r) => {
        r.resume();
        r.on('end', () => res(r.statusCode ?? 0));
      });
      req.on('error', rej);
      body.pipe(req);
    });
    assert.equal(status, 200);
    const res = await fetch(url, { headers: { authorization: `Bearer ${b.token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(SIZE));
    const got = createHash('sha256');
    let n = 0;
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      got.update(c);
      n += c.length;
    }
    assert.equal(n, SIZE);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    const grew = peakRssMb(b.pid) - before;
    assert.ok(grew < 128, `backend peak memory grew by ${grew.toFixed(0)} MiB for a ${SIZE >> 20} MiB file`);
  } finally {
    await b.stop();
    rmSync(b.home, { recursive: true, force: true });
  }
});
