import Database from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Folder name of the addon built for the Node this process runs on (node-pre-gyp's layout, which `bindings` also searches). */
export const BINDING_TARGET = `node-v${process.versions.modules}-${process.platform}-${process.arch}`;

/** Node majors by ABI (NODE_MODULE_VERSION), for messages. */
const NODE_OF_ABI: Record<string, string> = { '115': '20', '120': '21', '127': '22', '131': '23', '137': '24', '141': '25' };

let resolved: { dir: string; binding: string | undefined } | undefined;

/**
 * better-sqlite3's folder and the addon matching this Node: lib/binding/<BINDING_TARGET>/better_sqlite3.node (one per
 * ABI, built by .ci/setup-node.sh and shipped in the VSIX), or undefined for the build/Release one npm built.
 */
function locate(): { dir: string; binding: string | undefined } {
  if (!resolved) {
    const dir = dirname(dirname(createRequire(import.meta.url).resolve('better-sqlite3')));
    const file = join(dir, 'lib', 'binding', BINDING_TARGET, 'better_sqlite3.node');
    resolved = { dir, binding: existsSync(file) ? file : undefined };
  }
  return resolved;
}

/** The addon path to pass as `nativeBinding` (also to worker threads), or undefined for better-sqlite3's default lookup. */
export function sqliteBinding(): string | undefined {
  return locate().binding;
}

/** The Node versions this install has an addon for, e.g. ['20', '22', '24']. */
export function shippedNodeVersions(): string[] {
  try {
    const abis = readdirSync(join(locate().dir, 'lib', 'binding')).flatMap((d) => /^node-v(\d+)-/.exec(d)?.[1] ?? []);
    return abis.map((a) => NODE_OF_ABI[a] ?? `ABI ${a}`).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  } catch {
    return [];
  }
}

/** An addon that does not fit this Node fails with a dlopen error naming NODE_MODULE_VERSION; say what would work. */
function explain(err: unknown): unknown {
  const e = err as { code?: string; message?: string };
  if (e.code !== 'ERR_DLOPEN_FAILED' && !/NODE_MODULE_VERSION|Could not locate the bindings file/.test(e.message ?? '')) return err;
  const shipped = shippedNodeVersions();
  const needs = shipped.length ? `Node ${shipped.join(', ')}` : 'the Node it was installed with';
  const abi = process.versions.modules;
  return new Error(
    `SQLite's native module has no build for Node ${process.versions.node} (ABI ${abi}); this install has builds for ${needs}. ` +
      `Run the backend with one of those (the extension setting mlopsStudio.nodePath), or rebuild: npm rebuild better-sqlite3. (${e.message ?? String(err)})`,
  );
}

/** Opens a better-sqlite3 database with the addon that matches the running Node. */
export function openSqlite(file: string, options: Database.Options = {}): Database.Database {
  const nativeBinding = sqliteBinding();
  try {
    return new Database(file, nativeBinding ? { ...options, nativeBinding } : options);
  } catch (err) {
    throw explain(err);
  }
}
