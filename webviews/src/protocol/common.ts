/** Shapes every webview protocol shares. Messages are scoped by a `<view>/` prefix so a stray one is never misread. */
export interface Message {
  type: string;
}

/** A handler for each message type of `M`; the compiler rejects a map that misses one. */
export type Handlers<M extends Message> = { [K in M['type']]: (m: Extract<M, { type: K }>) => void | Promise<void> };

export function dispatch<M extends Message>(handlers: Handlers<M>, m: M): void | Promise<void> {
  const h = (handlers as unknown as Record<string, ((x: M) => void | Promise<void>) | undefined>)[m.type];
  return h?.(m);
}
