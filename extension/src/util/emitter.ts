import type { DisposableLike } from './disposable';

/** A minimal event emitter for code that must not import vscode (the tree models, tested as plain TS). */
export class Emitter<T> {
  private listeners = new Set<(v: T) => void>();
  readonly event = (fn: (v: T) => void): DisposableLike => {
    this.listeners.add(fn);
    return { dispose: () => this.listeners.delete(fn) };
  };
  fire(v: T): void {
    for (const fn of [...this.listeners]) fn(v);
  }
  dispose(): void {
    this.listeners.clear();
  }
}
