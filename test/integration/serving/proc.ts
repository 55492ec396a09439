import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(__dirname, '../../..');
export const CLI = join(ROOT, 'dist/backend/cli.mjs');

/**
 * Node arguments that run a TypeScript entry: through tsx, or, where test/device/make-bundle.sh bundled the
 * benchmark for a machine without the dev dependencies (MLOPS_BENCH_BUNDLED=1), the .mjs bundle beside it.
 */
export function tsEntry(file: string): string[] {
  return process.env.MLOPS_BENCH_BUNDLED === '1' ? [file.replace(/\.ts$/, '.mjs')] : ['--import', 'tsx', file];
}

/** The built CLI (npm test builds it first; a lone run builds it here). */
export function ensureBuilt(): void {
  if (!existsSync(CLI)) {
    const r = spawnSync(process.execPath, ['.ci/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
  }
}

export interface Backend {
  url: string;
  token: string;
  proc: ChildProcess;
  stop(): Promise<number | null>;
}

/** `mlops serve` as its own process (with extra node options, if any); resolves once it printed its handshake line. */
export async function startBackend(home: string, nodeArgs: readonly string[] = []): Promise<Backend> {
  const proc = spawn(process.execPath, [...nodeArgs, CLI, '--home', home, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((done, fail) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', done);
    proc.once('exit', (code) => fail(new Error(`backend exited with ${code} before its handshake`)));
  });
  const h = JSON.parse(line) as { url: string; token: string };
  return {
    ...h,
    proc,
    stop: () =>
      new Promise((done) => {
        if (proc.exitCode !== null) return done(proc.exitCode);
        proc.once('exit', (code) => done(code));
        proc.kill('SIGTERM');
      }),
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function cli(home: string, ...args: string[]): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    const p = spawn(process.execPath, [CLI, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (code) => done({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 }));
  });
}

export interface LoadSummary {
  sent: number;
  done: number;
  ok: number;
  failed: number;
  fallback: number;
  seconds: number;
  throughput: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  client_cpu_ms_per_req: number | null;
  status: Record<string, number>;
  variants: Record<string, number>;
  timeline: { t: number; variant: string }[];
  errors: string[];
  /** With `phaseSeconds`: each phase's requests (by when they were sent) and percentiles. */
  phases: { sent: number; ok: number; failed: number; measured: number; p50_ms: number | null; p99_ms: number | null; max_ms: number | null }[];
}

export interface LoadOptions {
  url: string;
  token?: string;
  path: string;
  rate: number;
  seconds: number;
  concurrency?: number;
  bodies: unknown[];
  warmupSeconds?: number;
  /** Epoch ms to start at; `phaseSeconds`/`marginSeconds`: per-phase figures (loadgen.ts). */
  startAt?: number;
  phaseSeconds?: number;
  marginSeconds?: number;
}

/** Starts the load generator process; `result` resolves with its summary when it ends (or is stopped). */
export function startLoad(o: LoadOptions): { stop: () => void; result: Promise<LoadSummary> } {
  const p = spawn(process.execPath, [...tsEntry(join(__dirname, 'loadgen.ts')), JSON.stringify(o)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const result = new Promise<LoadSummary>((done, fail) =>
    p.on('exit', (code) => {
      try {
        done(JSON.parse(out.trim().split('\n').at(-1)!) as LoadSummary);
      } catch {
        fail(new Error(`load generator exited with ${code} and no summary`));
      }
    }),
  );
  return { stop: () => p.kill('SIGTERM'), result };
}

export const sleep = (ms: number) => new Promise((d) => setTimeout(d, ms));
