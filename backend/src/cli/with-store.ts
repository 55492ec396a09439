import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openCore } from '../core';
import type { CoreContext } from '../context';
import { CliError } from './output';
import { checkStore, damagedMessage } from '../store/check';

/** Runs `fn` with the store under --home opened directly (SQLite in WAL mode is safe beside a running backend). */
export async function withStore<T>(program: Command, fn: (ctx: CoreContext) => T | Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const home = resolve(program.opts<{ home: string }>().home);
  if (!opts.create && !existsSync(join(home, 'mlops.db'))) {
    throw new CliError(`no MLOps Studio store at ${home} (run 'mlops serve' or 'mlops demo' first, or pass --home DIR)`);
  }
  const check = await checkStore(join(home, 'mlops.db'), 1000);
  if (check.status === 'damaged') throw new CliError(damagedMessage(join(home, 'mlops.db'), check));
  const ctx = openCore(home);
  try {
    return await fn(ctx);
  } finally {
    ctx.db.close();
  }
}
