import { MonitorConfig, type EndpointMonitoring, type MonitorKind, type MonitorPatch } from '../../api/v1/contract-monitors';
import type { Db } from '../../store/db';

/**
 * mlops.yaml's monitoring: settings, kept per endpoint and kind (monitor_specs): `mlops monitor apply` stores them,
 * and an endpoint's first deploy creates its monitors with them.
 */
export class MonitorSpecs {
  constructor(private readonly db: Db) {}

  get(endpoint: string, kind: MonitorKind): MonitorPatch | null {
    const r = this.db.prepare('SELECT settings FROM monitor_specs WHERE endpoint = ? AND kind = ?').get(endpoint, kind) as { settings: string } | undefined;
    return r ? (JSON.parse(r.settings) as MonitorPatch) : null;
  }

  set(endpoint: string, kind: MonitorKind, settings: MonitorPatch, source: string | null, now: number): void {
    this.db
      .prepare('INSERT INTO monitor_specs (endpoint, kind, settings, source, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(endpoint, kind) DO UPDATE SET settings = excluded.settings, source = excluded.source, updated_at = excluded.updated_at')
      .run(endpoint, kind, JSON.stringify(settings), source, now);
  }
}

/** One kind's settings from an endpoint's block: `all` first, the kind's own over it. */
export function kindSettings(block: EndpointMonitoring, kind: MonitorKind): MonitorPatch {
  return { ...(block.all ?? {}), ...(block[kind] ?? {}) };
}

const BLOCK_KEYS = new Set(['all', 'data_drift', 'prediction_drift', 'concept_drift', 'performance']);

/**
 * Names every misspelt key of a monitoring: section (the schema validator would drop them silently), or null.
 * `settings` are the known monitor settings.
 */
export function unknownMonitoringKeys(body: unknown, settings: ReadonlySet<string>): string | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object with endpoints';
  const top = Object.keys(body).filter((k) => k !== 'endpoints' && k !== 'source');
  if (top.length) return `unknown key(s) ${quote(top)}; known: endpoints, source`;
  const endpoints = (body as { endpoints?: unknown }).endpoints;
  if (!endpoints || typeof endpoints !== 'object' || Array.isArray(endpoints)) return 'endpoints must be a map of endpoint names to their monitors';
  for (const [name, block] of Object.entries(endpoints).slice(0, 1000)) {
    if (!block || typeof block !== 'object' || Array.isArray(block)) continue;
    const kinds = Object.keys(block).filter((k) => !BLOCK_KEYS.has(k));
    if (kinds.length) return `endpoint '${name.slice(0, 100)}': unknown monitor kind(s) ${quote(kinds)}; known: ${[...BLOCK_KEYS].join(', ')}`;
    for (const [kind, s] of Object.entries(block)) {
      if (!s || typeof s !== 'object' || Array.isArray(s)) continue;
      const bad = Object.keys(s).filter((k) => !settings.has(k));
      if (bad.length) return `endpoint '${name.slice(0, 100)}' ${kind}: unknown monitor setting(s) ${quote(bad)}; known: ${[...settings].join(', ')}`;
      const choice = badChoice(s as Record<string, unknown>);
      if (choice) return `endpoint '${name.slice(0, 100)}' ${kind}: ${choice}`;
    }
  }
  return null;
}

/** The settings that take one of a few words (drift_rule, detector, severity) and their words, from the schema. */
const CHOICES = new Map(
  Object.entries(MonitorConfig.properties).flatMap(([key, schema]) => {
    const any = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
    return any?.every((a) => typeof a.const === 'string') ? [[key, any.map((a) => a.const as string)] as const] : [];
  }),
);

/** Names a setting given a word it does not take (the schema validator says only "must be equal to constant"), or null. */
export function badChoice(settings: Record<string, unknown>): string | null {
  for (const [key, value] of Object.entries(settings)) {
    const words = CHOICES.get(key);
    if (words && !words.includes(value as string)) return `${key} must be one of ${words.join(', ')}; got ${String(JSON.stringify(value)).slice(0, 100)}`;
  }
  return null;
}

const quote = (ks: string[]) => ks.slice(0, 5).map((k) => `'${k.slice(0, 100)}'`).join(', ');
