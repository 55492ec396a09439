import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Needed only to install (download or compile prebuilt binaries), never loaded at run time. */
const INSTALL_ONLY = new Set(['prebuild-install', 'node-abi', 'napi-build-utils', 'expand-template', 'github-from-package', 'rc', 'deep-extend', 'ini', 'strip-json-comments', 'minimist', 'simple-get', 'simple-concat', 'decompress-response', 'mimic-response', 'tunnel-agent', 'nan', 'buildcheck', '@types/node', 'undici-types']);

function closure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    if (INSTALL_ONLY.has(name)) return;
    let dir = from;
    let p = '';
    for (;;) {
      p = join(dir, 'node_modules', name);
      if (existsSync(join(p, 'package.json'))) break;
      const up = dirname(dir);
      if (up === dir) return; // an optional dependency that is not installed
      dir = up;
    }
    const rel = relative(ROOT, p);
    if (seen.has(rel)) return;
    seen.add(rel);
    const pj = JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')) as { dependencies?: object; optionalDependencies?: object };
    for (const d of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) visit(d, p);
  };
  for (const r of roots) visit(r, ROOT);
  return seen;
}

void test('.vscodeignore allowlists the runtime closure of the backend externals, and only linux-x64 binaries', () => {
  const build = readFileSync(join(ROOT, '.ci/build.mjs'), 'utf8');
  const externals = JSON.parse((/backendExternals = (\[[^\]]*\])/.exec(build)?.[1] ?? '[]').replace(/'/g, '"')) as string[];
  assert.ok(externals.includes('better-sqlite3'));
  const ignore = readFileSync(join(ROOT, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
  assert.equal(ignore.find((l) => l && !l.startsWith('#')), '**', 'starts by excluding everything');
  const allowed = ignore.filter((l) => l.startsWith('!node_modules/')).map((l) => l.slice(1));
  for (const pkg of closure(externals)) {
    assert.ok(allowed.some((a) => a === `${pkg}/**` || a.startsWith(`${pkg}/`)), `${pkg} is allowlisted`);
  }
  // One addon per Node ABI under lib/binding (.ci/setup-node.sh), not npm's build for a single ABI.
  assert.ok(allowed.includes('node_modules/better-sqlite3/lib/**'));
  assert.ok(!allowed.some((a) => a.includes('better-sqlite3/build')));
  assert.ok(allowed.includes('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**'));
  assert.ok(!allowed.some((a) => /darwin|win32|arm64/.test(a)), 'no other platform binaries');
  for (const f of ['!dist/extension.js', '!dist/backend/cli.mjs', '!dist/backend/monitor-worker.mjs', '!dist/webviews/*.js', '!media/**', '!package.json']) assert.ok(ignore.includes(f), f);
});
