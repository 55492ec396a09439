import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseCsv } from 'csv-parse/sync';
import { Type, type Static } from 'typebox';
import type { CoreContext } from '../context';
import { ApiError, invalid } from '../util/errors';
import { analyseAb } from '../services/serving/ab';
import { abSequences } from '../services/serving/absequence';
import type { ServingEngine } from '../services/serving/engine';
import type { ServingRepository } from '../services/serving/repository';
import { oipRoutes } from './oip';

export interface ServingRouteOptions {
  ctx: CoreContext;
  engine: ServingEngine;
  /** The engine's repository (the prediction log, for the A/B analysis). */
  repo: ServingRepository;
  /** Largest scoring request body (bytes); larger ones get 413. */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const Name = Type.Object({ name: Type.String() });
const DeployBody = Type.Object({
  model: Type.String({ description: 'NAME/VERSION or NAME@ALIAS' }),
  strategy: Type.Optional(Type.String()),
  weight: Type.Optional(Type.Number()),
  steps: Type.Optional(Type.Array(Type.Number())),
  step_interval_s: Type.Optional(Type.Number()),
  guardrails: Type.Optional(
    Type.Object({ max_error_rate: Type.Optional(Type.Number()), max_p99_ms: Type.Optional(Type.Number()), min_requests: Type.Optional(Type.Integer()) }),
  ),
});
/** `variant`: the one the caller means to promote; refused (409) when it is not the candidate or shadow. */
const PromoteBody = Type.Object({ variant: Type.Optional(Type.String()) });
const RollbackBody = Type.Object({ reason: Type.Optional(Type.String()) });
const WeightsBody = Type.Object({ weights: Type.Record(Type.String(), Type.Number()) });
const FeedbackItem = Type.Object({ request_id: Type.String(), label: Type.Unknown() });
const FeedbackBody = Type.Union([FeedbackItem, Type.Object({ feedback: Type.Array(FeedbackItem, { minItems: 1, maxItems: 10_000 }) })]);
const AbQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 2, maximum: 200_000 })) });
const RecentQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) });

/**
 * Endpoints: deploy/rollback/weights/promote, MLflow's scoring protocol at /endpoints/{name}/invocations,
 * feedback labels, the A/B analysis of the live arms, and Prometheus /metrics. The engine comes from the runtime,
 * which closes its ONNX sessions.
 */
export async function servingRoutes(app: FastifyInstance, opts: ServingRouteOptions): Promise<void> {
  const { ctx, engine, repo } = opts;
  const actor = (req: FastifyRequest): string => {
    const h = req.headers['x-mlops-actor'];
    return typeof h === 'string' && h ? h : ctx.defaultActor;
  };
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  // MLflow's scoring server also takes CSV (pandas split orientation with a header row).
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: maxBody }, (_req, body, done) => {
    try {
      const rows = parseCsv(body as string, { cast: true, skip_empty_lines: true }) as unknown[][];
      const [columns, ...data] = rows;
      if (!columns || data.length === 0) return done(invalid('CSV body needs a header row and at least one data row'), undefined);
      done(null, { dataframe_split: { columns, data } });
    } catch (err) {
      done(invalid(`Malformed CSV: ${(err as Error).message}`), undefined);
    }
  });

  app.get('/endpoints', async () => ({ endpoints: engine.list() }));
  app.get<{ Params: Static<typeof Name> }>('/endpoints/:name', { schema: { params: Name } }, async (req) => engine.get(req.params.name));
  app.post<{ Params: Static<typeof Name>; Body: Static<typeof DeployBody> }>('/endpoints/:name/deploy', { schema: { params: Name, body: DeployBody } }, async (req) =>
    engine.deploy(req.params.name, req.body, actor(req)),
  );
  app.post<{ Params: Static<typeof Name>; Body: Static<typeof RollbackBody> | undefined }>('/endpoints/:name/rollback', { schema: { params: Name, body: Type.Optional(RollbackBody) } }, async (req) =>
    engine.rollback(req.params.name, actor(req), 'manual', req.body?.reason ? `manual: ${req.body.reason}` : undefined),
  );
  app.post<{ Params: Static<typeof Name>; Body: Static<typeof PromoteBody> | undefined }>('/endpoints/:name/promote', { schema: { params: Name, body: Type.Optional(PromoteBody) } }, async (req) =>
    engine.promote(req.params.name, actor(req), 'manual', req.body?.variant),
  );
  app.put<{ Params: Static<typeof Name>; Body: Static<typeof WeightsBody> }>('/endpoints/:name/weights', { schema: { params: Name, body: WeightsBody } }, async (req) =>
    engine.setWeights(req.params.name, req.body.weights, actor(req)),
  );
  app.delete<{ Params: Static<typeof Name> }>('/endpoints/:name', { schema: { params: Name } }, async (req) => {
    await engine.remove(req.params.name, actor(req));
    return {};
  });

  app.post<{ Params: Static<typeof Name> }>(
    '/endpoints/:name/invocations',
    {
      bodyLimit: maxBody,
      // A clear 413 before reading a body that is announced too large. A callback hook: no promise per request.
      onRequest: (req, _reply, done) => {
        const len = Number(req.headers['content-length'] ?? 0);
        done(len > maxBody ? new ApiError('PAYLOAD_TOO_LARGE', `Request body is ${len} bytes; the limit for invocations is ${maxBody} bytes`) : undefined);
      },
    },
    async (req, reply) => {
      const key = stickyKey(req);
      const rid = req.headers['x-request-id'];
      const r = await engine.predict(req.params.name, req.body, key, typeof rid === 'string' && rid ? rid.slice(0, 128) : undefined);
      void reply.header('x-request-id', r.requestId).header('x-mlops-variant', r.variant);
      if (r.fallback) void reply.header('x-mlops-fallback', '1');
      return { predictions: r.predictions };
    },
  );

  app.post<{ Params: Static<typeof Name>; Body: Static<typeof FeedbackBody> }>('/endpoints/:name/feedback', { schema: { params: Name, body: FeedbackBody } }, async (req) => {
    const items = 'feedback' in req.body ? req.body.feedback : [req.body];
    return engine.feedback(
      req.params.name,
      items.map((i) => ({ requestId: i.request_id, label: i.label })),
    );
  });
  app.get<{ Params: Static<typeof Name>; Querystring: Static<typeof RecentQuery> }>('/endpoints/:name/predictions', { schema: { params: Name, querystring: RecentQuery } }, async (req) => {
    engine.get(req.params.name);
    return { predictions: engine.recentPredictions(req.params.name, req.query.limit ?? 100) };
  });

  // The A/B Results view: the live arms since the current split began, against the weights set.
  app.get<{ Params: Static<typeof Name>; Querystring: Static<typeof AbQuery> }>('/api/v1/ui/endpoints/:name/ab', { schema: { params: Name, querystring: AbQuery } }, async (req) => {
    const { arms, since } = engine.abArms(req.params.name);
    const rows = repo.abRows(req.params.name, arms.map((a) => a.id), since, req.query.limit ?? 200_000);
    return { ...analyseAb(req.params.name, arms, since, rows), sequences: abSequences(arms, rows) };
  });

  await app.register(oipRoutes, { engine, maxBodyBytes: maxBody });

  app.get('/metrics', async (_req, reply) => {
    void reply.header('content-type', engine.metrics.contentType);
    return engine.metrics.text();
  });
}

/** The sticky key: header X-Sticky-Key, else a top-level `sticky_key` field of the body. */
function stickyKey(req: FastifyRequest): string | null {
  const h = req.headers['x-sticky-key'];
  if (typeof h === 'string' && h) return h;
  const b = req.body as Record<string, unknown> | null;
  if (b && typeof b === 'object' && typeof b.sticky_key === 'string') {
    const k = b.sticky_key;
    delete b.sticky_key;
    return k;
  }
  return null;
}
