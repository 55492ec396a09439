import { Type, type Static } from 'typebox';

/** The /api/v1/alerts contract: webhook receivers (their secret is never returned) and deliveries. */
export const WebhookInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    url: Type.String({ minLength: 1, maxLength: 2000 }),
    /** The HMAC-SHA256 signing key, stored in the (0600) store and masked everywhere; or: */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 1000 })),
    /** the name of the backend's environment variable that holds it. */
    secret_env: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    group_wait_s: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400 })),
    group_interval_s: Type.Optional(Type.Number({ minimum: 1, maximum: 86_400 })),
    repeat_interval_s: Type.Optional(Type.Number({ minimum: 60, maximum: 30 * 86_400 })),
  },
  { additionalProperties: false },
);
export type WebhookInput = Static<typeof WebhookInput>;

export const WebhookView = Type.Object({
  name: Type.String(),
  url: Type.String(),
  signed: Type.Boolean(),
  secret_env: Type.Union([Type.String(), Type.Null()]),
  group_wait_s: Type.Number(),
  group_interval_s: Type.Number(),
  repeat_interval_s: Type.Number(),
  created_at: Type.Integer(),
});
export type WebhookView = Static<typeof WebhookView>;

export const WebhookList = Type.Object({ webhooks: Type.Array(WebhookView) });

export const DeliveryView = Type.Object({
  id: Type.Integer(),
  receiver: Type.String(),
  group_key: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  alert_status: Type.String(),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.Integer(),
  finished_at: Type.Union([Type.Integer(), Type.Null()]),
  last_http_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  alerts: Type.Integer(),
  tries: Type.Array(Type.Object({ at: Type.Integer(), http_status: Type.Union([Type.Integer(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]), duration_ms: Type.Number() })),
});
export type DeliveryView = Static<typeof DeliveryView>;
export const DeliveryList = Type.Object({ deliveries: Type.Array(DeliveryView) });
export type DeliveryList = Static<typeof DeliveryList>;
export const DeliveryQuery = Type.Object(
  { receiver: Type.Optional(Type.String({ maxLength: 100 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
  { additionalProperties: false },
);
