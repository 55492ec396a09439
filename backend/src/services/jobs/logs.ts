import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LogSink, LogStream } from './types';

export type LogEvent = { type: 'log'; stream: LogStream; text: string } | { type: 'end'; status: string; reason: string | null; exit_code: number | null };

type Listener = (e: LogEvent) => void;

/** A line without its end is held this long for the rest of it (a secret split over two writes is still whole). */
const PARTIAL_HOLD_MS = 250;
/** A longer line is passed on without waiting for its end. */
const MAX_LINE = 64 * 1024;

interface Pending {
  decoder: StringDecoder;
  text: string;
  timer?: NodeJS.Timeout;
}

interface OpenLog {
  fd: number;
  file: string;
  streams: Map<LogStream, Pending>;
  failed: string | null;
}

/**
 * A job's output: appended to its log file (kept with the run) and pushed to live subscribers, with secrets
 * masked in both (by the `mask` given: known secret values, secret-looking names, credentials in URLs and
 * flags). Masking works on whole lines: output is passed on at each line end, a partial line after a short wait.
 * Writes are synchronous, so a subscriber that reads the file and then subscribes misses nothing and sees
 * nothing twice.
 */
export class JobLogs {
  private readonly open = new Map<string, OpenLog>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly mask: (text: string) => string = (t) => t) {}

  sink(jobId: string, file: string): LogSink {
    return {
      write: (stream, chunk) => {
        const f = this.file(jobId, file);
        let p = f.streams.get(stream);
        if (!p) f.streams.set(stream, (p = { decoder: new StringDecoder('utf8'), text: '' }));
        p.text += typeof chunk === 'string' ? chunk : p.decoder.write(chunk);
        const end = Math.max(p.text.lastIndexOf('\n'), p.text.lastIndexOf('\r'));
        if (end >= 0 || p.text.length > MAX_LINE) {
          const cut = end >= 0 ? end + 1 : p.text.length;
          this.pass(jobId, f, stream, p.text.slice(0, cut));
          p.text = p.text.slice(cut);
        }
        if (p.timer) clearTimeout(p.timer);
        p.timer = undefined;
        if (p.text) {
          const held = p;
          held.timer = setTimeout(() => this.flush(jobId, stream, held, false), PARTIAL_HOLD_MS);
          held.timer.unref();
        }
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
      for (const [stream, p] of f.streams) this.flush(jobId, stream, p);
      if (f.fd >= 0) closeSync(f.fd);
      this.open.delete(jobId);
    }
    this.emit(jobId, e);
    this.listeners.delete(jobId);
  }

  /** The output so far (masked again: a secret may have become known since it was written), and every later event until the job ends. */
  follow(jobId: string, file: string, fn: Listener): { backlog: string; close: () => void } {
    let backlog = '';
    try {
      backlog = this.mask(readFileSync(file, 'utf8'));
    } catch {
      // Nothing written yet.
    }
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(fn);
    return { backlog, close: () => set.delete(fn) };
  }

  closeAll(): void {
    for (const [jobId, f] of this.open) {
      for (const [stream, p] of f.streams) this.flush(jobId, stream, p);
      if (f.fd >= 0) closeSync(f.fd);
    }
    this.open.clear();
  }

  private file(jobId: string, file: string): OpenLog {
    let f = this.open.get(jobId);
    if (f) return f;
    try {
      mkdirSync(dirname(file), { recursive: true });
      f = { fd: openSync(file, 'a'), file, streams: new Map(), failed: null };
    } catch (err) {
      f = { fd: -1, file, streams: new Map(), failed: null };
      this.fail(jobId, f, err);
    }
    this.open.set(jobId, f);
    return f;
  }

  /** Passes on a held partial line; `final` also ends a multi-byte character left incomplete. */
  private flush(jobId: string, stream: LogStream, p: Pending, final = true): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    const rest = p.text + (final ? p.decoder.end() : '');
    p.text = '';
    const f = this.open.get(jobId);
    if (rest && f) this.pass(jobId, f, stream, rest);
  }

  private pass(jobId: string, f: OpenLog, stream: LogStream, raw: string): void {
    const text = this.mask(raw);
    try {
      if (f.fd >= 0) writeSync(f.fd, text);
    } catch (err) {
      this.fail(jobId, f, err);
    }
    this.emit(jobId, { type: 'log', stream, text });
  }

  /** A full disk must not take the backend down: keep streaming live, say once that the file is incomplete. */
  private fail(jobId: string, f: OpenLog, err: unknown): void {
    if (f.failed) return;
    f.failed = (err as NodeJS.ErrnoException).code ?? String(err);
    this.emit(jobId, { type: 'log', stream: 'system', text: `[mlops] cannot write the log file ${f.file} (${f.failed}); output from here on is not kept\n` });
  }

  private emit(jobId: string, e: LogEvent): void {
    for (const fn of this.listeners.get(jobId) ?? []) fn(e);
  }
}
