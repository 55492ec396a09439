import http from 'node:http';
import https from 'node:https';

export interface BoundedRequest {
  method: string;
  headers?: Record<string, string | number>;
  body?: Buffer;
  /** No answer (no byte) for this long fails the request. */
  timeoutMs: number;
  /** A longer answer is refused rather than held in memory. */
  maxBytes: number;
}

export interface BoundedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One HTTP(S) request with node:http (not fetch: no browser headers), bounded in time and in the size of the
 * answer. A failure to connect, a timeout or an oversized answer rejects with an Error whose `code` is the
 * system's (ECONNREFUSED, ENOTFOUND, ...) when there is one.
 */
export function boundedRequest(url: URL, o: BoundedRequest): Promise<BoundedAnswer> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: o.method, headers: o.headers ?? {}, timeout: o.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxBytes) req.destroy(new Error(`the answer to ${o.method} ${url.pathname} passed ${o.maxBytes / 2 ** 20} MiB`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${o.timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
