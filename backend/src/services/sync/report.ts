import { ApiError } from '../../util/errors';
import { RemoteError } from './client';

/** `deduplicated`: a surplus remote copy (a create sent twice by an interrupted push) that was removed. */
export type Outcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'conflict' | 'failed' | 'deduplicated';

/** One object that needs a person's attention: a conflict and how the policy settled it, or a failure. */
export interface ObjectReport {
  kind: string;
  id: string;
  outcome: Outcome;
  detail: string;
}

/** Which side wins a conflict. `default`: the remote for the registry, local for this store's own runs. */
export type Prefer = 'default' | 'local' | 'remote';

export interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  metricPoints: number;
  bytes: number;
}

export interface SyncOptions {
  prefer?: Prefer;
  /** Runs pushed at the same time. */
  concurrency?: number;
  onProgress?: (e: ProgressEvent) => void;
  /** Stops between requests; what was sent stays recorded, so the next sync resumes. */
  signal?: AbortSignal;
}

export interface SyncSummary {
  remote: string;
  direction: 'push' | 'pull';
  seconds: number;
  counts: Record<string, Partial<Record<Outcome, number>>>;
  metricPoints: number;
  params: number;
  tags: number;
  artifactFiles: number;
  artifactBytes: number;
  /** Requests that changed something remotely (push) or locally (pull). */
  writes: number;
  retries: number;
  objects: ObjectReport[];
}

export class Report {
  readonly summary: SyncSummary;
  private readonly t0 = performance.now();
  constructor(remote: string, direction: 'push' | 'pull') {
    this.summary = { remote, direction, seconds: 0, counts: {}, metricPoints: 0, params: 0, tags: 0, artifactFiles: 0, artifactBytes: 0, writes: 0, retries: 0, objects: [] };
  }

  count(kind: string, outcome: Outcome, n = 1): void {
    const c = (this.summary.counts[kind] ??= {});
    c[outcome] = (c[outcome] ?? 0) + n;
  }

  /** Conflicts and failures are listed one by one; the rest are counted. */
  object(kind: string, id: string, outcome: 'conflict' | 'failed' | 'skipped', detail: string): void {
    this.count(kind, outcome);
    this.summary.objects.push({ kind, id, outcome, detail });
  }

  finish(): SyncSummary {
    this.summary.seconds = Math.round((performance.now() - this.t0) / 10) / 100;
    return this.summary;
  }
}

/** Errors worth recording against one object and going on; anything else (transport, auth) stops the sync. */
export function isObjectError(e: unknown): e is RemoteError | ApiError {
  if (e instanceof ApiError) return e.status < 500;
  return e instanceof RemoteError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 403 && e.status !== 429;
}

export function errorText(e: unknown): string {
  if (e instanceof RemoteError || e instanceof ApiError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
