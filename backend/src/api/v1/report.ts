import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CoreContext } from '../../context';
import { defaultBenchFile, parseSince, ReportService } from '../../services/report/report';
import type { Clock } from '../../util/clock';
import { ReportQuery, ReportView } from './contract-report';

/** GET /api/v1/report[?since=30d]: the success metrics over the window, each figure with how it is computed. */
export function reportRoutes(parent: FastifyInstance, opts: { ctx: CoreContext; clock: Clock; benchFile?: string | null }): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const report = new ReportService(opts.ctx.db, opts.clock, opts.benchFile === undefined ? defaultBenchFile() : opts.benchFile);
  app.get('/api/v1/report', { schema: { querystring: ReportQuery, response: { 200: ReportView } } }, async (req) => report.report(parseSince(req.query.since ?? '30d')));
}
