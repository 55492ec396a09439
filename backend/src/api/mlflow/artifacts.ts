import type { FastifyInstance, FastifyRequest } from 'fastify';
import { basename } from 'node:path';
import type { CoreContext } from '../../context';
import { ApiError, invalid } from '../../util/errors';
import { toWireJson } from './http';

const MIME: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain',
  yaml: 'text/yaml',
  yml: 'text/yaml',
  csv: 'text/csv',
  html: 'text/html',
  png: 'image/png',
  jpg: 'image/jpeg',
  svg: 'image/svg+xml',
};

/**
 * An attachment header for any file name: headers are Latin-1, so the plain `filename` gets an ASCII stand-in and
 * `filename*` (RFC 6266/5987) the name itself, percent-encoded UTF-8 (a name such as 日本.json made Node refuse the
 * header, a 500).
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name.replace(LONE_SURROGATE, '\ufffd'))}`;
}

/**
 * MLflow's proxied artifact service (/api/2.0/mlflow-artifacts). Uploads and downloads stream: no file is ever
 * held in memory whole. Multipart upload is declined the way the client expects, so it falls back to one PUT.
 */
export async function artifactRoutes(app: FastifyInstance, opts: { ctx: CoreContext }): Promise<void> {
  const store = opts.ctx.artifacts;
  // Every content type (the client guesses one from the file name) arrives as the raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  const pathOf = (req: FastifyRequest) => (req.params as { '*': string })['*'] ?? '';

  for (const prefix of ['/api/2.0/mlflow-artifacts', '/ajax-api/2.0/mlflow-artifacts']) {
    app.put(`${prefix}/artifacts/*`, async (req, reply) => {
      await store.write(pathOf(req), req.raw);
      return reply.type('application/json').send('{}');
    });
    app.get(`${prefix}/artifacts/*`, async (req, reply) => {
      const p = pathOf(req);
      const { stream, size } = await store.openRead(p);
      const ext = p.split('.').pop()?.toLowerCase() ?? '';
      return reply
        .header('Content-Disposition', contentDisposition(basename(p)))
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Length', size)
        .type(MIME[ext] ?? 'application/octet-stream')
        .send(stream);
    });
    app.get(`${prefix}/artifacts`, async (req, reply) => {
      const path = (req.query as { path?: unknown }).path ?? '';
      if (typeof path !== 'string') throw invalid("Invalid value for parameter 'path': expected one string");
      const files = await store.list(path);
      return reply.type('application/json').send(toWireJson(files.length ? { files } : {}));
    });
    app.delete(`${prefix}/artifacts/*`, async (req, reply) => {
      await store.delete(pathOf(req));
      return reply.type('application/json').send('{}');
    });
    app.post(`${prefix}/mpu/*`, async () => {
      throw new ApiError('NOT_IMPLEMENTED', 'Multipart upload is not supported for the current artifact repository');
    });
  }
}
