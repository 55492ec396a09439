/** Something with a dispose(); structurally the same as vscode.Disposable, so this file needs no vscode import. */
export interface DisposableLike {
  dispose(): unknown;
}

/** Owns disposables created with `track()`, and disposes them last-in first-out. */
export class Disposer implements DisposableLike {
  private items: DisposableLike[] = [];
  private disposed = false;

  track<T extends DisposableLike>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  /** Registers a cleanup function. */
  onDispose(fn: () => void): void {
    this.track({ dispose: fn });
  }

  dispose(): void {
    this.disposed = true;
    const items = this.items.reverse();
    this.items = [];
    for (const d of items) {
      try {
        d.dispose();
      } catch {
        // One failing cleanup must not stop the others.
      }
    }
  }

  /** Disposes everything tracked so far and accepts new items again (one backend process's scope). */
  reset(): void {
    this.dispose();
    this.disposed = false;
  }
}
