import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../context';
import { coreV1Routes } from './core';
import { extensionRoutes } from './ui';
import { jobRoutes } from './jobs';
import { driftRoutes } from './drift';

/** /api/v1: MLOps Studio's own API (beyond MLflow's). Each feature registers its routes here, one line each. */
export async function v1Routes(app: FastifyInstance, opts: { ctx: CoreContext }): Promise<void> {
  coreV1Routes(app, opts.ctx);
  await app.register(extensionRoutes, { ctx: opts.ctx });
  await app.register(jobRoutes, { ctx: opts.ctx });
  await app.register(driftRoutes, { ctx: opts.ctx });
}
