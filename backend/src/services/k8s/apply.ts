import { boundedRequest, type BoundedAnswer } from '../../util/http-request';
import type { Manifest } from './common';
import { randomSuffix } from './manifests';

/**
 * `--apply`: the manifests `mlops` writes, sent to a Kubernetes API server with server-side apply (one PATCH per
 * object, `application/apply-patch+yaml`, field manager `mlops-studio`, forced), the way `kubectl apply
 * --server-side --force-conflicts` sends them. The API server's own errors (its Status `message`) are shown.
 */

export const FIELD_MANAGER = 'mlops-studio';
/** What the API server's audit log shows for our requests. */
export const USER_AGENT = 'MLOpsStudio-Apply/1';
const TIMEOUT_MS = 30_000;
/** An object is at most ~1.5 MiB in etcd; a longer answer is refused rather than held in memory. */
const MAX_ANSWER_BYTES = 8 * 2 ** 20;

/** The kinds `mlops` writes: their resource (plural) names, and what a cluster needs installed to serve them. */
const KINDS: Record<string, { plural: string; from?: string }> = {
  Job: { plural: 'jobs' },
  Secret: { plural: 'secrets' },
  Workflow: { plural: 'workflows', from: 'Argo Workflows' },
  CronWorkflow: { plural: 'cronworkflows', from: 'Argo Workflows' },
  InferenceService: { plural: 'inferenceservices', from: 'KServe' },
  AnalysisTemplate: { plural: 'analysistemplates', from: 'Argo Rollouts' },
};

export interface ApplyOptions {
  /** The API server's URL (http:// or https://; https uses the system's CAs and NODE_EXTRA_CA_CERTS). */
  server: string;
  /** Bearer token; never printed. */
  token?: string | undefined;
  /** Where the token came from, for the 401 message (e.g. MLOPS_KUBE_TOKEN). */
  tokenSource?: string;
  /** Namespace for objects (default: the manifest's own, else `default`). */
  namespace?: string | undefined;
  /** dryRun=All: the server validates and answers but stores nothing. */
  dryRun?: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface Applied {
  /** kubectl's name for it, e.g. `job.batch/iris-train-x1y2z`. */
  ref: string;
  namespace: string;
  action: 'created' | 'updated';
  dryRun: boolean;
  uid?: string;
}

export class ApplyError extends Error {}

/** The server URL as given, checked: http(s), no credentials (the token goes in an environment variable), no query. */
export function kubeServer(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new ApplyError(`'${raw}' is not a URL: give the API server as https://HOST:PORT`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ApplyError(`'${raw}': the API server must be an http:// or https:// URL`);
  if (u.username || u.password) throw new ApplyError('the API server URL must not carry credentials: put a bearer token in MLOPS_KUBE_TOKEN');
  if (u.search || u.hash) throw new ApplyError(`'${raw}': no query or fragment in the API server URL`);
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/** Apply needs a name: a `generateName` (a Workflow's) gets 5 random characters, as the API server would add on create. */
export function named(m: Manifest): Manifest {
  if (typeof m.metadata.name === 'string' && m.metadata.name) return m;
  const prefix = m.metadata.generateName;
  if (typeof prefix !== 'string' || !prefix) throw new ApplyError(`the ${m.kind} has neither metadata.name nor metadata.generateName`);
  const { generateName: _drop, ...metadata } = m.metadata;
  return { ...m, metadata: { ...metadata, name: `${prefix}${randomSuffix()}` } };
}

/** Applies each object in order; the first failure stops (naming what was applied before it). */
export async function applyManifests(ms: readonly Manifest[], o: ApplyOptions): Promise<Applied[]> {
  const done: Applied[] = [];
  for (const m of ms) {
    try {
      done.push(await applyOne(m, o));
    } catch (err) {
      if (err instanceof ApplyError && done.length) throw new ApplyError(`${err.message} (applied before it: ${done.map((a) => a.ref).join(', ')})`);
      throw err;
    }
  }
  return done;
}

async function applyOne(manifest: Manifest, o: ApplyOptions): Promise<Applied> {
  const kind = KINDS[manifest.kind];
  if (!kind) throw new ApplyError(`cannot apply a ${manifest.kind}: only ${Object.keys(KINDS).join(', ')}`);
  const m = named(manifest);
  const name = m.metadata.name as string;
  const namespace = o.namespace ?? (m.metadata.namespace as string | undefined) ?? 'default';
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/', 2) : ['', m.apiVersion];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true', ...(o.dryRun ? { dryRun: 'All' } : {}) });
  const path = `${base}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}/${encodeURIComponent(name)}?${query}`;
  // JSON is YAML: the apply-patch content type takes either.
  const body = Buffer.from(JSON.stringify({ ...m, metadata: { ...m.metadata, namespace } }));
  const r = await call(o, 'PATCH', path, body);
  const ref = `${m.kind.toLowerCase()}${group ? `.${group}` : ''}/${name}`;
  if (r.status === 200 || r.status === 201) {
    const uid = parseJson(r.text)?.metadata?.uid;
    return { ref, namespace, action: r.status === 201 ? 'created' : 'updated', dryRun: o.dryRun ?? false, ...(typeof uid === 'string' ? { uid } : {}) };
  }
  const msg = statusMessage(r);
  switch (r.status) {
    case 401:
      throw new ApplyError(`the API server at ${o.server} refused the credentials (401 Unauthorized: ${msg}); ${o.token ? `is the token in ${o.tokenSource ?? 'MLOPS_KUBE_TOKEN'} valid?` : `no token was sent: set ${o.tokenSource ?? 'MLOPS_KUBE_TOKEN'}`}`);
    case 403:
      throw new ApplyError(`${ref}: forbidden (403): ${msg}`);
    case 404: {
      if ((await serves(o, base, kind.plural)) === false) {
        throw new ApplyError(`the cluster does not serve ${kind.plural} in ${m.apiVersion} (404: ${msg})${kind.from ? `: is ${kind.from} installed?` : ''}`);
      }
      throw new ApplyError(`${ref} in namespace ${namespace}: not found (404): ${msg}`);
    }
    case 409:
      throw new ApplyError(`${ref}: conflict (409): ${msg}`);
    case 422:
      throw new ApplyError(`${ref} is invalid (422): ${msg}`);
    default:
      throw new ApplyError(`${ref}: the API server answered ${r.status}: ${msg}`);
  }
}

/** Whether the API server lists `plural` under `base` (its discovery document); null when that cannot be told. */
async function serves(o: ApplyOptions, base: string, plural: string): Promise<boolean | null> {
  const r = await call(o, 'GET', base).catch(() => null);
  if (r?.status === 404) return false;
  if (r?.status !== 200) return null;
  const resources = parseJson(r.text)?.resources;
  return Array.isArray(resources) ? resources.some((x: { name?: unknown }) => x.name === plural) : null;
}

async function call(o: ApplyOptions, method: string, path: string, body?: Buffer): Promise<BoundedAnswer> {
  const headers: Record<string, string | number> = { accept: 'application/json', 'user-agent': USER_AGENT };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (body) Object.assign(headers, { 'content-type': 'application/apply-patch+yaml', 'content-length': body.length });
  try {
    return await boundedRequest(new URL(o.server + path), { method, headers, ...(body ? { body } : {}), timeoutMs: o.timeoutMs ?? TIMEOUT_MS, maxBytes: o.maxBytes ?? MAX_ANSWER_BYTES });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ApplyError(`${err.code ? 'cannot reach' : 'no usable answer from'} the Kubernetes API server at ${o.server} (${err.code ?? err.message}); is --server or MLOPS_KUBE_SERVER right?`);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The API server's Status `message`, else the start of the answer. */
function statusMessage(r: BoundedAnswer): string {
  const s = parseJson(r.text) as { kind?: unknown; message?: unknown } | null;
  if (s && typeof s.message === 'string' && s.message) return s.message.slice(0, 1000);
  return r.text.trim().slice(0, 300) || `HTTP ${r.status}`;
}
