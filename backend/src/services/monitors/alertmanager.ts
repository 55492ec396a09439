import { createHmac } from 'node:crypto';
import type { IncidentAlert, MonitorKind } from './alerts';

/** One alert as Alertmanager's webhook sends it. */
export interface AmAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload, version 4 (prometheus/alertmanager notify/webhook). */
export interface AmPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AmAlert[];
}

/** Alertmanager's zero time: what endsAt reads while an alert fires. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const ALERT_NAMES: Record<MonitorKind, string> = {
  data_drift: 'MLOpsDataDrift',
  prediction_drift: 'MLOpsPredictionDrift',
  concept_drift: 'MLOpsConceptDrift',
  performance: 'MLOpsPerformanceSLO',
};

/** The labels Alertmanager groups by here. */
export const GROUP_BY = ['alertname', 'endpoint'] as const;

/** A label set's identity as Alertmanager computes it: 64-bit FNV-1a over the sorted name/value pairs, 16 hex digits. */
export function fingerprint(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (const name of Object.keys(labels).sort()) {
    for (const b of Buffer.from(`${name}\xff${labels[name]}\xff`, 'utf8')) h = ((h ^ BigInt(b)) * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function toAmAlert(a: IncidentAlert, externalURL: string): AmAlert {
  const labels: Record<string, string> = { ...a.labels, alertname: ALERT_NAMES[a.kind], endpoint: a.endpoint, kind: a.kind, severity: a.severity, incident: a.incidentId };
  return {
    status: a.status,
    labels,
    annotations: { summary: a.summary, description: a.description, ...(a.evidencePath ? { evidence: `${externalURL}${a.evidencePath}` } : {}) },
    startsAt: rfc3339(a.startsAt),
    endsAt: a.endsAt === null ? ZERO_TIME : rfc3339(a.endsAt),
    generatorURL: `${externalURL}/api/v1/incidents/${a.incidentId}`,
    fingerprint: fingerprint(labels),
  };
}

/** Alertmanager's groupKey for a route with no matchers: `{}:{a="x", b="y"}`. */
export function groupKeyOf(groupLabels: Record<string, string>): string {
  return `{}:{${Object.keys(groupLabels).sort().map((k) => `${k}=${JSON.stringify(groupLabels[k])}`).join(', ')}}`;
}

/** Labels (or annotations) every alert carries with the same value. */
function common(maps: readonly Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  return Object.fromEntries(Object.entries(maps[0]!).filter(([k, v]) => maps.every((m) => m[k] === v)));
}

export function payloadOf(receiver: string, groupLabels: Record<string, string>, alerts: readonly AmAlert[], externalURL: string): AmPayload {
  // Firing first, then by start time, as a reader wants them.
  const sorted = [...alerts].sort((a, b) => (a.status === b.status ? a.startsAt.localeCompare(b.startsAt) : a.status === 'firing' ? -1 : 1));
  return {
    version: '4',
    groupKey: groupKeyOf(groupLabels),
    truncatedAlerts: 0,
    status: sorted.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels: common(sorted.map((a) => a.labels)),
    commonAnnotations: common(sorted.map((a) => a.annotations)),
    externalURL,
    alerts: sorted,
  };
}

/**
 * `X-MLOps-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`: the receiver recomputes it with the
 * shared secret, compares in constant time and rejects an old `t` (replays).
 */
export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}
