import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogSink, LogStream } from './types';

export type LogEvent = { type: 'log'; stream: LogStream; text: string } | { type: 'end'; status: string; reason: string | null; exit_code: number | null };

type Listener = (e: LogEvent) => void;

/**
 * A job's output: appended to its log file (kept with the run) and pushed to live subscribers. Writes are
 * synchronous, so a subscriber that reads the file and then subscribes misses nothing and sees nothing twice.
 */
export class JobLogs {
  private readonly open = new Map<string, { fd: number; decoders: Map<LogStream, StringDecoder>; failed: string | null }>();
  private readonly listeners = new Map<string, Set<Listener>>();

  sink(jobId: string, file: string): LogSink {
    return {
      write: (stream, chunk) => {
        let f = this.open.get(jobId);
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        try {
          if (!f) {
            mkdirSync(dirname(file), { recursive: true });
            f = { fd: openSync(file, 'a'), decoders: new Map(), failed: null };
            this.open.set(jobId, f);
          }
          if (f.fd >= 0) writeSync(f.fd, buf);
        } catch (err) {
          // A full disk must not take the backend down: keep streaming live, say once that the file is incomplete.
          if (!f) this.open.set(jobId, (f = { fd: -1, decoders: new Map(), failed: null }));
          if (!f.failed) {
            f.failed = (err as NodeJS.ErrnoException).code ?? String(err);
            this.emit(jobId, { type: 'log', stream: 'system', text: `[mlops] cannot write the log file ${file} (${f.failed}); output from here on is not kept\n` });
          }
        }
        let dec = f.decoders.get(stream);
        if (!dec) f.decoders.set(stream, (dec = new StringDecoder('utf8')));
        const text = dec.write(buf);
        if (text) this.emit(jobId, { type: 'log', stream, text });
      },
    };
  }

  /** A line from the orchestrator itself (retries, reattach, the end), marked so it is not mistaken for output. */
  system(jobId: string, file: string, line: string): void {
    this.sink(jobId, file).write('system', `[mlops] ${line}\n`);
  }

  end(jobId: string, e: Extract<LogEvent, { type: 'end' }>): void {
    const f = this.open.get(jobId);
    if (f) {
      if (f.fd >= 0) closeSync(f.fd);
      this.open.delete(jobId);
    }
    this.emit(jobId, e);
    this.listeners.delete(jobId);
  }

  /** The output so far, and every later event until the job ends. */
  follow(jobId: string, file: string, fn: Listener): { backlog: string; close: () => void } {
    let backlog = '';
    try {
      backlog = readFileSync(file, 'utf8');
    } catch {
      // Nothing written yet.
    }
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(fn);
    return { backlog, close: () => set.delete(fn) };
  }

  private emit(jobId: string, e: LogEvent): void {
    for (const fn of this.listeners.get(jobId) ?? []) fn(e);
  }

  closeAll(): void {
    for (const f of this.open.values()) if (f.fd >= 0) closeSync(f.fd);
    this.open.clear();
  }
}
