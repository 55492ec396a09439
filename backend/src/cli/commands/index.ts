import type { Command } from 'commander';
import { registerServe } from './serve';
import { registerTracking } from './tracking';
import { registerRegistry } from './registry';
import { registerDemo } from './demo';
import { registerRemote } from './remote';
import { registerSync } from './sync';

/** One line per command group; each feature adds its own file in this folder. */
export function registerCommands(program: Command): void {
  registerServe(program);
  registerTracking(program);
  registerRegistry(program);
  registerDemo(program);
  registerRemote(program);
  registerSync(program);
}
