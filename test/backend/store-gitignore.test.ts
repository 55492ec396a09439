import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../backend/src/app';
import { codeState } from '../../backend/src/services/jobs/lineage';

function repo(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-gitignore-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir });
  git('init', '-q');
  writeFileSync(join(dir, 'train.py'), 'print(1)\n');
  git('add', 'train.py');
  git('commit', '-qm', 'init');
  return dir;
}

const status = (dir: string) => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });

void test('a new store writes .mlops/.gitignore (*): the token file and database stay out of git and out of the code digest', async (t) => {
  const dir = repo(t);
  const app = await buildApp({ home: join(dir, '.mlops'), token: 'tok' });
  try {
    writeFileSync(join(dir, '.mlops', 'backend.json'), '{"token":"tok"}');
    assert.equal(readFileSync(join(dir, '.mlops', '.gitignore'), 'utf8'), '*\n');
    assert.equal(status(dir), '', 'Source Control shows nothing from the store');
    assert.deepEqual({ ...(await codeState(dir)), commit: null }, { commit: null, dirty: false, diffDigest: null });
  } finally {
    await app.server.close();
  }
  // A folder the user chose that already held other things is not ignored wholesale.
  const own = join(dir, 'mine');
  mkdirSync(own);
  writeFileSync(join(own, 'notes.md'), 'mine\n');
  const other = await buildApp({ home: own, token: 'tok', dbFile: ':memory:' });
  await other.server.close();
  assert.equal(existsSync(join(own, '.gitignore')), false);
});

void test('the digest of uncommitted changes leaves out a .mlops store even without its .gitignore (a store from before)', async (t) => {
  const dir = repo(t);
  writeFileSync(join(dir, 'new.py'), 'print(2)\n');
  const before = await codeState(dir);
  assert.equal(before.dirty, true);
  mkdirSync(join(dir, '.mlops', 'artifacts'), { recursive: true });
  writeFileSync(join(dir, '.mlops', 'mlops.db'), 'x'.repeat(100_000));
  writeFileSync(join(dir, '.mlops', 'artifacts', 'model.onnx'), 'y');
  writeFileSync(join(dir, 'sub.mlops'), 'not a store\n');
  const after = await codeState(dir);
  writeFileSync(join(dir, '.mlops', 'mlops.db'), 'z');
  assert.equal((await codeState(dir)).diffDigest, after.diffDigest, 'store contents do not change the digest');
  assert.notEqual(after.diffDigest, before.diffDigest, 'a real untracked file still does');
  rmSync(join(dir, 'sub.mlops'));
  assert.equal((await codeState(dir)).diffDigest, before.diffDigest);
});
