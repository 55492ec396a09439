import type { FastifyInstance } from 'fastify';
import type { CoreContext } from '../../context';
import { trackingRoutes } from './tracking-routes';
import { registryRoutes } from './registry-routes';
import { loggedModelRoutes } from './logged-model-routes';

/** The MLflow REST API (tracking, logged models, registry) under /api/2.0/mlflow and /ajax-api/2.0/mlflow. */
export async function mlflowRoutes(app: FastifyInstance, opts: { ctx: CoreContext }): Promise<void> {
  // MLflow's client sends DELETE requests with JSON bodies, and some GETs with an empty JSON content type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      const e = err as Error & { statusCode?: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
  trackingRoutes(app, opts.ctx);
  loggedModelRoutes(app, opts.ctx);
  registryRoutes(app, opts.ctx);
}
