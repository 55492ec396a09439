import type { Command } from 'commander';
import { registerServe } from './serve';
import { registerDoctor } from './doctor';
import { registerServing } from './serving';
import { registerTracking } from './tracking';
import { registerRegistry } from './registry';
import { registerDemo } from './demo';
import { registerRemote } from './remote';
import { registerSync } from './sync';
import { registerDrift } from './drift';
import { registerAb } from './ab';
import { registerTrain } from './train';
import { registerJobs } from './jobs';
import { registerPipeline } from './pipeline';
import { registerDriftEndpoint } from './drift-endpoint';
import { registerK8s } from './k8s';
import { registerMonitor } from './monitor';
import { registerAlerts } from './alerts';
import { registerRetrain } from './retrain';
import { registerReport } from './report';

/** One line per command group; each feature adds its own file in this folder. */
export function registerCommands(program: Command): void {
  registerServe(program);
  registerDoctor(program);
  registerServing(program);
  registerTracking(program);
  registerRegistry(program);
  registerDemo(program);
  registerRemote(program);
  registerSync(program);
  registerDrift(program);
  registerAb(program);
  registerTrain(program);
  registerJobs(program);
  registerPipeline(program);
  registerDriftEndpoint(program);
  registerK8s(program);
  registerMonitor(program);
  registerAlerts(program);
  registerRetrain(program);
  registerReport(program);
}
