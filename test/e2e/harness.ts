/**
 * A real VS Code for end-to-end tests: code-server (from .ci/setup-vscode.sh) with this extension installed,
 * driven by playwright-core and Debian's Chromium. See ../shared/docs/vscode-e2e.md for the flags and why.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';
import type { Api } from './seed';
import { waitFor } from './ui';

export const ROOT = resolve(import.meta.dirname, '../..');
export const OUT = join(ROOT, 'test/.out');
const CHROMIUM = '/usr/bin/chromium';

export function codeServerBin(): string {
  if (process.env.MLOPS_CODE_SERVER) return process.env.MLOPS_CODE_SERVER;
  const out = execFileSync('bash', [join(ROOT, '.ci/setup-vscode.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => done(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Runs `mlops serve` on a home folder (to seed it before VS Code opens, or to compare with). */
export async function startBackend(home: string): Promise<{ api: Api; proc: ChildProcess; stop: () => Promise<void> }> {
  const proc = spawn(process.execPath, [join(ROOT, 'dist/backend/cli.mjs'), '--home', home, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((done, fail) => {
    createInterface({ input: proc.stdout! }).once('line', done);
    proc.once('exit', (c) => fail(new Error(`backend exited with ${c}`)));
  });
  const api = JSON.parse(line) as Api;
  const stop = () =>
    new Promise<void>((done) => {
      if (proc.exitCode !== null) return done();
      proc.once('exit', () => done());
      proc.kill('SIGTERM');
    });
  return { api, proc, stop };
}

export interface Workbench {
  page: Page;
  context: BrowserContext;
  run: string;
  workspace: string;
  /** Text of the extension's output channel as VS Code logged it (its log file). */
  outputLog(): string;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

function findFile(dir: string, test: (name: string) => boolean): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) {
      const f = findFile(p, test);
      if (f) return f;
    } else if (test(n)) return p;
  }
  return undefined;
}

/**
 * Starts code-server on `workspace` with the extension, opens it in Chromium and waits for the workbench. `others`:
 * folders of other extensions (a package.json and what it names) installed beside it, as `<publisher>.<name>-<version>`.
 */
export async function openWorkbench(name: string, workspace: string, settings: Record<string, unknown> = {}, vsix?: string, others: string[] = []): Promise<Workbench> {
  const bin = codeServerBin();
  const run = join(OUT, `e2e-${name}`);
  rmSync(run, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.startsWith(`e2e-${name}-`) && f.endsWith('.png')) rmSync(join(OUT, f));
  for (const d of ['udd/User', 'exts', 'xdg/config', 'xdg/data', 'xdg/cache', 'chrome']) mkdirSync(join(run, d), { recursive: true });
  writeFileSync(join(run, 'config.yaml'), 'auth: none\ncert: false\n');
  const env = { ...process.env, XDG_CONFIG_HOME: join(run, 'xdg/config'), XDG_DATA_HOME: join(run, 'xdg/data'), XDG_CACHE_HOME: join(run, 'xdg/cache') };
  if (vsix) {
    // The packaged extension, installed the way a user installs it.
    execFileSync(bin, ['--config', join(run, 'config.yaml'), '--user-data-dir', join(run, 'udd'), '--extensions-dir', join(run, 'exts'), '--install-extension', vsix], { env, stdio: 'pipe' });
  } else {
    // The extension folder: links to this checkout's manifest, bundles, media and node_modules (native modules included).
    const ext = join(run, 'exts', 'mlops-studio.mlops-studio-0.1.0');
    mkdirSync(ext);
    for (const f of ['package.json', 'dist', 'media', 'node_modules']) symlinkSync(join(ROOT, f), join(ext, f));
  }
  for (const dir of others) {
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
    cpSync(dir, join(run, 'exts', `${m.publisher}.${m.name}-${m.version}`), { recursive: true });
  }
  writeFileSync(
    join(run, 'udd/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'workbench.tips.enabled': false,
      'chat.disableAIFeatures': true,
      'window.commandCenter': false,
      ...settings,
    }),
  );
  const port = await freePort();
  const server = spawn(
    bin,
    ['--config', join(run, 'config.yaml'), '--user-data-dir', join(run, 'udd'), '--extensions-dir', join(run, 'exts'), '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', workspace],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  server.stdout!.on('data', (b: Buffer) => logs.push(b.toString()));
  server.stderr!.on('data', (b: Buffer) => logs.push(b.toString()));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || server.exitCode !== null) throw new Error(`code-server did not start:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const context = await chromium.launchPersistentContext(join(run, 'chrome'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    env,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
  let shot = 0;
  return {
    page,
    context,
    run,
    workspace,
    outputLog: () => {
      const f = findFile(join(run, 'udd/logs'), (n) => n.endsWith('MLOps Studio.log'));
      return f ? readFileSync(f, 'utf8') : '';
    },
    screenshot: async (label: string) => {
      const p = join(OUT, `e2e-${name}-${String(++shot).padStart(2, '0')}-${label}.png`);
      await page.screenshot({ path: p });
      return p;
    },
    close: async () => {
      await context.close().catch(() => undefined);
      await new Promise<void>((done) => {
        if (server.exitCode !== null) return done();
        server.once('exit', () => done());
        server.kill('SIGTERM');
      });
    },
  };
}

export async function openContainer(page: Page, title = 'MLOps'): Promise<void> {
  await page.locator(`.part.activitybar .action-item a[aria-label^="${title}"], .part.activitybar .action-item[aria-label^="${title}"]`).first().click();
}

export function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');
}

export function copyFixture(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}

/** The handshake of the backend the extension started in `home`, once it answers /health (waits on state, not time). */
export async function runningBackend(home: string, timeoutMs = 90_000): Promise<{ url: string; token: string; pid: number }> {
  return waitFor('the backend to answer', async () => {
    const h = JSON.parse(readFileSync(join(home, 'backend.json'), 'utf8')) as { url: string; token: string; pid: number };
    return (await fetch(`${h.url}/health`)).ok ? h : undefined;
  }, timeoutMs);
}
