import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chooseRuntime, nodeCandidates, NodeNotFoundError, shippedAbis } from '../../../extension/src/backend/node';

// An installed extension's layout: its backend bundle and one better-sqlite3 addon folder per Node ABI it ships.
const dir = mkdtempSync(join(tmpdir(), 'mlops-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const layout = (name: string, abis: string[]): string => {
  const cli = join(dir, name, 'dist', 'backend', 'cli.mjs');
  mkdirSync(join(cli, '..'), { recursive: true });
  writeFileSync(cli, '');
  for (const a of abis) mkdirSync(join(dir, name, 'node_modules/better-sqlite3/lib/binding', `node-v${a}-${process.platform}-${process.arch}`), { recursive: true });
  return cli;
};
const packaged = layout('ext', ['115', '127', '137']);
mkdirSync(join(dir, 'ext/node_modules/better-sqlite3/lib/binding/node-v131-darwin-arm64'), { recursive: true });
const devCheckout = layout('dev', []);
/** A `node` answering the probe (`-p versions`) like the given release. */
const fakeNode = (name: string, version: string, abi: string): string => {
  const p = join(dir, 'bin', name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(p, `#!/bin/sh\necho "${version} ${abi}"\n`);
  chmodSync(p, 0o755);
  return p;
};
const node23 = fakeNode('node23', '23.11.1', '131');
const node22 = fakeNode('node22', '22.20.0', '127');
const node16 = fakeNode('node16', '16.20.2', '93');
const electron = { execPath: '/opt/vscode/code', versions: { node: '22.19.0', modules: '136', electron: '37.7.0' } };

void test('shipped ABIs are read from the addon folders for this platform only; none in a development checkout', () => {
  assert.deepEqual([...shippedAbis(packaged)!].sort(), ['115', '127', '137']);
  assert.equal(shippedAbis(devCheckout), null);
});

void test('the first Node on the machine whose ABI has an addon is chosen, skipping one that has none', async () => {
  const r = await chooseRuntime({ configured: '', cliPath: packaged, candidates: [join(dir, 'missing'), node23, node22], self: electron });
  assert.equal(r.command, node22);
  assert.ok('ELECTRON_RUN_AS_NODE' in r.env && r.env.ELECTRON_RUN_AS_NODE === undefined, 'ELECTRON_RUN_AS_NODE removed for a real node');
  assert.match(r.label, /Node 22\.20\.0 at .*node22/);
  // The real Node running this test (20, ABI 115) on PATH.
  const bin = join(dir, 'path-bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const real = await chooseRuntime({ configured: '', cliPath: packaged, env: { PATH: bin, HOME: dir }, self: electron });
  assert.equal(real.command, join(bin, 'node'));
  assert.match(real.label, new RegExp(`Node ${process.versions.node}`));
});

void test('with no suitable Node, VS Code own runtime runs the backend as Node when its ABI has an addon', async () => {
  const self = { execPath: process.execPath, versions: process.versions };
  const r = await chooseRuntime({ configured: '', cliPath: packaged, candidates: [node23, node16], self });
  assert.deepEqual([r.command, r.env.ELECTRON_RUN_AS_NODE], [process.execPath, '1']);
  assert.match(r.label, /VS Code's runtime/);
});

void test('when nothing fits, the error says which Node versions the backend needs and what was tried', async () => {
  await assert.rejects(chooseRuntime({ configured: '', cliPath: packaged, candidates: [node23], self: electron }), (e: Error) => {
    assert.ok(e instanceof NodeNotFoundError);
    assert.match(e.message, /needs Node\.js 20, 22 or 24; none was found/);
    assert.match(e.message, /node23 \(v23\.11\.1\)/);
    assert.match(e.message, /VS Code's runtime \(Electron 37\.7\.0, Node 22\.19\.0\), ABI 136/);
    assert.match(e.message, /Install Node\.js 22 or 24 LTS/);
    return true;
  });
});

void test('a configured Node must fit: used when it does, a clear error when it does not', async () => {
  assert.equal((await chooseRuntime({ configured: node22, cliPath: packaged, candidates: [], self: electron })).command, node22);
  await assert.rejects(chooseRuntime({ configured: node23, cliPath: packaged, self: electron }), /points to Node 23\.11\.1; the backend needs Node\.js 20, 22 or 24/);
  await assert.rejects(chooseRuntime({ configured: join(dir, 'missing'), cliPath: packaged }), /not a working Node\.js binary/);
});

void test('a development checkout (npm build only) takes any Node 20+, never Electron', async () => {
  assert.equal((await chooseRuntime({ configured: '', cliPath: devCheckout, candidates: [node16, node23], self: electron })).command, node23);
  await assert.rejects(chooseRuntime({ configured: node16, cliPath: devCheckout }), /Node 16\.20\.2; the backend needs Node\.js 20 or newer/);
  await assert.rejects(chooseRuntime({ configured: '', cliPath: devCheckout, candidates: [node16], self: electron }), NodeNotFoundError);
});

void test('Node candidates: PATH first, in order', () => {
  assert.deepEqual(nodeCandidates({ PATH: '/a:/b', HOME: '/h' }).slice(0, 2), ['/a/node', '/b/node']);
});
