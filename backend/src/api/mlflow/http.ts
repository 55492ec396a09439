import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KV, Metric, ViewType } from '../../store/types';
import type { Actor } from '../../store/registry';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import { parseInt64, parseMetricValue } from '../../store/validation';

export type Args = Record<string, unknown>;
export type Handler = (args: Args, req: FastifyRequest) => unknown;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * protobuf JSON spells non-finite doubles as strings; JSON.stringify would turn them into null (read as 0). A
 * replacer makes stringify several times slower on big search pages, so it runs only when the plain output has a
 * null (where a non-finite number would have gone).
 */
export function toWireJson(body: unknown): string {
  const plain = JSON.stringify(body);
  if (!plain.includes('null')) return plain;
  return JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : v));
}

/**
 * Registers an MLflow RPC under /api/2.0/mlflow and /ajax-api/2.0/mlflow. GET requests carry their message as
 * query parameters; the others as a JSON body (DELETE included). The handler's result is the 200 JSON body.
 */
export function rpc(app: FastifyInstance, method: Method, path: string, handler: Handler): void {
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
    app.route({
      method,
      url: prefix + path,
      handler: async (req, reply) => {
        const raw = method === 'GET' ? req.query : req.body;
        if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) throw invalid('Request body must be a JSON object');
        const out = await handler((raw ?? {}) as Args, req);
        return reply.type('application/json').send(toWireJson(out ?? {}));
      },
    });
  }
}

/** An optional string field; numbers are accepted and stringified (proto JSON is lenient about scalars). */
export function optStr(a: Args, field: string): string | undefined {
  const v = a[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`);
}

export function reqStr(a: Args, field: string): string {
  const v = optStr(a, field);
  if (v === undefined || v === '') throw invalid(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
  return v;
}

export function optInt(a: Args, field: string, min?: number): number | undefined {
  return parseInt64(a[field], field, min === undefined ? {} : { min });
}

export function optBool(a: Args, field: string): boolean | undefined {
  const v = a[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${field}': expected true or false`);
}

/** Repeated fields: a JSON array, or one or more query parameters; at most `max` (each may become a bound SQL value). */
export function strList(a: Args, field: string, max = 10_000): string[] {
  const v = a[field];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  if (list.length > max) throw invalid(`Invalid value for parameter '${field}': at most ${max} items, got ${list.length}`);
  return list.map((x) => {
    if (typeof x === 'string' || typeof x === 'number') return String(x);
    throw invalid(`Invalid value for parameter '${field}': expected a list of strings`);
  });
}

/** A JSON object (not null, not a list), or INVALID_PARAMETER_VALUE naming `what`. */
export function objectAt(v: unknown, what: string): Args {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`Invalid value for parameter '${what}': expected an object`);
  return v as Args;
}

export function kvList(a: Args, field: string): KV[] {
  const v = a[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`Invalid value for parameter '${field}': expected a list of {key, value}`);
  return v.map((x: unknown, i) => {
    if (!x || typeof x !== 'object') throw invalid(`Invalid value for parameter '${field}[${i}]': expected {key, value}`);
    const o = x as Args;
    const key = reqStr(o, 'key');
    if (o.value === undefined || o.value === null) throw invalid(`Missing value for required parameter '${field}[${i}].value'`);
    return { key, value: typeof o.value === 'string' ? o.value : String(o.value as number) };
  });
}

/** One metric of a request; `index` (its place in a batch) prefixes field names in errors: `metrics[3].value`. */
export function metricOf(o: Args, index?: number): Metric {
  const where = (): string => (index === undefined ? '' : `metrics[${index}].`);
  const key = o.key;
  if (typeof key !== 'string' || !key) throw invalid(`Missing value for required parameter '${where()}key'`);
  // The common case (numbers where numbers belong) skips the general parsers and their error-label strings.
  const { value, timestamp, step } = o;
  const m: Metric = {
    key,
    value: typeof value === 'number' ? value : parseMetricValue(value, `${where()}value`),
    timestamp: typeof timestamp === 'number' && Number.isSafeInteger(timestamp) && timestamp >= 0 ? timestamp : parseInt64(timestamp, `${where()}timestamp`, { required: true, min: 0 })!,
    step: typeof step === 'number' && Number.isSafeInteger(step) ? step : (parseInt64(step, `${where()}step`) ?? 0),
  };
  if (o.model_id !== undefined || o.dataset_name !== undefined || o.dataset_digest !== undefined) {
    for (const f of ['model_id', 'dataset_name', 'dataset_digest'] as const) {
      if (typeof o[f] === 'string' && o[f]) m[f] = o[f];
    }
  }
  return m;
}

export function viewType(a: Args, field: string): ViewType {
  const v = a[field];
  if (v === undefined || v === null || v === '') return 'ACTIVE_ONLY';
  const names: ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];
  if (typeof v === 'number' && names[v - 1]) return names[v - 1]!;
  if (typeof v === 'string' && (names as string[]).includes(v)) return v as ViewType;
  if (typeof v === 'string' && /^[123]$/.test(v)) return names[Number(v) - 1]!;
  throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${field}': expected ACTIVE_ONLY, DELETED_ONLY or ALL`);
}

/** The run id from `run_id` or the deprecated `run_uuid`. */
export function runIdOf(a: Args): string {
  const id = optStr(a, 'run_id') || optStr(a, 'run_uuid');
  if (!id) throw invalid("Missing value for required parameter 'run_id'.");
  return id;
}

/** Who acts (header X-MLOps-Actor, else the backend's OS user) and why (X-MLOps-Reason or a `reason` field). */
export function actorOf(ctx: CoreContext, req: FastifyRequest, a?: Args): Actor {
  const h = req.headers['x-mlops-actor'];
  const r = req.headers['x-mlops-reason'];
  const reason = typeof r === 'string' ? r : typeof a?.reason === 'string' ? a.reason : null;
  return { actor: typeof h === 'string' && h ? h : ctx.defaultActor, reason };
}
