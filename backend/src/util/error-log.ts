import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Where a backend's errors go: `<home>/logs/backend.log`, then backend.log.1 .. .3 (oldest dropped). */
export const errorLogPath = (home: string): string => join(home, 'logs', 'backend.log');

export interface ErrorLogEntry {
  /** ERROR unless said (background work also logs its warnings here). */
  level?: 'ERROR' | 'WARN';
  /** What was being done, for entries that are not a request's (a background task, a restore). */
  message?: string;
  requestId?: string;
  method?: string;
  url?: string;
  status?: number;
  err: unknown;
}

/**
 * The backend's error log, always on (not only with --log): a 500 answer names a request id, and this is where
 * that id leads. Written synchronously: errors are rare, and the record must survive the process dying right
 * after. Rotated by size (MLOPS_LOG_MAX_BYTES, default 5 MiB), three old files kept.
 */
export class ErrorLog {
  readonly file: string;
  private readonly maxBytes: number;

  constructor(home: string, o: { maxBytes?: number; keep?: number } = {}) {
    this.file = errorLogPath(home);
    this.maxBytes = o.maxBytes ?? (Number(process.env.MLOPS_LOG_MAX_BYTES) || 5 * 2 ** 20);
    this.keep = o.keep ?? 3;
  }

  private readonly keep: number;

  write(e: ErrorLogEntry): void {
    const err = e.err as { stack?: string; message?: string } | undefined;
    const head = [new Date().toISOString(), e.level ?? 'ERROR', e.message ?? '', e.requestId ? `req=${e.requestId}` : '', e.method ?? '', e.url ?? '', e.status ? String(e.status) : ''].filter(Boolean).join(' ');
    const body = e.err === undefined ? '' : (err?.stack ?? err?.message ?? String(e.err)).replace(/\n/g, '\n    ');
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      this.rotate();
      appendFileSync(this.file, body ? `${head}\n    ${body}\n` : `${head}\n`, { mode: 0o600 });
    } catch {
      // A full or read-only disk must not turn one error into a crash; stderr still has it with --log.
    }
  }

  private rotate(): void {
    if (!existsSync(this.file) || statSync(this.file).size < this.maxBytes) return;
    for (let i = this.keep - 1; i >= 1; i--) {
      if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    renameSync(this.file, `${this.file}.1`);
  }
}
