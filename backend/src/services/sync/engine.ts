import type { CoreContext } from '../../context';
import type { MlflowRemote } from './client';
import type { RemoteRow, SyncRepo } from './repository';
import type { Report, SyncOptions } from './report';

/** What a push and a pull share: the store, the remote and its client, the options, the report. */
export abstract class SyncEngine {
  /** Each direction makes its own (`new Report(this.remote, 'push')`), as a field initializer. */
  abstract readonly report: Report;
  readonly remote: string;
  readonly storeId: string;

  constructor(
    readonly ctx: CoreContext,
    readonly repo: SyncRepo,
    readonly remoteRow: RemoteRow,
    readonly client: MlflowRemote,
    readonly opts: SyncOptions = {},
  ) {
    this.remote = remoteRow.name;
    this.storeId = repo.storeId();
    client.http.onRetry = () => this.report.summary.retries++;
  }

  abstract run(): Promise<Report>;

  protected emitProgress(phase: string, done: number, total: number): void {
    const s = this.report.summary;
    this.opts.onProgress?.({ phase, done, total, metricPoints: s.metricPoints, bytes: s.artifactBytes });
  }

  /** Stops between requests when asked; what was sent stays recorded. */
  protected checkAbort(): void {
    if (this.opts.signal?.aborted) throw new Error('sync interrupted');
  }
}
