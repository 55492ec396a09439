import { gunzipSync, inflateSync } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, invalid, notFound } from '../util/errors';
import { BACKEND_VERSION } from './v1/core';
import type { ServingEngine } from '../services/serving/engine';
import type { LoadedModel } from '../services/serving/model';
import { datatypeOf, decodeInferRequest, encodeBinary, nest, outputTensor, type InferRequest, type OutputTensor } from '../services/serving/oip';

export interface OipRouteOptions {
  engine: ServingEngine;
  /** Largest request body, after decompression (bytes). */
  maxBodyBytes: number;
}

type ModelParams = { name: string; version?: string };

/**
 * The Open Inference Protocol (KServe V2) over the same endpoints as /endpoints/{name}/invocations: a V2
 * "model" is an endpoint, its "versions" are the registered versions taking its live traffic. Inference goes
 * through the serving engine, so A/B and canary routing, fallback, the prediction log and the metrics apply.
 * Errors carry the protocol's `error` and MLflow's `error_code`/`message`.
 */
export async function oipRoutes(app: FastifyInstance, opts: OipRouteOptions): Promise<void> {
  const { engine, maxBodyBytes } = opts;
  // One raw-body parser for JSON and the binary tensor extension alike (the client may send no content type).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (req, body, done) => {
    try {
      done(null, decompress(req, body as Buffer, maxBodyBytes));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    const status = err instanceof ApiError ? err.status : typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500 && !(err instanceof ApiError)) {
      req.log.error(err);
      return reply.code(500).send({ error: `Internal error (request ${req.id})`, error_code: 'INTERNAL_ERROR', message: `Internal error (request ${req.id})` });
    }
    const code = err instanceof ApiError ? err.code : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_PARAMETER_VALUE';
    return reply.code(status).send({ error: err.message, error_code: code, message: err.message });
  });

  app.get('/v2', async () => ({ name: 'mlops-studio', version: BACKEND_VERSION, extensions: ['binary_tensor_data'] }));
  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async () => ({ ready: true }));

  const metadata = async (req: FastifyRequest<{ Params: ModelParams }>) => {
    const models = pick(engine, req.params);
    const m = models[0];
    if (!m) throw new ApiError('TEMPORARILY_UNAVAILABLE', `Endpoint '${req.params.name}' has no model deployed`);
    return {
      name: req.params.name,
      versions: [...new Set(models.map((x) => String(x.resolved.version)))],
      platform: 'onnxruntime_onnx',
      inputs: inputsOf(m),
      outputs: [{ name: m.output.name, datatype: datatypeOf(m.output.type), shape: m.output.shape }],
      parameters: { models: models.map((x) => x.id) },
    };
  };
  app.get('/v2/models/:name', metadata);
  app.get('/v2/models/:name/versions/:version', metadata);

  const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const models = pick(engine, req.params);
    return reply.code(models.length > 0 ? 200 : 503).send({ name: req.params.name, ready: models.length > 0 });
  };
  app.get('/v2/models/:name/ready', ready);
  app.get('/v2/models/:name/versions/:version/ready', ready);

  const infer = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw invalid('The inference request body is empty');
    const headerLen = req.headers['inference-header-content-length'];
    const request = decodeInferRequest(body, typeof headerLen === 'string' ? Number(headerLen) : null);
    const { name, version } = req.params;
    if (version !== undefined) pinnedVersion(engine, name, version);
    const model = engine.servingModels(name)[0];
    if (!model) throw new ApiError('TEMPORARILY_UNAVAILABLE', `Endpoint '${name}' has no model deployed`);
    const wanted = checkOutputs(request, model);
    const r = await engine.predict(name, { inputs: namedArrays(request, model) }, stickyKey(req, request), request.id ?? undefined);
    const out = outputTensor(r.model.output.name, r.model.output.type, r.model.output.shape, r.predictions);
    void reply.header('x-request-id', r.requestId).header('x-mlops-variant', r.variant);
    if (r.fallback) void reply.header('x-mlops-fallback', '1');
    const head = { model_name: name, model_version: String(r.model.resolved.version), id: request.id ?? r.requestId, outputs: [] as object[] };
    const binary = wanted ? wanted.binary : request.binaryDefault;
    if (!binary) {
      head.outputs.push(out);
      return head;
    }
    return sendBinary(reply, head, out);
  };
  const inferOpts = {
    // A clear 413 before reading a body that is announced too large. A callback hook: no promise per request.
    onRequest: (req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
      const len = Number(req.headers['content-length'] ?? 0);
      done(len > maxBodyBytes ? new ApiError('PAYLOAD_TOO_LARGE', `Request body is ${len} bytes; the limit for inference is ${maxBodyBytes} bytes`) : undefined);
    },
  };
  app.post<{ Params: ModelParams }>('/v2/models/:name/infer', inferOpts, infer);
  app.post<{ Params: ModelParams }>('/v2/models/:name/versions/:version/infer', inferOpts, infer);
}

function decompress(req: FastifyRequest, body: Buffer, max: number): Buffer {
  const enc = req.headers['content-encoding'];
  if (enc === undefined || enc === 'identity') return body;
  try {
    if (enc === 'gzip') return gunzipSync(body, { maxOutputLength: max });
    if (enc === 'deflate') return inflateSync(body, { maxOutputLength: max });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new ApiError('PAYLOAD_TOO_LARGE', `The decompressed body exceeds ${max} bytes`);
    throw invalid(`The ${enc} body could not be decompressed: ${(err as Error).message}`);
  }
  throw new ApiError('BAD_REQUEST', `Content-Encoding '${String(enc)}' is not supported; send gzip, deflate or none`);
}

/** The models serving an endpoint, or only the given version of them (404 when it is not among them). */
function pick(engine: ServingEngine, p: ModelParams): LoadedModel[] {
  const models = engine.servingModels(p.name);
  if (p.version === undefined) return models;
  const hit = models.filter((m) => String(m.resolved.version) === p.version);
  if (hit.length === 0) throw notFound(`Endpoint '${p.name}' does not serve version ${p.version} (it serves ${models.map((m) => m.resolved.version).join(', ') || 'nothing'})`);
  return hit;
}

/** A version in the path is honoured only where the endpoint's routing would pick that version anyway. */
function pinnedVersion(engine: ServingEngine, name: string, version: string): void {
  const models = pick(engine, { name, version });
  const all = engine.servingModels(name);
  if (all.length > models.length) {
    throw invalid(`Endpoint '${name}' splits traffic between versions ${all.map((m) => m.resolved.version).join(' and ')}; send the request without a version and the endpoint routes it`);
  }
}

function inputsOf(m: LoadedModel): { name: string; datatype: string; shape: number[] }[] {
  if (m.plan.mode !== 'matrix' || m.plan.features.some((f) => f.name === null)) {
    return m.plan.inputs.map((i) => ({ name: i.name, datatype: datatypeOf(i.type), shape: [...i.shape] }));
  }
  // A model with a named column signature also takes one [N] tensor per feature; the ONNX input is listed first.
  const only = m.plan.inputs[0]!;
  return [{ name: only.name, datatype: datatypeOf(only.type), shape: [...only.shape] }];
}

/**
 * Tensors as the engine's named arrays: the model's own inputs keep their shape; any other name is a feature
 * column ([N] or [N, 1]), which the engine matches against the model's signature.
 */
function namedArrays(request: InferRequest, model: LoadedModel): Record<string, unknown> {
  const own = new Set(model.plan.inputs.map((i) => i.name));
  const arrays: Record<string, unknown> = {};
  for (const t of request.inputs) {
    const column = t.shape.length === 2 && t.shape[1] === 1 && !(own.has(t.name) && (model.plan.mode === 'tensors' || model.plan.mode === 'matrix'));
    arrays[t.name] = column ? t.data : nest(t.data, t.shape);
  }
  return arrays;
}

/** The one output served; names another output → 400. Returns the request for it, if any. */
function checkOutputs(request: InferRequest, model: LoadedModel): { binary: boolean } | null {
  if (!request.outputs || request.outputs.length === 0) return null;
  const unknown = request.outputs.filter((o) => o.name !== model.output.name);
  if (unknown.length) throw invalid(`Unknown output(s) ${unknown.map((o) => `'${o.name}'`).join(', ')}; the endpoint serves '${model.output.name}'`);
  return request.outputs[0]!;
}

function stickyKey(req: FastifyRequest, request: InferRequest): string | null {
  const h = req.headers['x-sticky-key'];
  if (typeof h === 'string' && h) return h;
  const p = request.parameters.sticky_key;
  return typeof p === 'string' && p ? p : null;
}

function sendBinary(reply: FastifyReply, head: { outputs: object[] }, out: OutputTensor): FastifyReply {
  const raw = encodeBinary(out);
  head.outputs.push({ name: out.name, datatype: out.datatype, shape: out.shape, parameters: { binary_data_size: raw.length } });
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  return reply
    .header('content-type', 'application/octet-stream')
    .header('inference-header-content-length', String(json.length))
    .send(Buffer.concat([json, raw]));
}
