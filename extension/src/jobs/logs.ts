import * as vscode from 'vscode';
import type { ApiClient } from '../backend/client';
import { enc } from '../backend/features';
import { openEventStream } from '../backend/http';

interface LogChannel {
  channel: vscode.OutputChannel;
  /** Stops following; set while the live stream is open. */
  close?: () => void;
  ended: boolean;
  used: number;
}

/** At most this many job channels stay open; the least recently shown ended one goes first. */
const MAX_CHANNELS = 12;

/**
 * One output channel per job (`MLOps Job: train.py · churn (1a2b3c4d)`), fed by the backend's live log stream
 * (`GET /api/v1/jobs/<id>/logs?follow=true`: the output so far, then each line as it is written, then `end`).
 * Showing a job whose stream is open only reveals its channel; a stream cut short (backend restart) is reopened
 * from the start on the next show.
 */
export class JobLogChannels implements vscode.Disposable {
  private readonly channels = new Map<string, LogChannel>();

  constructor(
    private readonly client: () => Promise<ApiClient>,
    private readonly log: (line: string) => void,
  ) {}

  async show(jobId: string, label: string): Promise<void> {
    let c = this.channels.get(jobId);
    if (c) {
      c.used = Date.now();
      c.channel.show(true);
      if (c.close || c.ended) return;
    } else {
      this.evict();
      c = { channel: vscode.window.createOutputChannel(`MLOps Job: ${label} (${jobId.slice(0, 8)})`), ended: false, used: Date.now() };
      this.channels.set(jobId, c);
      c.channel.show(true);
    }
    await this.follow(jobId, c);
  }

  private async follow(jobId: string, c: LogChannel): Promise<void> {
    const api = await this.client();
    c.channel.clear();
    const onData = (data: string, event: string) => {
      try {
        const e = JSON.parse(data) as { text?: string; status?: string; exit_code?: number | null; reason?: string | null };
        if (event === 'end') {
          const how = typeof e.exit_code === 'number' ? ` (exit ${e.exit_code})` : e.reason ? ` (${e.reason})` : '';
          c.channel.appendLine(`── job ${e.status ?? 'ended'}${how} ──`);
          c.ended = true;
          c.close?.();
          c.close = undefined;
        } else if (typeof e.text === 'string') c.channel.append(e.text);
      } catch {
        this.log(`[jobs] ignored a malformed log event for ${jobId}`);
      }
    };
    const onEnd = (why: string) => {
      c.close = undefined;
      if (!c.ended) c.channel.appendLine(`── log stream interrupted (${why}); show the log again to resume ──`);
    };
    c.close = await openEventStream(api.endpoint, `/api/v1/jobs/${enc(jobId)}/logs?follow=true`, onData, onEnd);
    // An `end` that came with the backlog closed the stream before `close` was assigned.
    if (c.ended) {
      c.close();
      c.close = undefined;
    }
  }

  private evict(): void {
    if (this.channels.size < MAX_CHANNELS) return;
    const oldest = [...this.channels.entries()].filter(([, c]) => !c.close).sort((a, b) => a[1].used - b[1].used)[0];
    if (!oldest) return;
    oldest[1].channel.dispose();
    this.channels.delete(oldest[0]);
  }

  dispose(): void {
    for (const c of this.channels.values()) {
      c.close?.();
      c.channel.dispose();
    }
    this.channels.clear();
  }
}
