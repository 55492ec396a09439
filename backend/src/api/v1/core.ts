import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import { AuditQuery, AuditResponse, Health, Lineage, RunLineage } from './contract';
import { runLineage } from '../../services/lineage';

const started = Date.now();
export const BACKEND_VERSION = '0.1.0';

export function coreV1Routes(parent: FastifyInstance, ctx: CoreContext): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/v1/health', { schema: { response: { 200: Health } } }, async () => ({
    status: 'ok' as const,
    version: BACKEND_VERSION,
    pid: process.pid,
    uptime_s: (Date.now() - started) / 1000,
    home: ctx.home,
  }));
  app.get('/api/v1/audit', { schema: { querystring: AuditQuery, response: { 200: AuditResponse } } }, async (req) => {
    const q = req.query;
    const events = ctx.audit.list({
      objectType: q.object_type,
      objectId: q.object_id,
      action: q.action,
      actor: q.actor,
      since: q.since,
      until: q.until,
      beforeId: q.before_id,
      limit: q.limit,
    });
    return { events };
  });
  const Params = Type.Object({ run_id: Type.String({ minLength: 1 }) });
  app.get('/api/v1/runs/:run_id/lineage', { schema: { params: Params, response: { 200: RunLineage } } }, async (req) => runLineage(ctx, req.params.run_id));
  app.put('/api/v1/runs/:run_id/lineage', { schema: { params: Params, body: Lineage, response: { 200: RunLineage } } }, async (req) => {
    ctx.tracking.runs.setLineage(req.params.run_id, req.body);
    return runLineage(ctx, req.params.run_id);
  });
}
