import { invalid } from '../../util/errors';

/** A minimal typed caller of our own backend's HTTP API (MLflow REST + /api/v1), used by the demo and tools. */
export class BackendClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    let url = this.url + path;
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` } };
    if (method === 'GET' && body) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) qs.append(k, String(x));
      }
      url += '?' + qs.toString();
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(url, init);
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw invalid(`${method} ${path} failed (${res.status}): ${msg}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  mlflow<T = Record<string, unknown>>(method: string, rpc: string, body?: unknown): Promise<T> {
    return this.call<T>(method, `/api/2.0/mlflow/${rpc}`, body);
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
