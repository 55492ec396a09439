/** What background services log through: the subset of pino's interface they use (Fastify's logger fits). */
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Where warn/error records are also written, whatever the base logger does (util/error-log.ts's ErrorLog fits). */
export interface ErrorSink {
  write(e: { level?: 'ERROR' | 'WARN'; message?: string; err?: unknown }): void;
}

/**
 * The base logger (Fastify's, silent without --log) plus the always-on error log for warnings and errors, so a
 * background task that throws, or an endpoint that cannot be restored, leaves a record in <home>/logs/backend.log.
 */
export function withErrorSink(base: Logger, sink: ErrorSink): Logger {
  const tee = (level: 'ERROR' | 'WARN', obj: unknown, msg?: string): void => {
    const o = obj && typeof obj === 'object' && !(obj instanceof Error) ? (obj as { err?: unknown }) : null;
    const err = obj instanceof Error ? obj : o?.err;
    const message = msg ?? (typeof obj === 'string' ? obj : undefined);
    sink.write({ level, ...(message !== undefined ? { message } : {}), ...(err !== undefined ? { err } : {}) });
  };
  return {
    info: (obj, msg) => base.info(obj, msg),
    warn: (obj, msg) => {
      base.warn(obj, msg);
      tee('WARN', obj, msg);
    },
    error: (obj, msg) => {
      base.error(obj, msg);
      tee('ERROR', obj, msg);
    },
  };
}
