import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** Without a list of shipped addons (a development checkout: npm's own build only), any Node from this major on. */
export const MIN_NODE_MAJOR = 20;
/** Node majors by ABI (NODE_MODULE_VERSION), for messages. */
const NODE_OF_ABI: Record<string, string> = { '115': '20', '120': '21', '127': '22', '131': '23', '137': '24', '141': '25' };

export class NodeNotFoundError extends Error {}

/** A runtime for the backend: what to spawn `cli.mjs` with. */
export interface Runtime {
  command: string;
  /** Overrides for the child's environment (undefined removes a variable). */
  env: Record<string, string | undefined>;
  /** What was chosen and why, for the log. */
  label: string;
}

interface Probe {
  version: string;
  abi: string;
}

/** This process: the extension host, whose binary VS Code lets extensions run as Node (ELECTRON_RUN_AS_NODE). */
export interface SelfRuntime {
  execPath: string;
  versions: { node: string; modules: string; electron?: string };
}

/** Where a `node` binary usually lives: PATH first, then version managers and system folders. */
export function nodeCandidates(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string[] {
  const exe = platform === 'win32' ? 'node.exe' : 'node';
  const home = env.HOME ?? env.USERPROFILE ?? '';
  const fromPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, exe));
  const managed: string[] = [];
  for (const base of [join(home, '.nvm/versions/node'), join(home, '.local/share/fnm/node-versions')]) {
    try {
      // Newest first, so a user with several versions gets the latest.
      const vs = readdirSync(base).sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
      for (const v of vs) managed.push(join(base, v, 'bin', exe), join(base, v, 'installation/bin', exe));
    } catch {
      // That manager is not installed.
    }
  }
  const fixed = [join(home, '.volta/bin', exe), '/usr/local/bin/node', '/usr/bin/node', '/opt/homebrew/bin/node'];
  return [...new Set([...fromPath, ...managed, ...fixed])];
}

/**
 * ABIs the installed backend has a better-sqlite3 addon for (node_modules/better-sqlite3/lib/binding/
 * node-v<abi>-<platform>-<arch>, one per Node line, see .ci/setup-node.sh); null when there is none (a development
 * checkout with only npm's build, of unknown ABI).
 */
export function shippedAbis(cliPath: string, platform: string = process.platform, arch: string = process.arch): Set<string> | null {
  try {
    const dir = resolve(cliPath, '..', '..', '..', 'node_modules', 'better-sqlite3', 'lib', 'binding');
    const abis = readdirSync(dir).flatMap((d) => (d.endsWith(`-${platform}-${arch}`) ? (/^node-v(\d+)-/.exec(d)?.[1] ?? []) : []));
    return abis.length ? new Set(abis) : null;
  } catch {
    return null;
  }
}

function probe(bin: string): Promise<Probe | null> {
  return new Promise((done) => {
    // ELECTRON_RUN_AS_NODE cleared: a PATH entry may be an Electron app pretending to be node.
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: undefined };
    execFile(bin, ['-p', 'process.versions.node + " " + process.versions.modules'], { timeout: 5000, env }, (err, stdout) => {
      const m = /^v?(\d+\.\d+\.\d+) (\d+)$/.exec(String(stdout).trim());
      done(err || !m ? null : { version: m[1]!, abi: m[2]! });
    });
  });
}

const major = (version: string): number => Number(version.split('.')[0]);

function fits(p: Probe, abis: Set<string> | null): boolean {
  return abis ? abis.has(p.abi) : major(p.version) >= MIN_NODE_MAJOR;
}

/** "20, 22 or 24" */
function wanted(abis: Set<string> | null): string {
  if (!abis) return `${MIN_NODE_MAJOR} or newer`;
  const v = [...abis].map((a) => NODE_OF_ABI[a] ?? `ABI ${a}`).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return v.length > 1 ? `${v.slice(0, -1).join(', ')} or ${v[v.length - 1]}` : v[0]!;
}

/**
 * The runtime for the backend: the configured Node (which must fit); else the first Node on PATH, in a version manager
 * or a system folder whose ABI has a shipped SQLite addon; else VS Code's own runtime (process.execPath with
 * ELECTRON_RUN_AS_NODE=1) when its ABI has one. Throws NodeNotFoundError saying what is needed otherwise.
 */
export async function chooseRuntime(opts: {
  configured: string;
  cliPath: string;
  env?: NodeJS.ProcessEnv;
  /** Node binaries to try, in order (default: nodeCandidates of env). */
  candidates?: string[];
  self?: SelfRuntime;
}): Promise<Runtime> {
  const abis = shippedAbis(opts.cliPath);
  const asNode = (command: string, p: Probe, why: string): Runtime => ({ command, env: { ELECTRON_RUN_AS_NODE: undefined }, label: `Node ${p.version} at ${command} (${why})` });
  if (opts.configured) {
    const p = existsSync(opts.configured) ? await probe(opts.configured) : null;
    if (!p) throw new NodeNotFoundError(`mlopsStudio.nodePath is "${opts.configured}", which is not a working Node.js binary.`);
    if (!fits(p, abis)) {
      throw new NodeNotFoundError(`mlopsStudio.nodePath points to Node ${p.version}; the backend needs Node.js ${wanted(abis)}. Point it to one of those, or clear it to let MLOps Studio choose.`);
    }
    return asNode(opts.configured, p, 'mlopsStudio.nodePath');
  }
  const tried: string[] = [];
  for (const c of opts.candidates ?? nodeCandidates(opts.env ?? process.env)) {
    if (!existsSync(c)) continue;
    const p = await probe(c);
    if (p && fits(p, abis)) return asNode(c, p, 'found on this machine');
    tried.push(`${c} (${p ? `v${p.version}` : 'not runnable'})`);
  }
  const self = opts.self ?? { execPath: process.execPath, versions: process.versions };
  const own: Probe = { version: self.versions.node, abi: self.versions.modules };
  const what = self.versions.electron ? `VS Code's runtime (Electron ${self.versions.electron}, Node ${own.version})` : `VS Code's runtime (Node ${own.version})`;
  if (fits(own, abis) && (abis || !self.versions.electron)) {
    return { command: self.execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, label: `${what} at ${self.execPath}: no suitable Node.js found on this machine` };
  }
  tried.push(`${what}, ABI ${own.abi}`);
  throw new NodeNotFoundError(
    `The MLOps backend needs Node.js ${wanted(abis)}; none was found (tried ${tried.join(', ')}). Install Node.js 22 or 24 LTS from nodejs.org, or set mlopsStudio.nodePath to one.`,
  );
}
