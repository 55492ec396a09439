import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import type { JobService } from '../../services/jobs/service';
import { normalizeSpec, type JobInput } from '../../services/jobs/spec';
import type { KnownSecrets } from '../../services/secrets';
import { maskArgv, maskEnv, maskText } from '../../util/mask';
import type { Job, JobStatus } from '../../services/jobs/types';
import type { LogEvent } from '../../services/jobs/logs';
import type { PipelineService } from '../../services/pipelines/service';
import { reproduceRun } from '../../services/jobs/reproduce';
import { invalid } from '../../util/errors';
import { PipelineCancelBody, PipelineRunView } from './contract';

/** The job as the API shows it: secrets in its env and command masked (by name and by value). */
export const publicJob = (j: Job, secrets: readonly string[] = []): Job => ({
  ...j,
  spec: { ...j.spec, env: maskEnv(j.spec.env, secrets), command: maskArgv(j.spec.command, secrets) },
});

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed'), Type.Literal('cancelled')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
});
const Str = Type.String();
/** POST /api/v1/jobs; sizes as '4g', durations as '30m' or seconds; relative paths resolve against base_dir. */
const JobBody = Type.Object(
  {
    launcher: Type.Optional(Type.Union([Type.Literal('docker'), Type.Literal('local'), Type.Literal('ray')])),
    image: Type.Optional(Type.String({ minLength: 1 })),
    command: Type.Optional(Type.Array(Str)),
    env: Type.Optional(Type.Record(Str, Str)),
    cwd: Type.Optional(Str),
    mounts: Type.Optional(Type.Array(Type.Object({ source: Str, target: Str, read_only: Type.Optional(Type.Boolean()) }))),
    cpus: Type.Optional(Type.Number()),
    memory: Type.Optional(Type.Union([Str, Type.Number()])),
    gpus: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('all')])),
    gpu_ids: Type.Optional(Type.Array(Str)),
    timeout: Type.Optional(Type.Union([Str, Type.Number()])),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    experiment: Type.Optional(Str),
    run_name: Type.Optional(Str),
    params: Type.Optional(Type.Record(Str, Type.Union([Str, Type.Number(), Type.Boolean()]))),
    tags: Type.Optional(Type.Record(Str, Str)),
    data: Type.Optional(Type.Array(Str)),
    code_dir: Type.Optional(Str),
    parent_run_id: Type.Optional(Str),
    stop_grace_s: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
    base_dir: Type.Optional(Str),
    ray_address: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
  },
  { additionalProperties: false },
);
const LogQuery = Type.Object({ follow: Type.Optional(Type.Boolean()) });
const PipelineBody = Type.Object({
  file: Type.String({ minLength: 1 }),
  params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
  launcher: Type.Optional(Type.Union([Type.Literal('docker'), Type.Literal('local'), Type.Literal('ray')])),
});

function sse(raw: ServerResponse, event: string, data: unknown): void {
  if (!raw.writableEnded) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** GET /api/v1/jobs/:id/logs?follow=true: the output so far as one `log` event, then live `log` events, then `end`. */
function streamLogs(jobs: JobService, job: Job, raw: ServerResponse, open: Set<ServerResponse>): void {
  raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  open.add(raw);
  const finish = (e: Extract<LogEvent, { type: 'end' }>) => {
    sse(raw, 'end', e);
    raw.end();
  };
  const sub = jobs.logs.follow(job.job_id, job.log_file, (e) => (e.type === 'log' ? sse(raw, 'log', { stream: e.stream, text: e.text }) : finish(e)));
  if (sub.backlog) sse(raw, 'log', { stream: 'backlog', text: sub.backlog });
  if (job.status !== 'queued' && job.status !== 'running') finish({ type: 'end', status: job.status, reason: job.reason, exit_code: job.exit_code });
  const beat = setInterval(() => raw.write(': ping\n\n'), 15_000);
  raw.on('close', () => {
    clearInterval(beat);
    sub.close();
    open.delete(raw);
  });
}

/** /api/v1/jobs and /api/v1/pipelines: training jobs (Docker or local), their live logs, and pipelines of them. */
export const jobRoutes: FastifyPluginAsync<{ ctx: CoreContext; jobs: JobService; pipelines: PipelineService; secrets: KnownSecrets }> = async (parent: FastifyInstance, opts) => {
  const { ctx, jobs, pipelines, secrets } = opts;
  const show = (j: Job): Job => publicJob(j, secrets.values());
  const open = new Set<ServerResponse>();
  // Log streams never end on their own; end them before close, or server.close() would wait for them.
  parent.addHook('preClose', async () => {
    for (const raw of open) raw.end();
  });
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/api/v1/jobs', { schema: { body: JobBody } }, async (req, reply) => {
    const body = req.body as JobInput & { base_dir?: string };
    const base = typeof body.base_dir === 'string' && body.base_dir ? body.base_dir : process.cwd();
    const { launcher, spec } = normalizeSpec(body, base);
    const job = await jobs.submit(launcher, spec);
    return reply.code(201).send(show(job));
  });
  app.get('/api/v1/jobs', { schema: { querystring: ListQuery } }, async (req) => ({
    jobs: jobs.list({ ...(req.query.status ? { status: req.query.status as JobStatus } : {}), ...(req.query.limit ? { limit: req.query.limit } : {}) }).map(show),
  }));
  app.get('/api/v1/jobs/:id', { schema: { params: IdParams } }, async (req) => show(jobs.get(req.params.id)));
  const actor = (req: FastifyRequest): string => {
    const h = req.headers['x-mlops-actor'];
    return typeof h === 'string' && h ? h : ctx.defaultActor;
  };
  app.post('/api/v1/jobs/:id/cancel', { schema: { params: IdParams } }, async (req) => show(await jobs.cancel(req.params.id, { actor: actor(req) })));
  app.get('/api/v1/jobs/:id/logs', { schema: { params: IdParams, querystring: LogQuery } }, async (req, reply) => {
    const job = jobs.get(req.params.id);
    const follow = req.query.follow ?? (req.headers.accept ?? '').includes('text/event-stream');
    if (!follow) {
      // Logs are masked as they are written; masking again on read covers secrets learnt since (and older logs).
      const text = await readFile(job.log_file, 'utf8').catch(() => '');
      return reply.type('text/plain; charset=utf-8').send(maskText(text, secrets.values()));
    }
    reply.hijack();
    streamLogs(jobs, job, reply.raw, open);
    return reply;
  });

  const RunParams = Type.Object({ run_id: Type.String({ minLength: 1, maxLength: 64 }) });
  const ReproduceBody = Type.Object({ force: Type.Optional(Type.Boolean()) });
  app.post('/api/v1/runs/:run_id/reproduce', { schema: { params: RunParams, body: ReproduceBody } }, async (req) => {
    const plan = await reproduceRun(ctx, jobs, req.params.run_id, req.body?.force ?? false);
    return plan.job ? { ...plan, job: show(plan.job) } : plan;
  });

  app.post('/api/v1/pipelines/runs', { schema: { body: PipelineBody } }, async (req, reply) => {
    const run = await pipelines.start(req.body.file, { params: req.body.params ?? {}, ...(req.body.launcher ? { launcher: req.body.launcher } : {}) });
    return reply.code(201).send(run);
  });
  app.get('/api/v1/pipelines/runs', { schema: { response: { 200: Type.Object({ runs: Type.Array(PipelineRunView) }) } } }, async () => ({ runs: pipelines.list() }));
  app.get('/api/v1/pipelines/runs/:id', { schema: { params: IdParams, response: { 200: PipelineRunView } } }, async (req) => {
    if (!/^[0-9a-f]+$/.test(req.params.id)) throw invalid(`Invalid pipeline run id '${req.params.id}'`);
    return pipelines.get(req.params.id);
  });
  app.post('/api/v1/pipelines/runs/:id/cancel', { schema: { params: IdParams, body: Type.Optional(PipelineCancelBody), response: { 200: PipelineRunView } } }, async (req) => {
    return pipelines.cancel(req.params.id, req.body?.reason, actor(req));
  });
};
