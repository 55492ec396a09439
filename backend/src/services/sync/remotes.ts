import { MlflowRemote, RemoteError } from './client';
import type { RetryPolicy } from './http';
import { TransportError } from './http';
import type { Auth, RemoteRow, SyncRepo } from './repository';
import { trimTrailingSlashes } from '../../util/strings';

/** A sync failure with one clear message for people (the CLI prints it as it is). */
export class SyncError extends Error {}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface RemoteInput {
  name: string;
  url: string;
  tokenEnv?: string;
  username?: string;
  passwordEnv?: string;
}

/** Validates and stores a remote. Secrets stay in the environment: only the variable's name is written. */
export function addRemote(repo: SyncRepo, r: RemoteInput): RemoteRow {
  if (!NAME_RE.test(r.name)) throw new SyncError(`invalid remote name '${r.name}': use letters, digits, '.', '_' or '-' (up to 64)`);
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    throw new SyncError(`invalid remote URL '${r.url}': expected http(s)://host[:port][/prefix]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SyncError(`invalid remote URL '${r.url}': only http and https are supported`);
  if (url.username || url.password) throw new SyncError('the remote URL must not contain credentials; use --username with --password-env, or --token-env');
  if (r.tokenEnv && (r.username || r.passwordEnv)) throw new SyncError('use either --token-env or --username/--password-env, not both');
  if (!!r.username !== !!r.passwordEnv) throw new SyncError('--username and --password-env go together');
  const env = r.tokenEnv ?? r.passwordEnv;
  if (env !== undefined && !ENV_RE.test(env)) throw new SyncError(`'${env}' is not an environment variable name; pass the variable's NAME, never the secret itself`);
  if (repo.remote(r.name)) throw new SyncError(`remote '${r.name}' already exists; remove it first with 'mlops remote remove ${r.name}'`);
  const auth: Auth = r.tokenEnv ? 'bearer' : r.username ? 'basic' : 'none';
  const row = { name: r.name, url: trimTrailingSlashes(url.toString()), auth, username: r.username ?? null, secret_env: env ?? null };
  repo.addRemote(row);
  return repo.remote(r.name)!;
}

/** The remote to use: the one named, or the only one configured. */
export function pickRemote(repo: SyncRepo, name: string | undefined): RemoteRow {
  if (name) {
    const r = repo.remote(name);
    if (!r) throw new SyncError(`no remote named '${name}'; add one with 'mlops remote add ${name} URL'`);
    return r;
  }
  const all = repo.remotes();
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw new SyncError("no remote configured; add one with 'mlops remote add NAME URL'");
  throw new SyncError(`several remotes are configured (${all.map((r) => r.name).join(', ')}); name one`);
}

export function authHeaders(r: RemoteRow, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (r.auth === 'none') return {};
  const secret = r.secret_env ? env[r.secret_env] : undefined;
  if (!secret) throw new SyncError(`remote '${r.name}' needs the environment variable ${r.secret_env} (its ${r.auth === 'bearer' ? 'token' : 'password'}); it is not set`);
  if (r.auth === 'bearer') return { Authorization: `Bearer ${secret}` };
  return { Authorization: `Basic ${Buffer.from(`${r.username}:${secret}`).toString('base64')}` };
}

/**
 * Opens a client and checks the remote before any write: reachable, credentials accepted, an MLflow server,
 * and MLflow 3 (the logged-model API that model pushes and pulls need).
 */
export async function connect(r: RemoteRow, retry?: RetryPolicy, env?: NodeJS.ProcessEnv): Promise<{ client: MlflowRemote; version: string }> {
  const client = new MlflowRemote(r.url, authHeaders(r, env), retry);
  try {
    const version = await client.version();
    await client.searchRegisteredModels().catch((e: unknown) => {
      if (e instanceof RemoteError && e.code === 'ENDPOINT_NOT_FOUND') throw new SyncError(`${r.url} does not serve MLflow's REST API (GET registered-models/search answered 404); is this an MLflow tracking server?`);
      throw e;
    });
    const major = Number(/^(\d+)\./.exec(version)?.[1] ?? NaN);
    if (Number.isFinite(major) && major < 3) {
      throw new SyncError(`remote '${r.name}' runs MLflow ${version}; sync needs MLflow 3 or newer (the logged-model API: POST /api/2.0/mlflow/logged-models)`);
    }
    const probe = await client.http.request({ method: 'POST', path: 'api/2.0/mlflow/logged-models/search', body: { json: { experiment_ids: ['0'], max_results: 1 } } });
    if (probe.status === 404 || probe.status === 405 || probe.status === 501) {
      throw new SyncError(`remote '${r.name}' (${r.url}) lacks MLflow 3's logged-model API (logged-models/search answered HTTP ${probe.status}); upgrade the server to MLflow 3 or newer`);
    }
    return { client, version };
  } catch (e) {
    client.close();
    throw describe(e, r);
  }
}

/** Turns transport and auth failures into one message that names the remote and what to check. */
export function describe(e: unknown, r: RemoteRow): Error {
  if (e instanceof SyncError) return e;
  if (e instanceof TransportError) return new SyncError(`remote '${r.name}' is unreachable: ${e.message}`);
  if (e instanceof RemoteError && (e.status === 401 || e.status === 403)) {
    const hint = r.auth === 'none' ? "the remote requires credentials: re-add it with --token-env VAR or --username U --password-env VAR" : `check ${r.secret_env}`;
    return new SyncError(`remote '${r.name}' rejected our credentials (HTTP ${e.status}): ${hint}`);
  }
  if (e instanceof RemoteError) return new SyncError(`remote '${r.name}': ${e.code}: ${e.message}`);
  return e instanceof Error ? e : new Error(String(e));
}
