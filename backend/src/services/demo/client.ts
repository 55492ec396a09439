import { invalid } from '../../util/errors';
import { backendCaller, type Caller } from '../../util/http-client';

/** The demo's view of its backend: MLflow RPCs and artifact uploads over the shared caller. */
export class BackendClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {
    this.caller = backendCaller(url, token);
  }

  private readonly caller: Caller;

  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    return this.caller<T>(method, path, body);
  }

  mlflow<T = Record<string, unknown>>(method: string, rpc: string, body?: unknown): Promise<T> {
    return this.call<T>(method, `/api/2.0/mlflow/${rpc}`, body);
  }

  /** Scores a request on an endpoint; its request id (for feedback labels). */
  async score(endpoint: string, body: unknown): Promise<string> {
    const res = await fetch(`${this.url}/endpoints/${encodeURIComponent(endpoint)}/invocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw invalid(`scoring on ${endpoint} failed (${res.status}): ${await res.text()}`);
    await res.arrayBuffer();
    return res.headers.get('x-request-id')!;
  }

  async upload(artifactPath: string, data: string | Uint8Array): Promise<void> {
    const res = await fetch(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (!res.ok) throw invalid(`upload of ${artifactPath} failed (${res.status}): ${await res.text()}`);
  }
}
