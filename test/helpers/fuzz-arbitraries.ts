import fc from 'fast-check';

/**
 * Hostile requests for the fuzz suite. Values that should reach deep into a handler name the seeded objects by
 * placeholder ($EXP, $RUN, $MODEL, $LM), which the runner replaces with the ids live at the time of the request.
 */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

export interface Route {
  method: string;
  url: string;
}

/** Names JavaScript objects carry by default: looked up in a plain object they find a function, not undefined. */
const BUILTINS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf'];
const IDS = ['$EXP', '$RUN', '$MODEL', '$LM', '0', '1', '2'];

/** Request fields the MLflow and /api/v1 handlers read. */
const FIELDS = [
  ...['experiment_id', 'experiment_ids', 'experiment_name', 'name', 'new_name', 'artifact_location', 'run_id', 'run_uuid', 'run_ids', 'run_name', 'user_id'],
  ...['start_time', 'end_time', 'status', 'key', 'value', 'timestamp', 'step', 'metrics', 'params', 'tags', 'datasets', 'models', 'model_id', 'model_json'],
  ...['filter', 'order_by', 'max_results', 'page_token', 'view_type', 'run_view_type', 'metric_key', 'start_step', 'end_step', 'path', 'stages', 'stage'],
  ...['version', 'alias', 'source', 'description', 'archive_existing_versions', 'allow_deleted', 'source_run_id', 'model_type', 'reason', 'limit', 'since'],
  ...['until', 'before_id', 'object_type', 'object_id', 'actor', 'action', 'force', 'launcher', 'weights', 'model', 'strategy', 'split', 'control', 'window'],
  ...['bucket_s', 'features', 'code_commit', 'environment', 'code_dirty', 'ids', 'runs', 'label', 'prediction_id', 'file', 'reference'],
  ...['override', 'override_gates', 'data_validation', 'op', 'metric', 'champion', 'challenger', 'data', 'margin', 'alpha', 'resamples', 'seed'],
];

const longString = fc.constantFrom(250, 251, 256, 1001, 6001, 70_000).map((n) => 'x'.repeat(n));
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...IDS) },
  { weight: 3, arbitrary: fc.constantFrom(...BUILTINS, '', ' ', 'NaN', 'Infinity', '-inf', '1e20', '-1', '1.5', 'true', 'null', '[]', '{}') },
  { weight: 2, arbitrary: fc.constantFrom('../../etc/passwd', '/abs', 'a/../b', 'a\\b', 'nul\u0000x', '%00', 'ünïcödé/日本', '\ud800', '%zz', 'a\nb', "o'quote\"") },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: longString },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, -0.5, 1e20, -1e20, 2 ** 53, 2 ** 63, Number.MAX_VALUE, 5e-324, 1e308),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** A page token: the reference server's base64 JSON, with an offset that may be anything, or garbage. */
export const pageToken: fc.Arbitrary<string> = fc.oneof(
  fc.oneof(hostileNumber, hostileString, fc.constant(null), fc.constant([1])).map((offset) => Buffer.from(JSON.stringify({ offset })).toString('base64')),
  fc.constantFrom('eyJfX3Byb3RvX18iOnsib2Zmc2V0IjoxfX0=', '!!!', 'e30=', 'bnVsbA==', Buffer.from('{"offset":1e20}').toString('base64')),
  hostileString,
);

const ENTITIES = ['metrics', 'metric', 'params', 'tags', 'attributes', 'attribute', 'run', 'datasets', 'dataset', 'foo', ...BUILTINS];
const KEYS = ['m', 'p', 't', 'run_id', 'run_name', 'status', 'start_time', 'end_time', 'name', 'digest', 'context', 'creation_time', 'version', ...BUILTINS];
const OPS = ['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL', '~', 'OR'];
const quote = (s: string) => `'${s.replace(/'/g, '')}'`;
const likePattern = fc.array(fc.constantFrom('%', '_', 'a', 'b', 'x'), { maxLength: 24 }).map((cs) => cs.join(''));
const clauseValue = fc.oneof(
  hostileNumber.map(String),
  hostileString.map(quote),
  likePattern.map(quote),
  fc.array(hostileString.map(quote), { maxLength: 4 }).map((l) => `(${l.join(', ')})`),
  fc.constantFrom('bare', '(', "'open", '1e999', 'true'),
);
const clause = fc
  .tuple(fc.constantFrom(...ENTITIES), fc.constantFrom(...KEYS), fc.constantFrom(...OPS), clauseValue, fc.boolean())
  .map(([e, k, op, v, quoted]) => `${e}.${quoted ? `\`${k}\`` : k} ${op}${op.startsWith('IS') ? '' : ` ${v}`}`);

/** Filters, including the sizes SQLite itself limits: 64 tables in a join, 1000 expression depth, 32,766 variables. */
export const filter: fc.Arbitrary<string> = fc.oneof(
  { weight: 20, arbitrary: fc.array(clause, { minLength: 1, maxLength: 5 }).map((cs) => cs.join(' AND ')) },
  { weight: 3, arbitrary: fc.oneof(hostileString, likePattern.map((p) => `params.p LIKE ${quote(p)}`)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Array.from({ length: 70 }, (_, i) => `metrics.m${i} > 0`).join(' AND '),
      Array.from({ length: 70 }, (_, i) => `params.p${i} = 'x'`).join(' AND '),
      Array.from({ length: 1100 }, () => 'attributes.start_time > 0').join(' AND '),
      Array.from({ length: 600 }, () => 'metrics.m > 0').join(' AND '),
      `attributes.run_id IN (${Array.from({ length: 40_000 }, (_, i) => `'r${i}'`).join(',')})`,
      `datasets.name IN (${Array.from({ length: 40_000 }, (_, i) => `'d${i}'`).join(',')})`,
      `params.p LIKE '${'%a'.repeat(40)}%b'`,
      `tags.t = '${'y'.repeat(100_000)}'`,
    ),
  },
);

const orderItem = fc
  .tuple(fc.constantFrom(...ENTITIES), fc.constantFrom(...KEYS), fc.constantFrom('', ' ASC', ' DESC', ' desc', ' SIDEWAYS'))
  .map(([e, k, d]) => `${e}.${k}${d}`);
export const orderBy: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.oneof(orderItem, hostileString), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 70 }, (_, i) => `metrics.m${i} DESC`)) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 70 }, (_, i) => `params.p${i}`)) },
);

/** Any JSON value, biased to the shapes handlers expect (lists of {key, value}, metrics, datasets) and to null inside lists. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: hostileString },
    { weight: 4, arbitrary: hostileNumber },
    { weight: 2, arbitrary: fc.constantFrom(null, true, false) },
    { weight: 2, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS, ...BUILTINS), fc.string({ maxLength: 4 })), tie('v'), { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.constant([null]) },
    {
      weight: 2,
      arbitrary: fc.array(fc.record({ key: hostileString, value: tie('v'), timestamp: tie('v'), step: tie('v') }, { requiredKeys: ['key'] }), { maxLength: 3 }),
    },
    {
      weight: 2,
      arbitrary: fc.array(
        fc.oneof(
          fc.constant(null),
          fc.record(
            {
              dataset: fc.oneof(fc.constant(null), fc.record({ name: tie('v'), digest: tie('v'), source_type: tie('v'), source: tie('v'), schema: tie('v'), profile: tie('v') })),
              tags: tie('v'),
            },
            { requiredKeys: [] },
          ),
        ),
        { maxLength: 2 },
      ),
    },
  ),
})).v;

/** A well-formed write now and then keeps the store growing, so searches and consistency checks have data. */
const goodWrite: fc.Arbitrary<[string, Record<string, unknown>]> = fc.oneof(
  fc.tuple(fc.constant('/api/2.0/mlflow/runs/create'), fc.record({ experiment_id: fc.constantFrom('$EXP', '0'), start_time: fc.nat() })),
  fc.tuple(
    fc.constant('/api/2.0/mlflow/runs/log-batch'),
    fc.record({
      run_id: fc.constant('$RUN'),
      metrics: fc.array(
        fc.record({
          key: fc.constantFrom('m', 'm1', 'loss'),
          value: fc.oneof(fc.double({ noDefaultInfinity: true }).map((v) => (Number.isNaN(v) ? 'NaN' : v)), fc.constantFrom('NaN', 'Infinity', 1e20)),
          timestamp: fc.nat(),
          step: fc.integer({ min: -5, max: 5 }),
        }),
        { maxLength: 5 },
      ),
      params: fc.array(fc.record({ key: fc.constantFrom('p', 'q'), value: fc.constantFrom('a', 'aaaa', 'ab') }), { maxLength: 2 }),
    }),
  ),
  fc.tuple(fc.constant('/api/2.0/mlflow/runs/log-metric'), fc.record({ run_id: fc.constant('$RUN'), key: fc.constant('m'), value: hostileNumber, timestamp: fc.nat(), step: fc.nat(9) })),
  fc.tuple(fc.constant('/api/2.0/mlflow/experiments/create'), fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }) })),
  // @champion through the seeded model's promotion gate (passes or is refused by the run's metric `m`)
  fc.tuple(fc.constant('/api/2.0/mlflow/registered-models/alias'), fc.record({ name: fc.constant('$MODEL'), alias: fc.constantFrom('champion', 'challenger'), version: fc.constant('1'), override_gates: fc.boolean(), reason: fc.constantFrom('', 'why') })),
);

/** Artifact paths: traversal, names over 255 bytes, and the seeded file, directory and dangling symlink. */
const artifactSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('file.txt', 'dir', 'dangling', 'loop', 'new', 'a.json', '日本.json') },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '', '%2e%2e', 'constructor', '__proto__', 'x.part-1', 'ü', ' ', 'a b') },
  { weight: 1, arbitrary: fc.constantFrom(255, 256, 300, 5000).map((n) => 'n'.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const artifactPath = fc
  .tuple(fc.constantFrom('$ART', '$ART/dir', '$ART/file.txt', '$ART/dangling', '', '0'), fc.array(artifactSegment, { maxLength: 3 }))
  .map(([base, segs]) => [base, ...segs].filter((s, i) => i > 0 || s !== '').join('/'));

/** Percent-encodes, except that '%zz' stays raw (a malformed escape) and surrogates become U+FFFD (a lone one cannot be encoded). */
const enc = (s: string) => (s === '%zz' ? s : encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd')));

function fillPath(url: string, params: string[], star: string): string {
  let i = 0;
  return url
    .replace(/:[A-Za-z_]+/g, () => enc(params[i++ % params.length] ?? ''))
    .replace('*', star.split('/').map(enc).join('/'));
}

function query(obj: Record<string, unknown>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x));
  return qs.toString();
}

/** The fields of a request: dictionary names with hostile values, plus the search fields with their own generators. */
const args: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.dictionary(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: fc.constantFrom(...BUILTINS) }), hostileValue, { maxKeys: 6 }),
    fc.option(filter, { freq: 2 }),
    fc.option(orderBy, { freq: 3 }),
    fc.option(pageToken, { freq: 4 }),
    fc.option(fc.constantFrom('$EXP', '0', '$RUN', 'x'), { freq: 2 }),
  )
  .map(([base, f, o, t, id]) => ({
    ...base,
    ...(f !== null ? { filter: f } : {}),
    ...(o !== null ? { order_by: o } : {}),
    ...(t !== null ? { page_token: t } : {}),
    ...(id !== null ? { experiment_ids: [id], experiment_id: id, run_id: '$RUN', name: '$MODEL' } : {}),
  }));

const headerValue = fc.oneof(fc.constantFrom('', 'x'.repeat(10_000), '__proto__', 'üñï', 'a'.repeat(300)), fc.string({ unit: fc.constantFrom('a', ' ', '-', ';', '=', '/'), maxLength: 20 }));
const extraHeaders = fc.dictionary(
  fc.constantFrom('x-mlops-actor', 'x-mlops-reason', 'x-mlops-override-gates', 'accept', 'content-type', 'x-request-id', 'if-none-match', 'range', 'x-forwarded-for'),
  headerValue,
  { maxKeys: 2 },
);

/** One hostile request to `route`. */
export function requestFor(route: Route): fc.Arbitrary<FuzzRequest> {
  const bodyless = route.method === 'GET';
  return fc
    .tuple(
      fc.array(hostileString, { minLength: 1, maxLength: 2 }),
      artifactPath,
      args,
      extraHeaders,
      fc.oneof({ weight: 8, arbitrary: fc.constant('json') }, { weight: 1, arbitrary: fc.constantFrom('raw', 'nonobject', 'empty', 'query') }),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('{', '{"a":', '[1,2', '\u0000', 'null', '"str"', '1e999', '{"__proto__":{"x":1}}')),
    )
    .map(([params, star, a, headers, shape, raw]) => {
      const url = fillPath(route.url, params, star);
      const h: Record<string, string> = { ...headers };
      if (bodyless || shape === 'query') return { method: route.method, url: `${url}?${query(a)}`, headers: h };
      h['content-type'] ??= 'application/json';
      if (shape === 'raw') return { method: route.method, url, headers: h, payload: raw };
      if (shape === 'empty') return { method: route.method, url, headers: h, payload: '' };
      if (shape === 'nonobject') return { method: route.method, url, headers: h, payload: JSON.stringify([a]) };
      return { method: route.method, url, headers: h, payload: JSON.stringify(a) };
    });
}

/** Requests spread over every route, with well-formed writes mixed in (about one in nine). */
export function requests(routes: readonly Route[]): fc.Arbitrary<FuzzRequest> {
  // The artifact routes touch the file system, where most surprises are: they get a share of their own.
  const files = routes.filter((r) => r.url.includes('mlflow-artifacts/'));
  return fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom(...routes).chain(requestFor) },
    { weight: 1, arbitrary: fc.constantFrom(...files).chain(requestFor) },
    { weight: 1, arbitrary: goodWrite.map(([url, body]) => ({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })) },
  );
}
