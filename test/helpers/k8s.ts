import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ROOT } from './backend';

type Schema = Record<string, unknown>;

/**
 * Strict like `kubectl apply --validate=strict`: an object schema that lists its properties and does not preserve
 * unknown fields rejects any other field (the API server would silently prune it).
 */
function strict(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strict);
  if (!s || typeof s !== 'object') return s;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s as Schema)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, x]) => [p, strict(x)])) : strict(v);
  if (out.properties && !out['x-kubernetes-preserve-unknown-fields'] && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Validates against a CRD's openAPIV3Schema vendored under test/fixtures/k8s; returns the errors (empty: valid). */
export function crdValidator(file: string): (doc: unknown) => string[] {
  const { schema } = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/k8s', file), 'utf8')) as { schema: Schema };
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true, 'date-time': true, byte: true, double: true, float: true } });
  const check = ajv.compile(strict(schema) as Schema);
  return (doc) => (check(doc) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
}
