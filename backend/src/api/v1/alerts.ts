import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Receiver, WebhookChannel } from '../../services/monitors/webhooks';
import { DeliveryList, DeliveryQuery, DeliveryView, WebhookInput, WebhookList, WebhookView } from './contract-alerts';

const Name = Type.Object({ name: Type.String({ maxLength: 100 }) });

function view(r: Receiver): WebhookView {
  return {
    name: r.name,
    url: r.url,
    signed: r.secret !== null || r.secretEnv !== null,
    secret_env: r.secretEnv,
    group_wait_s: r.groupWaitMs / 1000,
    group_interval_s: r.groupIntervalMs / 1000,
    repeat_interval_s: r.repeatIntervalMs / 1000,
    created_at: r.createdAt,
  };
}

/**
 * Alert webhooks: GET|POST /api/v1/alerts/webhooks, DELETE /api/v1/alerts/webhooks/:name, POST …/:name/test,
 * GET /api/v1/alerts/deliveries[?receiver=&limit=] (each notification with every attempt).
 */
export async function alertRoutes(app: FastifyInstance, opts: { webhooks: WebhookChannel }): Promise<void> {
  const { webhooks } = opts;
  app.get('/api/v1/alerts/webhooks', { schema: { response: { 200: WebhookList } } }, async () => ({ webhooks: webhooks.receivers().map(view) }));
  app.post<{ Body: WebhookInput }>('/api/v1/alerts/webhooks', { schema: { body: WebhookInput, response: { 200: WebhookView } } }, async (req) => {
    const b = req.body;
    const s = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1000));
    return view(
      webhooks.add({
        name: b.name,
        url: b.url,
        secret: b.secret ?? null,
        secretEnv: b.secret_env ?? null,
        ...(b.group_wait_s !== undefined ? { groupWaitMs: s(b.group_wait_s) } : {}),
        ...(b.group_interval_s !== undefined ? { groupIntervalMs: s(b.group_interval_s) } : {}),
        ...(b.repeat_interval_s !== undefined ? { repeatIntervalMs: s(b.repeat_interval_s) } : {}),
      }),
    );
  });
  app.delete<{ Params: Static<typeof Name> }>('/api/v1/alerts/webhooks/:name', { schema: { params: Name } }, async (req) => {
    webhooks.remove(req.params.name);
    return {};
  });
  app.post<{ Params: Static<typeof Name> }>('/api/v1/alerts/webhooks/:name/test', { schema: { params: Name, response: { 200: DeliveryView } } }, async (req) => webhooks.test(req.params.name));
  app.get<{ Querystring: Static<typeof DeliveryQuery> }>('/api/v1/alerts/deliveries', { schema: { querystring: DeliveryQuery, response: { 200: DeliveryList } } }, async (req) => ({
    deliveries: webhooks.deliveries({ ...(req.query.receiver !== undefined ? { receiver: req.query.receiver } : {}), limit: req.query.limit ?? 100 }),
  }));
}
