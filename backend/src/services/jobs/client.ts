import { readHandshake, startServer } from '../../server';
import { backendCaller, ClientError } from '../../util/http-client';
import { HomeLockedError } from '../../store/lock';

export { ClientError };

export interface BackendClient {
  url: string;
  token: string;
  /** True when this process started the backend for itself (it stops when the command ends). */
  embedded: boolean;
  call<T>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * The backend serving `home`: the running one (from its handshake file), or one started inside this process.
 * Jobs log to it over HTTP, so `mlops train` needs one either way.
 */
export async function connectBackend(home: string): Promise<BackendClient> {
  let h = readHandshake(home);
  let close = async (): Promise<void> => undefined;
  let url = h?.url ?? '';
  let token = h?.token ?? '';
  if (!h) {
    try {
      const started = await startServer({ home });
      url = started.handshake.url;
      token = started.handshake.token;
      close = () => started.app.server.close();
    } catch (err) {
      // Another backend took the home while it was starting: use it once its handshake is written.
      if (!(err instanceof HomeLockedError)) throw err;
      h = await waitForHandshake(home, 20_000);
      if (!h) throw err;
      url = h.url;
      token = h.token;
    }
  }
  const call = backendCaller(url, token);
  return { url, token, embedded: !h, call, close };
}

async function waitForHandshake(home: string, ms: number): Promise<ReturnType<typeof readHandshake>> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const h = readHandshake(home);
    if (h) return h;
  }
  return null;
}

export interface LogChunk {
  stream: string;
  text: string;
}

/** Follows a job's log stream; resolves with the `end` event's data. */
export async function followJobLogs(c: BackendClient, jobId: string, onChunk: (c: LogChunk) => void): Promise<{ status: string; reason: string | null; exit_code: number | null }> {
  const res = await fetch(`${c.url}/api/v1/jobs/${encodeURIComponent(jobId)}/logs?follow=true`, { headers: { authorization: `Bearer ${c.token}` } });
  if (!res.ok || !res.body) throw new ClientError(`Cannot follow the logs of job ${jobId}: HTTP ${res.status} ${await res.text()}`, res.status);
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!event || !data) continue;
      if (event === 'end') return JSON.parse(data) as { status: string; reason: string | null; exit_code: number | null };
      onChunk(JSON.parse(data) as LogChunk);
    }
  }
  throw new ClientError('The backend closed the log stream before the job ended', 503);
}
