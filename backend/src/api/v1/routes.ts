import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../../services/runtime';
import { coreV1Routes } from './core';
import { extensionRoutes } from './ui';
import { jobRoutes } from './jobs';
import { driftRoutes } from './drift';
import { monitorRoutes } from './monitors';
import { alertRoutes } from './alerts';
import { gateRoutes } from './gates';
import { retrainRoutes } from './retrain';
import { experimentRoutes } from './experiments';
import { reportRoutes } from './report';
import { modelCardRoutes } from './model-card';

/** /api/v1: MLOps Studio's own API (beyond MLflow's). Each feature registers its routes here, one line each. */
export async function v1Routes(app: FastifyInstance, opts: { runtime: Runtime }): Promise<void> {
  const { core: ctx, jobs, pipelines, drift } = opts.runtime;
  coreV1Routes(app, ctx);
  gateRoutes(app, ctx);
  retrainRoutes(app, { ctx, retrain: opts.runtime.retrain, monitors: opts.runtime.monitors });
  experimentRoutes(app, { ctx, experiments: opts.runtime.experiments });
  reportRoutes(app, { ctx, clock: opts.runtime.clock });
  modelCardRoutes(app, { ctx, drift });
  await app.register(extensionRoutes, { ctx, serving: opts.runtime.engine });
  await app.register(jobRoutes, { ctx, jobs, pipelines, secrets: opts.runtime.secrets });
  await app.register(driftRoutes, { ctx, drift });
  await app.register(monitorRoutes, { ctx, monitors: opts.runtime.monitors });
  await app.register(alertRoutes, { webhooks: opts.runtime.webhooks });
}
