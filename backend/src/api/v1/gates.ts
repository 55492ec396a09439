import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import type { StoredGate } from '../../services/gates/repository';
import { actorOf } from '../mlflow/http';
import { AliasBody, AliasMove, CompareBody, Comparison, GateBody, GateCheck, GateView } from './contract-gates';
import { compareModels } from '../../services/gates/compare';
import { ComparisonRepo } from '../../services/gates/repository';
import { invalid, notFound } from '../../util/errors';
import { isAbsolute } from 'node:path';

const Name = Type.Object({ name: Type.String({ minLength: 1 }) });
const NameVersion = Type.Object({ name: Type.String({ minLength: 1 }), version: Type.String({ minLength: 1 }) });

/**
 * Promotion gates: GET|PUT|DELETE /api/v1/models/:name/gates, GET /api/v1/models/:name/versions/:version/gate (a dry
 * run), and POST /api/v1/models/:name/aliases, which moves an alias through the gate (as the MLflow alias route does).
 */
export function gateRoutes(parent: FastifyInstance, ctx: CoreContext): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const view = (name: string, g: StoredGate | null) =>
    g
      ? { name, configured: true, metrics: g.metrics, tags: g.tags, data_validation: g.data_validation, updated_at: g.updated_at, updated_by: g.updated_by }
      : { name, configured: false, metrics: [], tags: [], data_validation: 'if_recorded' as const, updated_at: null, updated_by: null };

  app.get('/api/v1/models/:name/gates', { schema: { params: Name, response: { 200: GateView } } }, async (req) => view(req.params.name, ctx.gates.get(req.params.name)));
  app.put('/api/v1/models/:name/gates', { schema: { params: Name, body: GateBody, response: { 200: GateView } } }, async (req) =>
    view(req.params.name, ctx.gates.set(req.params.name, req.body, actorOf(ctx, req))),
  );
  app.delete('/api/v1/models/:name/gates', { schema: { params: Name, response: { 200: GateView } } }, async (req) => {
    ctx.gates.clear(req.params.name, actorOf(ctx, req));
    return view(req.params.name, null);
  });
  app.get('/api/v1/models/:name/versions/:version/gate', { schema: { params: NameVersion, response: { 200: GateCheck } } }, async (req) => ctx.gates.check(req.params.name, req.params.version));
  app.post('/api/v1/models/:name/aliases', { schema: { params: Name, body: AliasBody, response: { 200: AliasMove } } }, async (req) => {
    const who = actorOf(ctx, req, req.body);
    return ctx.gates.setAlias(req.params.name, req.body.alias, req.body.version, who, req.body.override === true);
  });

  // The offline evaluator: scores both versions on the holdout, records the numbers and the verdict.
  const comparisons = new ComparisonRepo(ctx.db);
  app.post('/api/v1/models/compare', { schema: { body: CompareBody, response: { 200: Comparison } } }, async (req) => {
    const { champion, challenger, ...o } = req.body;
    if (!isAbsolute(o.data)) throw invalid(`data must be an absolute path on the backend's machine, got '${o.data}'`);
    const r = await compareModels(ctx, champion, challenger, o);
    return comparisons.insert(r, actorOf(ctx, req).actor, Date.now());
  });
  app.get('/api/v1/models/comparisons/:id', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: Comparison } } }, async (req) => {
    const c = comparisons.get(req.params.id);
    if (!c) throw notFound(`Comparison ${req.params.id} not found`);
    return c;
  });
}
