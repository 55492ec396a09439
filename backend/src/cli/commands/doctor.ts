import type { Command } from 'commander';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkStore } from '../../store/check';
import { openSqlite } from '../../store/sqlite';
import { readHandshake } from '../../server';
import { CliError } from '../output';

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** `mlops doctor`: is the store whole, and what to do when it is not. `mlops backup FILE`: a consistent copy. */
export function registerDoctor(program: Command): void {
  const storeFile = (): string => join(resolve(program.opts<{ home: string }>().home), 'mlops.db');
  program
    .command('doctor')
    .description('check the store (SQLite integrity_check) and say what to do if it is damaged')
    .option('--quick', 'quick_check only (skips index contents; faster on a large store)')
    .action(async (o: { quick?: boolean }) => {
      const file = storeFile();
      if (!existsSync(file)) throw new CliError(`no MLOps Studio store at ${file}`);
      const c = await checkStore(file, 2 ** 31 - 1, { full: !o.quick });
      const running = readHandshake(join(file, '..'));
      if (c.status === 'ok') {
        process.stdout.write(`store ${file}: ok (${mb(statSync(file).size)}, ${o.quick ? 'quick_check' : 'integrity_check'} in ${c.ms} ms)${running ? `; backend pid ${running.pid} at ${running.url}` : ''}\n`);
        return;
      }
      process.stdout.write(`store ${file}: DAMAGED\n${c.details.map((d) => `  ${d}`).join('\n')}\n`);
      throw new CliError(
        `the store is damaged. What to do: ${running ? `stop the backend (pid ${running.pid}); ` : ''}copy your latest backup (made with 'mlops backup FILE') over ${file} ` +
          `and delete ${file}-wal and ${file}-shm if present; without a backup, 'sqlite3 ${file} .recover | sqlite3 fixed.db' salvages what it can into a new file to put in its place.`,
      );
    });
  program
    .command('backup <file>')
    .description('write a consistent copy of the store to FILE (SQLite online backup; safe while a backend runs)')
    .action(async (dest: string) => {
      const file = storeFile();
      if (!existsSync(file)) throw new CliError(`no MLOps Studio store at ${file}`);
      const out = resolve(dest);
      if (existsSync(out)) throw new CliError(`${out} exists; name a new file`);
      const db = openSqlite(file, { readonly: true, fileMustExist: true });
      try {
        await db.backup(out);
      } finally {
        db.close();
      }
      chmodSync(out, 0o600);
      process.stdout.write(`backup of ${file} written to ${out} (${mb(statSync(out).size)}); restore: stop the backend, copy it over mlops.db\n`);
    });
}
