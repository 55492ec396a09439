import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import type { AbExperiments } from '../../services/retrain/experiments';
import { actorOf } from '../mlflow/http';
import { ExperimentDetail, ExperimentQuery, ExperimentStartBody, ExperimentView } from './contract-experiments';
import { ReasonBody } from './contract-retrain';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/**
 * Online A/B experiments: GET /api/v1/experiments[?endpoint=&status=], GET /api/v1/experiments/:id (with its looks),
 * POST /api/v1/experiments (start), POST /api/v1/experiments/:id/look (look now), POST /api/v1/experiments/:id/stop.
 */
export function experimentRoutes(parent: FastifyInstance, opts: { ctx: CoreContext; experiments: AbExperiments }): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx, experiments } = opts;
  const detail = (id: number) => ({ ...experiments.get(id), looks: experiments.looks(id) });
  app.get('/api/v1/experiments', { schema: { querystring: ExperimentQuery, response: { 200: Type.Object({ experiments: Type.Array(ExperimentView) }) } } }, async (req) => ({
    experiments: experiments.list(req.query),
  }));
  app.get('/api/v1/experiments/:id', { schema: { params: Id, response: { 200: ExperimentDetail } } }, async (req) => detail(req.params.id));
  app.post('/api/v1/experiments', { schema: { body: ExperimentStartBody, response: { 201: ExperimentView } } }, async (req, reply) => {
    const { endpoint, ...config } = req.body;
    return reply.code(201).send(experiments.start(endpoint, config, actorOf(ctx, req).actor));
  });
  app.post('/api/v1/experiments/:id/look', { schema: { params: Id, response: { 200: ExperimentDetail } } }, async (req) => {
    experiments.look(req.params.id);
    return detail(req.params.id);
  });
  app.post('/api/v1/experiments/:id/stop', { schema: { params: Id, body: Type.Optional(ReasonBody), response: { 200: ExperimentView } } }, async (req) =>
    experiments.stop(req.params.id, actorOf(ctx, req).actor, req.body?.reason),
  );
}
