import type { Command } from 'commander';
import { withStore } from '../with-store';
import { CliError, emit, fmtTime, formatTable } from '../output';
import { syncPull, syncPush, syncStatus } from '../../services/sync/service';
import { SyncError } from '../../services/sync/remotes';
import type { Prefer, ProgressEvent, SyncSummary } from '../../services/sync/report';

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** A one-line progress bar on a terminal; a line every 10 s otherwise (logs stay readable). */
function progressPrinter(): { update: (e: ProgressEvent) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = false;
  return {
    update: (e) => {
      const t = Date.now();
      if (t - last < (tty ? 100 : 10_000)) return;
      last = t;
      const width = 24;
      const frac = e.total ? Math.min(1, e.done / e.total) : 0;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const line = `${e.phase.padEnd(8)} [${bar}] ${e.done}/${e.total} · ${e.metricPoints} metric points · ${mb(e.bytes)}`;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      shown = true;
    },
    end: () => {
      if (tty && shown) process.stderr.write('\r\x1b[K');
    },
  };
}

function summaryText(s: SyncSummary): string {
  const kinds = Object.keys(s.counts).sort();
  const out: string[] = [];
  out.push(`${s.direction} ${s.direction === 'push' ? 'to' : 'from'} '${s.remote}' in ${s.seconds}s: ${s.writes} writes, ${s.retries} retries`);
  out.push(`  ${s.metricPoints} metric points (${s.seconds > 0 ? Math.round(s.metricPoints / s.seconds) : 0}/s), ${s.params} params, ${s.tags} tags, ${s.artifactFiles} files (${mb(s.artifactBytes)})`);
  if (kinds.length) {
    out.push(
      formatTable(kinds, [
        { header: 'OBJECT', get: (k) => k },
        { header: 'CREATED', get: (k) => s.counts[k]!.created ?? 0, align: 'right' },
        { header: 'UPDATED', get: (k) => s.counts[k]!.updated ?? 0, align: 'right' },
        { header: 'CONFLICTS', get: (k) => s.counts[k]!.conflict ?? 0, align: 'right' },
        { header: 'FAILED', get: (k) => s.counts[k]!.failed ?? 0, align: 'right' },
        { header: 'SKIPPED', get: (k) => s.counts[k]!.skipped ?? 0, align: 'right' },
        // Surplus remote copies of a create sent twice (an interrupted push, a lost answer), removed.
        { header: 'DEDUPLICATED', get: (k) => s.counts[k]!.deduplicated ?? 0, align: 'right' },
      ]),
    );
  } else out.push('  nothing to send: everything is in sync');
  for (const o of s.objects) out.push(`  ${o.outcome.toUpperCase()} ${o.kind} ${o.id}: ${o.detail}`);
  return out.join('\n');
}

async function runDirection(program: Command, direction: 'push' | 'pull', remote: string | undefined, o: { json?: boolean; prefer?: string; concurrency?: string; progress?: boolean }): Promise<void> {
  const prefer = (o.prefer ?? 'default') as Prefer;
  if (!['default', 'local', 'remote'].includes(prefer)) throw new CliError(`--prefer must be default, local or remote, got '${o.prefer}'`, 2);
  const concurrency = o.concurrency === undefined ? 4 : Number(o.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) throw new CliError(`--concurrency must be 1..32, got '${o.concurrency}'`, 2);
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  const bar = progressPrinter();
  try {
    const summary = await withStore(
      program,
      (ctx) => {
        const opts = { prefer, concurrency, signal: ac.signal, ...(o.progress === false || o.json ? {} : { onProgress: bar.update }) };
        return direction === 'push' ? syncPush(ctx, remote, opts) : syncPull(ctx, remote, opts);
      },
      { create: direction === 'pull' },
    );
    bar.end();
    emit(o.json ?? false, summary, () => summaryText(summary));
    const failed = summary.objects.filter((x) => x.outcome === 'failed').length;
    if (failed) throw new CliError(`${failed} object(s) failed to ${direction}; the rest is recorded, run it again after fixing them`);
  } catch (e) {
    bar.end();
    if (e instanceof SyncError) throw new CliError(e.message);
    if (ac.signal.aborted) throw new CliError(`${direction} interrupted; what was sent is recorded: run it again to resume`, 130);
    throw e;
  } finally {
    process.off('SIGINT', onInt);
  }
}

/** `mlops sync push|pull|status [REMOTE]`. */
export function registerSync(program: Command): void {
  const sync = program.command('sync').description('push to and pull from an MLflow server (see `mlops remote add`)');
  for (const direction of ['push', 'pull'] as const) {
    sync
      .command(`${direction} [remote]`)
      .description(
        direction === 'push'
          ? 'send what changed since the last push: experiments, runs, metrics, artifacts, logged models, registered models, versions, aliases'
          : "fetch the remote's registered models, versions and aliases with the runs and logged models they come from",
      )
      .option('--prefer <side>', 'who wins a conflict: default (remote for the registry, local for own runs), local or remote', 'default')
      .option('--concurrency <n>', 'runs pushed at the same time', '4')
      .option('--no-progress', 'no progress bar')
      .option('--json', 'print the summary as JSON')
      .action((remote: string | undefined, o: { json?: boolean; prefer?: string; concurrency?: string; progress?: boolean }) => runDirection(program, direction, remote, o));
  }
  sync
    .command('status [remote]')
    .description('what a push would send, and the last push and pull (local state only)')
    .option('--json', 'print JSON')
    .action((remote: string | undefined, o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        let st;
        try {
          st = syncStatus(ctx, remote);
        } catch (e) {
          if (e instanceof SyncError) throw new CliError(e.message);
          throw e;
        }
        emit(o.json ?? false, st, () =>
          [
            `remote '${st.remote}' ${st.url} (auth: ${st.auth})`,
            `  to push: ${st.pending.runs} run(s) with changes, ${st.pending.modelVersions} model version(s)`,
            `  synced:  ${st.mapped.runs} run(s) pushed, ${st.mapped.pulledRuns} pulled, ${st.mapped.modelVersions} model version(s)`,
            ...st.last.map((h) => `  last ${h.direction}: ${h.status} at ${fmtTime(h.finished_at ?? h.started_at)}`),
          ].join('\n'),
        );
      }),
    );
}
