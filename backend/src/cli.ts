import { Command, CommanderError } from 'commander';
import { CliError } from './cli/output';
import { registerCommands } from './cli/commands';

/**
 * `mlops`: every command is registered from cli/commands/. Exit codes: 0 success, 1 failure (one message),
 * 2 bad usage.
 */
export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('mlops')
    .description('MLOps Studio: track, register, train, serve and watch models')
    .option('--home <dir>', 'store folder (experiments, runs, models, artifacts)', process.env.MLOPS_HOME ?? '.mlops')
    .exitOverride()
    .showHelpAfterError(false);
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`mlops: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`mlops: ${e.message ?? String(err)}\n`);
    return 1;
  }
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('cli.mjs');
if (isMain) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`mlops: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
