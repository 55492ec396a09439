/**
 * Shared pieces of the Kubernetes manifests `mlops` writes (generated offline; nothing here talks to a
 * cluster): names, labels, the MLFLOW_* environment from a Secret, and container resources.
 */

export type Manifest = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

export class ManifestError extends Error {}

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'mlops-studio' };

/** A DNS-1123 label (lowercase alphanumerics and '-', at most 63): what most Kubernetes names must be. */
export function dnsLabel(s: string, max = 63): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  if (!out) throw new ManifestError(`'${s}' has no characters usable in a Kubernetes name`);
  return out;
}

export interface SecretRef {
  /** Name of the Secret holding the tracking server's address and token. */
  name: string;
  uriKey: string;
  tokenKey: string;
}

export const DEFAULT_SECRET: SecretRef = { name: 'mlops-mlflow', uriKey: 'MLFLOW_TRACKING_URI', tokenKey: 'MLFLOW_TRACKING_TOKEN' };

/** MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN come from a Secret (never inlined); the token is optional there. */
export function mlflowEnv(secret: SecretRef, experiment?: string): Record<string, unknown>[] {
  return [
    { name: 'MLFLOW_TRACKING_URI', valueFrom: { secretKeyRef: { name: secret.name, key: secret.uriKey } } },
    { name: 'MLFLOW_TRACKING_TOKEN', valueFrom: { secretKeyRef: { name: secret.name, key: secret.tokenKey, optional: true } } },
    ...(experiment ? [{ name: 'MLFLOW_EXPERIMENT_NAME', value: experiment }] : []),
  ];
}

/** Docker-style sizes (512m, 4g, 1.5G) as Kubernetes quantities (512Mi, 4Gi, 1536Mi); plain bytes stay. */
export function memoryQuantity(s: string): string {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)$/i.exec(s.trim());
  if (!m) throw new ManifestError(`memory '${s}' is not a size such as 512m or 4g`);
  const unit = m[2]!.toLowerCase();
  if (!unit) return String(Math.round(Number(m[1])));
  const mult = { k: 1, m: 2, g: 3, t: 4 }[unit]!;
  const n = Number(m[1]);
  if (Number.isInteger(n)) return `${n}${unit.toUpperCase()}i`;
  if (mult === 1) return String(Math.round(n * 1024));
  return `${Math.round(n * 1024)}${'KMGT'[mult - 2]}i`;
}

/** 90s, 30m, 2h, 1d, or plain seconds → seconds. */
export function durationSeconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new ManifestError(`duration '${s}' is not like 90s, 30m, 2h or 1d`);
  return Math.ceil(Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's']);
}

export interface ResourceAsk {
  cpus?: number | undefined;
  memory?: string | undefined;
  gpus?: number | 'all' | undefined;
}

/** requests = limits for CPU and memory (a Guaranteed pod); GPUs as nvidia.com/gpu limits (extended resources). */
export function resources(r: ResourceAsk): Record<string, unknown> | undefined {
  const limits: Record<string, string> = {};
  if (r.cpus !== undefined) limits.cpu = String(r.cpus);
  if (r.memory !== undefined) limits.memory = memoryQuantity(r.memory);
  if (r.gpus !== undefined) {
    if (r.gpus === 'all') throw new ManifestError("--gpus all has no meaning in a Kubernetes manifest; give a count");
    if (!Number.isInteger(r.gpus) || r.gpus < 0) throw new ManifestError(`gpus must be a whole number, got ${r.gpus}`);
    if (r.gpus > 0) limits['nvidia.com/gpu'] = String(r.gpus);
  }
  if (Object.keys(limits).length === 0) return undefined;
  const requests = Object.fromEntries(Object.entries(limits).filter(([k]) => k !== 'nvidia.com/gpu'));
  return Object.keys(requests).length ? { limits, requests } : { limits };
}

/** `KEY` for environment variables the way the pipeline runner names them (MLOPS_INPUT_<STEP>). */
export const envKey = (s: string): string => s.toUpperCase().replace(/-/g, '_');
