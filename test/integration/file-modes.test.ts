import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { api, startBackend, tempHome } from '../helpers/backend';

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

/** Every file directly in the home (the store, its -wal/-shm, backend.json, backend.lock), with its mode. */
function fileModes(home: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(home)) if (statSync(join(home, n)).isFile() && n !== '.gitignore') out[n] = mode(join(home, n));
  return out;
}

void test('a new home is 0700 and the store, its WAL files, the lock and the handshake are 0600', { timeout: 60_000 }, async () => {
  const parent = tempHome();
  chmodSync(parent, 0o755);
  const home = join(parent, 'sub', 'store');
  const b = await startBackend(home);
  try {
    await api(b, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'modes' });
    assert.equal(mode(home), '700');
    assert.equal(mode(join(parent, 'sub')), '755', 'parents keep the usual mode');
    assert.deepEqual(fileModes(home), { 'backend.json': '600', 'backend.lock': '600', 'mlops.db': '600', 'mlops.db-shm': '600', 'mlops.db-wal': '600' });
  } finally {
    await b.stop();
    rmSync(parent, { recursive: true, force: true });
  }
});

void test('the backend listens on 127.0.0.1 only and wants its per-start token', { timeout: 60_000 }, async () => {
  const b = await startBackend();
  const other = await startBackend();
  try {
    const port = Number(new URL(b.url).port).toString(16).toUpperCase().padStart(4, '0');
    // /proc/net/tcp{,6}: local address and port of every socket; 0A is LISTEN. IPv6 listeners would show in tcp6.
    const listening = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => readFileSync(f, 'utf8').split('\n').slice(1)).map((l) => l.trim().split(/\s+/)).filter((c) => c[1]?.endsWith(`:${port}`) && c[3] === '0A');
    assert.deepEqual(listening.map((c) => c[1]), [`0100007F:${port}`]);
    assert.notEqual(b.token, other.token, 'a new token per start');
    assert.equal((await api(b, 'GET', '/api/2.0/mlflow/experiments/search?max_results=1')).status, 200);
    assert.equal((await api({ url: b.url, token: other.token }, 'GET', '/api/2.0/mlflow/experiments/search?max_results=1')).status, 401);
  } finally {
    await b.stop();
    await other.stop();
    rmSync(b.home, { recursive: true, force: true });
    rmSync(other.home, { recursive: true, force: true });
  }
});

void test('a store made before (home 0755, mlops.db 0644) is tightened when the backend opens it', { timeout: 60_000 }, async () => {
  const home = tempHome();
  let b = await startBackend(home);
  await b.stop();
  chmodSync(home, 0o755);
  chmodSync(join(home, 'mlops.db'), 0o644);
  chmodSync(join(home, 'backend.lock'), 0o644);
  mkdirSync(join(home, 'artifacts'), { recursive: true });
  b = await startBackend(home);
  try {
    assert.equal(mode(home), '700');
    assert.equal(mode(join(home, 'mlops.db')), '600');
    assert.equal(mode(join(home, 'backend.lock')), '600');
  } finally {
    await b.stop();
    rmSync(home, { recursive: true, force: true });
  }
});
