import type { Command } from 'commander';
import { serveForever } from '../../server';
import { CliError } from '../output';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the backend on 127.0.0.1; prints {"url","token","pid"} when ready')
    .option('--port <n>', 'port (default: a free one)')
    .option('--token <t>', 'bearer token (default: a random one; env MLOPS_TOKEN)')
    .option('--log', 'log requests to stderr')
    .action(async (o: { port?: string; token?: string; log?: boolean }) => {
      const port = o.port === undefined ? 0 : Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0..65535, got ${o.port}`, 2);
      const home = program.opts<{ home: string }>().home;
      await serveForever({ home, port, token: o.token ?? process.env.MLOPS_TOKEN, logger: o.log ?? false });
    });
}
