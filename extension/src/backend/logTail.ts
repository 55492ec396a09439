import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where the backend writes its error log (rotated by the backend; `backend.log` is always the current file). */
export const backendLogPath = (home: string): string => join(home, 'logs', 'backend.log');

/** Bytes read per tick at most: a burst of errors cannot stall the extension host; the rest is skipped with a note. */
export const MAX_READ_BYTES = 1 << 20;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * One log line as a person reads it: a JSON line (pino, what fastify logs) becomes `time LEVEL message (error)`
 * with the stack on the following lines; any other line is shown as it is.
 */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof o.time === 'number' ? localTime(o.time) : typeof o.time === 'string' ? o.time : '';
  const level = typeof o.level === 'number' ? (LEVELS[o.level] ?? `L${o.level}`) : typeof o.level === 'string' ? o.level.toUpperCase() : '';
  const err = (o.err ?? o.error) as { type?: string; message?: string; stack?: string } | undefined;
  const req = o.req as { method?: string; url?: string } | undefined;
  const msg = typeof o.msg === 'string' ? o.msg : typeof o.message === 'string' ? o.message : '';
  const parts = [time, level, req?.method && req.url ? `${req.method} ${req.url}` : '', msg].filter(Boolean).join(' ');
  const errText = err?.message && err.message !== msg ? ` (${err.type ? `${err.type}: ` : ''}${err.message})` : '';
  const stack = err?.stack ? `\n${err.stack.split('\n').slice(1).join('\n')}` : '';
  return `${parts || line}${errText}${stack}`.trimEnd();
}

interface Open {
  fd: number;
  ino: number;
  offset: number;
}

/**
 * Follows a log file the way `tail -F` does, one `tick()` at a time: lines appended since the last tick go to
 * `onLine`; a rotation (the path now names another file) first drains the old file, then reads the new one from
 * its start; a file cut shorter is read again from its start; a missing file is waited for.
 */
export class LogTail {
  private open: Open | undefined;
  private partial = '';
  /** After a skip the read starts mid-line: drop up to the next line break. */
  private partialSkip = false;
  private emitted = 0;

  /** `fromStart`: also report what the file holds already (otherwise only what is appended after the first tick). */
  constructor(
    readonly path: string,
    private readonly emit: (line: string) => void,
    private fromStart = false,
  ) {}

  /** Reads what is new; returns how many lines it reported. */
  tick(): number {
    this.emitted = 0;
    let ino: number | undefined;
    let size = 0;
    try {
      const st = statSync(this.path);
      ino = st.ino;
      size = st.size;
    } catch {
      ino = undefined;
    }
    if (this.open && this.open.ino !== ino) {
      // Rotated or removed: what was written to the old file before the switch is still ours.
      this.drain(this.open, fstatSync(this.open.fd).size);
      this.flushPartial();
      this.close();
      this.fromStart = true;
    }
    if (ino === undefined) {
      // Whatever the file holds once it appears was written after we started looking.
      this.fromStart = true;
      return this.emitted;
    }
    if (!this.open) {
      try {
        const fd = openSync(this.path, 'r');
        this.open = { fd, ino: fstatSync(fd).ino, offset: this.fromStart ? 0 : size };
      } catch {
        return this.emitted;
      }
      this.fromStart = true;
    }
    if (size < this.open.offset) {
      this.open.offset = 0;
      this.partial = '';
    }
    this.drain(this.open, size);
    return this.emitted;
  }

  private drain(o: Open, size: number): void {
    if (size - o.offset > MAX_READ_BYTES) {
      this.flushPartial();
      this.onLine(`… ${size - o.offset - MAX_READ_BYTES} bytes of ${this.path} skipped (more than ${MAX_READ_BYTES} at once)`);
      o.offset = size - MAX_READ_BYTES;
      this.partial = '';
      this.partialSkip = true;
    }
    if (size <= o.offset) return;
    const buf = Buffer.alloc(size - o.offset);
    const n = readSync(o.fd, buf, 0, buf.length, o.offset);
    o.offset += n;
    let text = this.partial + buf.subarray(0, n).toString('utf8');
    if (this.partialSkip) {
      const nl = text.indexOf('\n');
      text = nl < 0 ? '' : text.slice(nl + 1);
      this.partialSkip = nl < 0;
    }
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) this.onLine(formatLogLine(l));
  }

  private onLine(line: string): void {
    this.emitted++;
    this.emit(line);
  }

  private flushPartial(): void {
    if (this.partial.trim()) this.onLine(formatLogLine(this.partial));
    this.partial = '';
  }

  private close(): void {
    if (this.open) closeSync(this.open.fd);
    this.open = undefined;
  }

  dispose(): void {
    this.close();
  }
}

/** The last `maxBytes` of a file as formatted lines (for the read-only log view), or undefined when it does not exist. */
export function readLogTail(path: string, maxBytes = 4 * MAX_READ_BYTES): { text: string; skipped: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    let text = buf.subarray(0, n).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { text: text.split('\n').map((l) => (l ? formatLogLine(l) : l)).join('\n'), skipped: start };
  } finally {
    closeSync(fd);
  }
}
