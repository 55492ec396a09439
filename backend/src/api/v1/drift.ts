import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { CoreContext } from '../../context';
import { profileInfo, type DriftService } from '../../services/drift/service';
import { DriftHistory, DriftHistoryQuery, DriftList, EndpointDrift, EndpointDriftQuery, ProfileBody, ProfileInfo } from './contract';
import { DriftBins, DriftBinsQuery } from './contract-drift';

const Name = Type.Object({ name: Type.String() });
const NameVersion = Type.Object({ name: Type.String(), version: Type.String() });
const REGISTERS = /^\/(api|ajax-api)\/2\.0\/mlflow\/model-versions\/create$/;

/**
 * Endpoint drift and model version reference profiles:
 * GET /api/v1/endpoints/:name/drift (and /drift/history, PSI per time bucket; /drift/bins, the report's histograms), GET /api/v1/drift (every endpoint), GET|PUT /api/v1/models/:name/versions/:version/profile.
 * A version registered through the MLflow API gets its profile in the background right after the request (the
 * runtime profiles those registered while no backend ran, at start).
 */
export async function driftRoutes(app: FastifyInstance, opts: { ctx: CoreContext; drift: DriftService }): Promise<void> {
  const { drift } = opts;
  const actor = (req: FastifyRequest): string => {
    const h = req.headers['x-mlops-actor'];
    return typeof h === 'string' && h ? h : opts.ctx.defaultActor;
  };
  // A hook on the shared Node server: the MLflow routes live outside this plugin's encapsulated context.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !REGISTERS.test((req.url ?? '').split('?', 1)[0]!)) return;
    res.once('finish', () => {
      if (res.statusCode < 400) drift.profiler.kick();
    });
  };
  app.server.on('request', onRequest);
  app.addHook('preClose', async () => {
    app.server.off('request', onRequest);
  });

  app.get<{ Params: Static<typeof Name>; Querystring: EndpointDriftQuery }>(
    '/api/v1/endpoints/:name/drift',
    { schema: { params: Name, querystring: EndpointDriftQuery, response: { 200: EndpointDrift } } },
    async (req) => drift.endpoints.report(req.params.name, req.query.window),
  );
  app.get<{ Params: Static<typeof Name>; Querystring: DriftHistoryQuery }>(
    '/api/v1/endpoints/:name/drift/history',
    { schema: { params: Name, querystring: DriftHistoryQuery, response: { 200: DriftHistory } } },
    async (req) => drift.endpoints.history(req.params.name, (req.query.bucket_s ?? 60) * 1000, req.query.buckets ?? 30),
  );
  app.get<{ Params: Static<typeof Name>; Querystring: DriftBinsQuery }>(
    '/api/v1/endpoints/:name/drift/bins',
    { schema: { params: Name, querystring: DriftBinsQuery, response: { 200: DriftBins } } },
    async (req) => drift.endpoints.bins(req.params.name, req.query.window, req.query.bins),
  );
  app.get('/api/v1/drift', { schema: { response: { 200: DriftList } } }, async () => ({ endpoints: await drift.endpoints.all() }));
  app.get<{ Params: Static<typeof NameVersion> }>(
    '/api/v1/models/:name/versions/:version/profile',
    { schema: { params: NameVersion, response: { 200: ProfileInfo } } },
    async (req) => profileInfo(await drift.profile(req.params.name, req.params.version)),
  );
  app.put<{ Params: Static<typeof NameVersion>; Body: ProfileBody }>(
    '/api/v1/models/:name/versions/:version/profile',
    { bodyLimit: 256 * 1024 * 1024, schema: { params: NameVersion, body: ProfileBody, response: { 200: ProfileInfo } } },
    async (req) => profileInfo(await drift.setProfile(req.params.name, req.params.version, { csv: req.body.csv, profile: req.body.profile }, actor(req))),
  );
}
