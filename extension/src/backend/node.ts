import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The backend's native modules are built for Node 20's ABI or newer. */
export const MIN_NODE_MAJOR = 20;

export class NodeNotFoundError extends Error {}

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

function versionOf(bin: string): Promise<number | null> {
  return new Promise((done) => {
    // ELECTRON_RUN_AS_NODE cleared: a PATH entry may be an Electron app pretending to be node.
    execFile(bin, ['--version'], { timeout: 5000, env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined } }, (err, stdout) => {
      const m = /^v(\d+)\./.exec(String(stdout).trim());
      done(err || !m ? null : Number(m[1]));
    });
  });
}

/** The configured Node, or the first suitable one found; throws NodeNotFoundError with what was tried. */
export async function findNode(configured: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (configured) {
    const major = existsSync(configured) ? await versionOf(configured) : null;
    if (major === null) throw new NodeNotFoundError(`mlopsStudio.nodePath is "${configured}", which is not a working Node.js binary.`);
    if (major < MIN_NODE_MAJOR) throw new NodeNotFoundError(`mlopsStudio.nodePath points to Node ${major}; the backend needs Node ${MIN_NODE_MAJOR} or newer.`);
    return configured;
  }
  const tried: string[] = [];
  for (const c of nodeCandidates(env)) {
    if (!existsSync(c)) continue;
    const major = await versionOf(c);
    if (major !== null && major >= MIN_NODE_MAJOR) return c;
    tried.push(`${c} (${major === null ? 'not runnable' : `v${major}`})`);
  }
  throw new NodeNotFoundError(
    `No Node.js ${MIN_NODE_MAJOR}+ found${tried.length ? ` (tried ${tried.join(', ')})` : ' on PATH'}. Install Node.js ${MIN_NODE_MAJOR}+ or set mlopsStudio.nodePath.`,
  );
}
