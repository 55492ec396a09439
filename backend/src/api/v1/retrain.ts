import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import type { MonitorService } from '../../services/monitors/service';
import type { RetrainService } from '../../services/retrain/service';
import type { StoredPolicy } from '../../services/retrain/repository';
import type { PolicyInput } from '../../services/retrain/policy';
import { actorOf } from '../mlflow/http';
import { invalid, notFound } from '../../util/errors';
import { PolicyBody, PolicyView, ReasonBody, RetrainQuery, RetrainRunBody, RetrainView } from './contract-retrain';

const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });

/**
 * Retraining (issue 13): GET|PUT /api/v1/retrain/policies (GET ?endpoint=), GET|DELETE /api/v1/retrain/policies/:id;
 * the ledger: GET /api/v1/retrains[?model=&endpoint=&status=], GET /api/v1/retrains/:id, POST /api/v1/retrains (manual; with incident_id, on that incident),
 * POST /api/v1/retrains/:id/cancel.
 */
export function retrainRoutes(parent: FastifyInstance, opts: { ctx: CoreContext; retrain: RetrainService; monitors: Pick<MonitorService, 'incident'> }): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { ctx, retrain } = opts;
  const view = (p: StoredPolicy) => ({ id: p.id, model: p.policy.model, endpoint: p.policy.endpoint, policy: p.policy as unknown as Record<string, unknown>, next_scheduled_at: p.next_scheduled_at, deferred: p.deferred, updated_at: p.updated_at, updated_by: p.updated_by });

  app.put('/api/v1/retrain/policies', { schema: { body: PolicyBody, response: { 200: PolicyView } } }, async (req) => {
    const { model, endpoint, ...settings } = req.body as PolicyBody & Record<string, unknown>;
    return view(retrain.setPolicy(model, endpoint, settings as PolicyInput, actorOf(ctx, req).actor));
  });
  app.get('/api/v1/retrain/policies', { schema: { querystring: Type.Object({ endpoint: Type.Optional(Type.String({ maxLength: 250 })) }), response: { 200: Type.Object({ policies: Type.Array(PolicyView) }) } } }, async (req) => ({
    policies: retrain.repo.policies(req.query.endpoint).map(view),
  }));
  app.get('/api/v1/retrain/policies/:id', { schema: { params: Id, response: { 200: PolicyView } } }, async (req) => view(retrain.repo.policy(req.params.id)));
  app.delete('/api/v1/retrain/policies/:id', { schema: { params: Id } }, async (req) => {
    retrain.deletePolicy(req.params.id, actorOf(ctx, req).actor);
    return {};
  });

  app.get('/api/v1/retrains', { schema: { querystring: RetrainQuery, response: { 200: Type.Object({ retrains: Type.Array(RetrainView) }) } } }, async (req) => ({ retrains: retrain.repo.list(req.query) }));
  app.get('/api/v1/retrains/:id', { schema: { params: Id, response: { 200: RetrainView } } }, async (req) => retrain.repo.get(req.params.id));
  app.post('/api/v1/retrains', { schema: { body: RetrainRunBody, response: { 201: RetrainView } } }, async (req, reply) => {
    const b = req.body;
    const incident = b.incident_id === undefined ? undefined : opts.monitors.incident(b.incident_id);
    let id = b.policy_id;
    if (id === undefined && incident && !b.endpoint) {
      // From an incident: the policy of its endpoint (naming the model when the endpoint has several).
      const ps = retrain.repo.policies(incident.endpoint).filter((p) => !b.model || p.policy.model === b.model);
      if (ps.length === 0) throw notFound(`No retrain policy on endpoint ${incident.endpoint}${b.model ? ` for ${b.model}` : ''}: set one (mlops retrain policy set)`);
      if (ps.length > 1) throw invalid(`Endpoint ${incident.endpoint} has retrain policies for ${ps.map((p) => p.policy.model).join(', ')}: name the model`);
      id = ps[0]!.id;
    }
    if (id === undefined) {
      if (!b.model || !b.endpoint) throw invalid('Name the policy: policy_id, model and endpoint, or incident_id');
      const p = retrain.repo.findPolicy(b.model, b.endpoint);
      if (!p) throw notFound(`No retrain policy for ${b.model} on ${b.endpoint}`);
      id = p.id;
    }
    const rec = retrain.run(id, actorOf(ctx, req).actor, b.reason, incident);
    return reply.code(201).send(rec);
  });
  app.post('/api/v1/retrains/:id/cancel', { schema: { params: Id, body: Type.Optional(ReasonBody), response: { 200: RetrainView } } }, async (req) =>
    retrain.cancel(req.params.id, actorOf(ctx, req).actor, req.body?.reason),
  );
}
