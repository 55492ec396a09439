import type { Clock } from '../util/clock';
import type { Logger } from '../util/logger';

export interface Task {
  /** Unique; names the task in logs. */
  readonly name: string;
  /** Time from the end of one run to the start of the next. */
  readonly intervalMs: number;
  /** Up to this much is added to each interval at random, so tasks added together do not run together. */
  readonly jitterMs?: number;
  readonly run: () => unknown;
}

interface Entry {
  task: Task;
  cancel: (() => void) | null;
  running: Promise<void> | null;
}

/**
 * The backend's one tick loop for background work, on the injected clock. Each task runs at most once at a time
 * (the next run is timed from the end of the last, and run-now joins a run in flight); a task that throws or
 * rejects is logged and runs again at its next time.
 */
export class Scheduler {
  private readonly tasks = new Map<string, Entry>();
  private started = false;
  private stopped = false;

  constructor(private readonly o: { clock: Clock; log: Logger; random?: () => number }) {}

  /** Adds a task; once started, its first run comes one interval (plus jitter) later. Returns its removal. */
  add(task: Task): () => void {
    if (this.tasks.has(task.name)) throw new Error(`a task named '${task.name}' is already scheduled`);
    const e: Entry = { task, cancel: null, running: null };
    this.tasks.set(task.name, e);
    if (this.started && !this.stopped) this.arm(e);
    return () => {
      e.cancel?.();
      e.cancel = null;
      if (this.tasks.get(task.name) === e) this.tasks.delete(task.name);
    };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.tasks.values()) this.arm(e);
  }

  /** Runs the task now (or joins its run in flight) and times its next run from the end of this one. */
  runNow(name: string): Promise<void> {
    const e = this.tasks.get(name);
    if (!e) throw new Error(`no task named '${name}'`);
    return this.runEntry(e);
  }

  /**
   * Resolves once no task is running. A run times the next one from its end, so a virtual clock moved on during a
   * run arms the next one after the move: tests wait for this before they move the clock.
   */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.tasks.values()].map((e) => e.running).filter((r): r is Promise<void> => r !== null);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Cancels every timer and waits for the runs in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.tasks.values()) {
      e.cancel?.();
      e.cancel = null;
    }
    await Promise.all([...this.tasks.values()].map((e) => e.running));
  }

  private arm(e: Entry): void {
    e.cancel?.();
    const jitter = e.task.jitterMs ? Math.floor((this.o.random ?? Math.random)() * e.task.jitterMs) : 0;
    e.cancel = this.o.clock.setTimer(() => {
      e.cancel = null;
      void this.runEntry(e);
    }, e.task.intervalMs + jitter);
  }

  private runEntry(e: Entry): Promise<void> {
    if (e.running) return e.running;
    e.cancel?.();
    e.cancel = null;
    const started = this.o.clock.now();
    // Started on a microtask, so e.running is set before the task can end (a task may throw synchronously).
    e.running = Promise.resolve()
      .then(() => e.task.run())
      .then(
        () => undefined,
        (err: unknown) => this.o.log.error({ err, task: e.task.name }, `background task '${e.task.name}' failed after ${this.o.clock.now() - started} ms`),
      )
      .finally(() => {
        e.running = null;
        if (this.started && !this.stopped && this.tasks.get(e.task.name) === e) this.arm(e);
      });
    return e.running;
  }
}
