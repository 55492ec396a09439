import type { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runDemo } from '../../services/demo/demo';
import { demoTrainStep } from '../../services/demo/trainer';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('walk the whole loop on a fresh store: track runs, register the best model, promote it')
    .option('--keep', 'keep the store (printed at the end) instead of a temporary folder', false)
    .action(async (o: { keep?: boolean }) => {
      const given = program.getOptionValueSource('home') === 'cli' || process.env.MLOPS_HOME;
      const home = given ? resolve(program.opts<{ home: string }>().home) : mkdtempSync(join(tmpdir(), 'mlops-demo-'));
      await runDemo({ home, log: (s) => process.stdout.write(s + '\n') });
      if (!given && !o.keep) process.stdout.write(`(store kept at ${home}; pass --home DIR to choose where)\n`);
    });
  // The demo's retraining step, run as a pipeline job (not for users: hidden from help).
  program
    .command('demo-train', { hidden: true })
    .description('train the demo model from $TRAIN_CSV into $MLOPS_OUTPUT_DIR')
    .action(() => {
      process.stdout.write(demoTrainStep() + '\n');
    });
}
