import type { Command } from 'commander';
import { withStore } from '../with-store';
import { CliError, emit, fmtTime, formatTable } from '../output';
import { SyncRepo } from '../../services/sync/repository';
import { addRemote, SyncError } from '../../services/sync/remotes';

const usage = (fn: () => void): void => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SyncError) throw new CliError(e.message, 2);
    throw e;
  }
};

/** `mlops remote add|list|remove`: the MLflow servers this store syncs with. Secrets stay in the environment. */
export function registerRemote(program: Command): void {
  const remote = program.command('remote').description('MLflow servers to sync with: add, list, remove');
  remote
    .command('add <name> <url>')
    .description('add an MLflow server; credentials are read from environment variables at sync time, never stored')
    .option('--token-env <VAR>', 'environment variable holding a bearer token')
    .option('--username <user>', 'user for HTTP basic auth')
    .option('--password-env <VAR>', 'environment variable holding the basic-auth password')
    .option('--json', 'print JSON')
    .action((name: string, url: string, o: { tokenEnv?: string; username?: string; passwordEnv?: string; json?: boolean }) =>
      withStore(
        program,
        (ctx) =>
          usage(() => {
            const r = addRemote(new SyncRepo(ctx.db), { name, url, ...o });
            emit(o.json ?? false, r, () => `added remote '${r.name}' → ${r.url}${r.secret_env ? ` (secret from $${r.secret_env})` : ''}`);
          }),
        { create: true },
      ),
    );
  remote
    .command('list')
    .description('list remotes')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        const rows = new SyncRepo(ctx.db).remotes();
        emit(o.json ?? false, rows, () =>
          rows.length
            ? formatTable(rows, [
                { header: 'NAME', get: (r) => r.name },
                { header: 'URL', get: (r) => r.url },
                { header: 'AUTH', get: (r) => (r.auth === 'none' ? '' : r.auth === 'bearer' ? `token $${r.secret_env}` : `${r.username} / $${r.secret_env}`) },
                { header: 'ADDED', get: (r) => fmtTime(r.created_at) },
              ])
            : "no remotes; add one with 'mlops remote add NAME URL'",
        );
      }),
    );
  remote
    .command('remove <name>')
    .description('remove a remote and its sync state (nothing is deleted remotely)')
    .action((name: string) =>
      withStore(program, (ctx) => {
        if (!new SyncRepo(ctx.db).removeRemote(name)) throw new CliError(`no remote named '${name}'`);
        process.stdout.write(`removed remote '${name}'\n`);
      }),
    );
}
