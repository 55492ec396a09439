import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { startServer } from '../../../backend/src/server';
import { api as callApi, testVenv } from '../../helpers/backend';
import type { Job } from '../../../backend/src/services/jobs/types';

const root = resolve(import.meta.dirname, '../../..');

/** The test venv with the real mlflow (from .ci/setup-python.sh when MLOPS_TEST_VENV is unset). */
export const venv = testVenv;

let pyRoot: string | undefined;
/** Builds (or finds) the local test images; returns the Python install to mount next to the venv. */
export function testImages(): { pyRoot: string; venv: string } {
  pyRoot ??= execFileSync('bash', [join(root, '.ci/build-test-images.sh'), venv()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
  return { pyRoot, venv: venv() };
}

/** Mounts that turn mlops-test/pyhost:1 into a Python with the test venv. */
export function pyMounts(): { source: string; target: string; read_only: boolean }[] {
  const { pyRoot: p, venv: v } = testImages();
  return [
    { source: p, target: p, read_only: true },
    { source: v, target: v, read_only: true },
  ];
}

export interface Backend {
  url: string;
  token: string;
  home: string;
  close: () => Promise<void>;
  api: <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;
}

export function tempHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'mlops-jobs-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

/** A real backend on 127.0.0.1 (jobs need a URL to log to). */
export async function backend(home: string, token = 'test-token'): Promise<Backend> {
  const { app, handshake } = await startServer({ home, token });
  const api = <T,>(method: string, path: string, body?: unknown) => callApi<T>({ url: handshake.url, token }, method, path, body);
  return { url: handshake.url, token, home, close: () => app.server.close(), api };
}

/** Polls the job until `pred` holds (or the deadline passes, which fails the test with the last state). */
export async function until(b: Backend, id: string, pred: (j: Job) => boolean, ms = 60_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const { body } = await b.api<Job>('GET', `/api/v1/jobs/${id}`);
    if (pred(body)) return body;
    if (Date.now() > end) throw new Error(`timed out waiting; job is ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const ended = (j: Job): boolean => j.status !== 'queued' && j.status !== 'running';

/** Containers this test run left behind for a job (must be none once it ended). */
export function containersOf(jobId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=mlops.job=${jobId}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

/** Follows GET /jobs/:id/logs?follow=true (server-sent events) until `end`; `seen` gets every text as it arrives. */
export async function followLogs(b: Backend, id: string, seen: (text: string) => void = () => undefined): Promise<{ text: string; end: Record<string, unknown> }> {
  const res = await fetch(`${b.url}/api/v1/jobs/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${b.token}` } });
  if (!res.ok || !res.body) throw new Error(`logs: HTTP ${res.status}`);
  const decoder = new TextDecoder();
  let buf = '';
  let text = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      const payload = JSON.parse(data) as Record<string, unknown>;
      if (event === 'end') return { text, end: payload };
      text += String(payload.text);
      seen(String(payload.text));
    }
  }
  throw new Error('log stream closed without an end event');
}
