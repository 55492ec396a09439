import type { Clock } from './util/clock';
import { randomBytes } from 'node:crypto';
import { writeFileSync, rmSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import closeWithGrace from 'close-with-grace';
import { buildApp, type App } from './app';
import { acquireHomeLock } from './store/lock';
import { ErrorLog } from './util/error-log';
import { checkStore, damagedMessage } from './store/check';
import { ensureHome } from './store/home';

export interface Handshake {
  url: string;
  token: string;
  pid: number;
}

export interface StartOptions {
  home: string;
  port?: number;
  token?: string;
  logger?: boolean;
  /** Defaults to the system clock (`mlops demo` runs its loop on an accelerated one). */
  clock?: Clock;
}

/**
 * Starts the backend on 127.0.0.1 only and records the handshake in <home>/backend.json (mode 0600). One backend
 * per home: the home's lock is taken before the store is opened (a second backend would reattach, and so kill,
 * the first one's local jobs), and a second start fails naming the running one.
 */
export async function startServer(opts: StartOptions): Promise<{ app: App; handshake: Handshake }> {
  const home = resolve(opts.home);
  ensureHome(home);
  const lock = acquireHomeLock(home, (pid) => describeRunning(home, pid));
  const token = opts.token ?? randomBytes(24).toString('base64url');
  let app: App;
  try {
    const store = join(home, 'mlops.db');
    const check = await checkStore(store, Number(process.env.MLOPS_CHECK_BUDGET_MS) || 5000);
    if (check.status === 'damaged') throw new Error(damagedMessage(store, check));
    app = await buildApp({ home, token, logger: opts.logger ?? false, ...(opts.clock ? { clock: opts.clock } : {}) });
  } catch (err) {
    lock.release();
    throw err;
  }
  // Hooks cannot be added once the server listens.
  app.server.addHook('onClose', async () => {
    rmSync(join(home, 'backend.json'), { force: true });
    lock.release();
  });
  try {
    await app.server.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  } catch (err) {
    await app.server.close();
    throw err;
  }
  const addr = app.server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const handshake: Handshake = { url: `http://127.0.0.1:${port}`, token, pid: process.pid };
  writeFileSync(join(home, 'backend.json'), JSON.stringify(handshake), { mode: 0o600 });
  return { app, handshake };
}

/** `mlops serve`: prints the handshake line, then runs until SIGTERM/SIGINT, finishing in-flight requests. */
export async function serveForever(opts: StartOptions): Promise<void> {
  const { app, handshake } = await startServer(opts);
  process.stdout.write(JSON.stringify(handshake) + '\n');
  await new Promise<void>((done) => {
    closeWithGrace({ delay: 10_000 }, async ({ err }) => {
      if (err) {
        process.stderr.write(`mlops serve: ${String(err)}\n`);
        new ErrorLog(app.ctx.home).write({ err });
      }
      await app.server.close();
      done();
    });
  });
}

/** The handshake of a backend already serving `home`, if its process is alive. */
export function readHandshake(home: string): Handshake | null {
  try {
    const h = JSON.parse(readFileSync(join(resolve(home), 'backend.json'), 'utf8')) as Handshake;
    process.kill(h.pid, 0);
    return h;
  } catch {
    return null;
  }
}

/** "another backend serves <home>: pid 123 at http://127.0.0.1:4567", from its handshake or, while it starts, its lock. */
function describeRunning(home: string, lockPid: number | null): string {
  const h = readHandshake(home);
  const pid = lockPid ?? h?.pid ?? null;
  const where = h && (lockPid === null || h.pid === lockPid) ? ` at ${h.url}` : ' (still starting: no URL yet)';
  return `another backend already serves ${home}: pid ${pid ?? 'unknown'}${where}. One backend per home: use that one (its handshake is ${join(home, 'backend.json')}) or stop it first.`;
}
