import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { startBackend } from '../helpers/backend';

/**
 * A PUT refused before its body arrived (a bad artifact path here, as any 4xx or 5xx on an upload): the client has
 * sent part of a large body and waits. The backend must close that connection, or SIGTERM waits out its whole
 * grace period (10 s) for a request that will never finish.
 */
void test('a refused upload gets its answer and its connection closed, so SIGTERM does not wait for it', { timeout: 60_000 }, async (t) => {
  const b = await startBackend();
  try {
    const { port } = new URL(b.url);
    const sock = connect(Number(port), '127.0.0.1');
    let answer = '';
    const closedByServer = new Promise<void>((res) => sock.on('close', () => res()));
    sock.on('data', (c: Buffer) => (answer += c.toString()));
    sock.on('error', () => undefined);
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.write(`PUT /api/2.0/mlflow-artifacts/artifacts/0/r/..%2F..%2Fescape.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${b.token}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${64 << 20}\r\n\r\n`);
    sock.write(Buffer.alloc(64 << 10, 1));
    while (!answer.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 20));
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /connection: close/i);
    await closedByServer;
    const t0 = Date.now();
    const code = await b.stop('SIGTERM');
    assert.equal(code, 0);
    const took = Date.now() - t0;
    t.diagnostic(`SIGTERM to exit: ${took} ms`);
    assert.ok(took < 8000, `SIGTERM took ${took} ms: it waited for the upload's connection`);
  } finally {
    await b.stop();
    rmSync(b.home, { recursive: true, force: true });
  }
});
