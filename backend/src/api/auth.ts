import type { FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import type { CoreContext } from '../context';
import type { KnownSecrets } from '../services/secrets';
import type { JobScope, JobTokens } from '../services/jobs/tokens';
import { maskKnown } from '../util/mask';
import { authorizeJob, recordCreation } from './job-access';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carries a job's own token: what that job may do. */
    jobScope: JobScope | null;
  }
}

/** Paths that need no token: liveness and readiness (Kubernetes probes carry no token), no data. */
const PUBLIC = new Set(['/health', '/v2/health/live', '/v2/health/ready']);

/**
 * Bearer auth: the backend's own token may do everything; a job's token (see services/jobs/tokens.ts) only what
 * job-access.ts allows (403 otherwise), and nothing once its job ended (401). Every API answer has the secret
 * values the backend knows masked.
 */
export function installAuth(server: FastifyInstance, o: { ctx: CoreContext; token: string; tokens: JobTokens; secrets: KnownSecrets }): void {
  const expected = Buffer.from(`Bearer ${o.token}`);
  server.decorateRequest('jobScope', null);
  server.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?', 1)[0] ?? '';
    if (PUBLIC.has(path)) return;
    const h = req.headers.authorization ?? '';
    const got = Buffer.from(h);
    if (got.length === expected.length && timingSafeEqual(got, expected)) return;
    const scope = h.startsWith('Bearer ') ? o.tokens.resolve(h.slice(7)) : null;
    if (scope && !scope.revoked) {
      req.jobScope = scope;
      return;
    }
    const message = scope ? `This job token was revoked: job ${scope.jobId} has ended` : 'Missing or wrong bearer token';
    await reply.code(401).send({ error_code: 'UNAUTHENTICATED', message });
  });
  server.addHook('preHandler', async (req) => {
    if (req.jobScope) authorizeJob(o.ctx, o.tokens, req.jobScope, req);
  });
  server.addHook('onSend', async (req, reply, payload) => {
    if (req.jobScope) recordCreation(o.tokens, req.jobScope, req, reply.statusCode, payload);
    if (typeof payload !== 'string' || !/^\/(ajax-)?api\//.test(req.url)) return payload;
    return maskKnown(payload, o.secrets.values());
  });
}
