/** An error the backend answered (its MLflow-style message), or a failure to reach it (status 0). */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export type Caller = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * Calls a running backend with its bearer token: GET bodies become query parameters (as the MLflow client sends
 * them), other bodies JSON. JSON answers are parsed; an error answer throws its `message`.
 */
export function backendCaller(url: string, token: string): Caller {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let target = url + path;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    const init: RequestInit = { method, headers };
    if (method === 'GET' && body && typeof body === 'object') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) qs.append(k, String(x));
      }
      target += (target.includes('?') ? '&' : '?') + qs.toString();
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(target, init);
    } catch (err) {
      throw new ClientError(`cannot reach the backend at ${url}: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json') ?? false;
    if (!res.ok) {
      let msg = text || `HTTP ${res.status}`;
      try {
        msg = (JSON.parse(text) as { message?: string }).message ?? msg;
      } catch {
        // not JSON: keep the text
      }
      throw new ClientError(msg, res.status);
    }
    return (json && text ? JSON.parse(text) : text) as T;
  };
}
