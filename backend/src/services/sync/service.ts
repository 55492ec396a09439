import type { CoreContext } from '../../context';
import type { RetryPolicy } from './http';
import { Pusher } from './push';
import { Puller } from './pull';
import { connect, describe, pickRemote } from './remotes';
import { SyncRepo } from './repository';
import type { SyncOptions, SyncSummary } from './report';

export interface RunOptions extends SyncOptions {
  retry?: RetryPolicy;
  env?: NodeJS.ProcessEnv;
}

/** Runs one push or pull against a remote, recording it in sync_history and the audit log. */
async function runSync(ctx: CoreContext, direction: 'push' | 'pull', remoteName: string | undefined, opts: RunOptions): Promise<SyncSummary> {
  const repo = new SyncRepo(ctx.db);
  const remote = pickRemote(repo, remoteName);
  const { client } = await connect(remote, opts.retry, opts.env);
  const hist = repo.startHistory(remote.name, direction);
  const engine = direction === 'push' ? new Pusher(ctx, repo, remote, client, opts) : new Puller(ctx, repo, remote, client, opts);
  try {
    await engine.run();
    const summary = engine.report.finish();
    repo.finishHistory(hist, 'ok', summary);
    ctx.audit.append({ actor: ctx.defaultActor, action: `sync.${direction}`, objectType: 'remote', objectId: remote.name, after: { counts: summary.counts, writes: summary.writes } });
    return summary;
  } catch (e) {
    const err = describe(e, remote);
    repo.finishHistory(hist, 'failed', { error: err.message, ...engine.report.finish() });
    throw err;
  } finally {
    client.close();
  }
}

export const syncPush = (ctx: CoreContext, remote: string | undefined, opts: RunOptions = {}): Promise<SyncSummary> => runSync(ctx, 'push', remote, opts);
export const syncPull = (ctx: CoreContext, remote: string | undefined, opts: RunOptions = {}): Promise<SyncSummary> => runSync(ctx, 'pull', remote, opts);

export interface SyncStatus {
  remote: string;
  url: string;
  auth: string;
  pending: { runs: number; modelVersions: number };
  mapped: { runs: number; pulledRuns: number; modelVersions: number };
  last: { direction: string; status: string; started_at: number; finished_at: number | null }[];
}

/** What a push would send, from local state alone (no network). */
export function syncStatus(ctx: CoreContext, remoteName: string | undefined): SyncStatus {
  const repo = new SyncRepo(ctx.db);
  const r = pickRemote(repo, remoteName);
  return {
    remote: r.name,
    url: r.url,
    auth: r.auth === 'none' ? 'none' : r.auth === 'bearer' ? `bearer token from $${r.secret_env}` : `basic ${r.username} / $${r.secret_env}`,
    pending: { runs: repo.countDirtyRuns(r.name), modelVersions: repo.countUnpushedVersions(r.name) },
    mapped: {
      runs: repo.countMapped(r.name, 'run', 'local'),
      pulledRuns: repo.countMapped(r.name, 'run', 'remote'),
      modelVersions: repo.countMapped(r.name, 'model_version', 'local') + repo.countMapped(r.name, 'model_version', 'remote'),
    },
    last: repo.lastHistory(r.name).map((h) => ({ direction: h.direction, status: h.status, started_at: h.started_at, finished_at: h.finished_at })),
  };
}
