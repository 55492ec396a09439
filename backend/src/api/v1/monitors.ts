import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { CoreContext } from '../../context';
import type { MonitorService } from '../../services/monitors/service';
import { badChoice, unknownMonitoringKeys } from '../../services/monitors/specs';
import { driftTimeline } from '../../services/drift/bins';
import { DriftTimeline, DriftTimelineQuery } from './contract-drift';
import { invalid } from '../../util/errors';
import {
  IncidentList,
  IncidentQuery,
  IncidentView,
  MonitoringApplied,
  MonitoringApply,
  MonitorList,
  MonitorPatch,
  MonitorQuery,
  MonitorResults,
  MonitorResultView,
  MonitorView,
  ReasonBody,
  ResultsQuery,
} from './contract-monitors';

const EndpointKind = Type.Object({ endpoint: Type.String({ maxLength: 1000 }), kind: Type.String({ maxLength: 100 }) });
const Id = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const CheckAnswer = Type.Object({ result: MonitorResultView, incident: Type.Union([IncidentView, Type.Null()]) });

/**
 * Monitors and incidents (issue 12):
 * GET /api/v1/monitors[?endpoint=], GET|PATCH /api/v1/monitors/:endpoint/:kind, POST …/pause, …/resume, …/run,
 * GET …/results (history, newest first), GET /api/v1/monitors/results/:id (one stored check: the evidence),
 * GET /api/v1/endpoints/:name/drift/timeline (the data-drift checks as one score line per feature, with thresholds),
 * POST /api/v1/monitors/apply (mlops.yaml's monitoring: section),
 * GET /api/v1/incidents[?status=&endpoint=], GET /api/v1/incidents/:id, POST …/acknowledge and …/resolve (a reason each).
 */
export async function monitorRoutes(app: FastifyInstance, opts: { ctx: CoreContext; monitors: MonitorService }): Promise<void> {
  const { monitors } = opts;
  const actor = (req: FastifyRequest): string => {
    const h = req.headers['x-mlops-actor'];
    return typeof h === 'string' && h ? h : opts.ctx.defaultActor;
  };
  type EK = { Params: Static<typeof EndpointKind> };
  type ById = { Params: Static<typeof Id> };

  app.get<{ Querystring: Static<typeof MonitorQuery> }>('/api/v1/monitors', { schema: { querystring: MonitorQuery, response: { 200: MonitorList } } }, async (req) => ({
    monitors: monitors.list(req.query.endpoint),
  }));
  app.get<ById>('/api/v1/monitors/results/:id', { schema: { params: Id, response: { 200: MonitorResultView } } }, async (req) => monitors.result(req.params.id));
  app.get<EK>('/api/v1/monitors/:endpoint/:kind', { schema: { params: EndpointKind, response: { 200: MonitorView } } }, async (req) => monitors.get(req.params.endpoint, req.params.kind));
  // A misspelt setting is refused by name (the schema validator would drop unknown keys silently).
  const settings = new Set(Object.keys(MonitorPatch.properties));
  app.patch<EK & { Body: MonitorPatch }>(
    '/api/v1/monitors/:endpoint/:kind',
    {
      schema: { params: EndpointKind, body: MonitorPatch, response: { 200: MonitorView } },
      preValidation: async (req) => {
        const body = req.body;
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('The body must be a JSON object of monitor settings');
        const unknown = Object.keys(body).filter((k) => !settings.has(k));
        if (unknown.length) throw invalid(`Unknown monitor setting${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map((k) => `'${k.slice(0, 100)}'`).join(', ')}; known: ${[...settings].join(', ')}`);
        const choice = badChoice(body as Record<string, unknown>);
        if (choice) throw invalid(choice);
      },
    },
    async (req) => monitors.set(req.params.endpoint, req.params.kind, req.body, actor(req)),
  );
  app.post<{ Body: MonitoringApply }>(
    '/api/v1/monitors/apply',
    {
      schema: { body: MonitoringApply, response: { 200: MonitoringApplied } },
      preValidation: async (req) => {
        const problem = unknownMonitoringKeys(req.body, settings);
        if (problem) throw invalid(`monitoring: ${problem}`);
      },
    },
    async (req) => monitors.apply(req.body, actor(req)),
  );
  app.post<EK>('/api/v1/monitors/:endpoint/:kind/pause', { schema: { params: EndpointKind, response: { 200: MonitorView } } }, async (req) =>
    monitors.set(req.params.endpoint, req.params.kind, { paused: true }, actor(req)),
  );
  app.post<EK>('/api/v1/monitors/:endpoint/:kind/resume', { schema: { params: EndpointKind, response: { 200: MonitorView } } }, async (req) =>
    monitors.set(req.params.endpoint, req.params.kind, { paused: false }, actor(req)),
  );
  app.post<EK>('/api/v1/monitors/:endpoint/:kind/run', { schema: { params: EndpointKind, response: { 200: CheckAnswer } } }, async (req) => monitors.runNow(req.params.endpoint, req.params.kind));
  app.get<EK & { Querystring: Static<typeof ResultsQuery> }>(
    '/api/v1/monitors/:endpoint/:kind/results',
    { schema: { params: EndpointKind, querystring: ResultsQuery, response: { 200: MonitorResults } } },
    async (req) => ({ results: monitors.results(req.params.endpoint, req.params.kind, req.query.limit ?? 100, req.query.before_id) }),
  );
  app.get<{ Params: { name: string }; Querystring: DriftTimelineQuery }>(
    '/api/v1/endpoints/:name/drift/timeline',
    { schema: { params: Type.Object({ name: Type.String({ maxLength: 1000 }) }), querystring: DriftTimelineQuery, response: { 200: DriftTimeline } } },
    async (req) => {
      const method = req.query.method ?? 'psi';
      return driftTimeline(req.params.name, method, monitors.results(req.params.name, 'data_drift', req.query.limit ?? 200));
    },
  );
  app.get<{ Querystring: Static<typeof IncidentQuery> }>('/api/v1/incidents', { schema: { querystring: IncidentQuery, response: { 200: IncidentList } } }, async (req) => ({
    incidents: monitors.incidents(req.query),
  }));
  app.get<ById>('/api/v1/incidents/:id', { schema: { params: Id, response: { 200: IncidentView } } }, async (req) => monitors.incident(req.params.id));
  app.post<ById & { Body: ReasonBody }>('/api/v1/incidents/:id/acknowledge', { schema: { params: Id, body: ReasonBody, response: { 200: IncidentView } } }, async (req) =>
    monitors.acknowledge(req.params.id, actor(req), req.body.reason),
  );
  app.post<ById & { Body: ReasonBody }>('/api/v1/incidents/:id/resolve', { schema: { params: Id, body: ReasonBody, response: { 200: IncidentView } } }, async (req) =>
    monitors.resolve(req.params.id, actor(req), req.body.reason),
  );
}
