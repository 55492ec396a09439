import { Type, type Static } from 'typebox';
import { ExperimentSettings } from './contract-experiments';

/**
 * Retraining (issue 13): policies (/api/v1/retrain/policies) and the ledger (/api/v1/retrains). The extension and the
 * CLI import these types only. Objects leave additionalProperties open on purpose: the service refuses misspelt
 * settings by name (the validator would drop them silently).
 */
const Name = Type.String({ minLength: 1, maxLength: 250 });

export const PolicySettings = Type.Object({
  pipeline: Type.String({ minLength: 1, maxLength: 4096 }),
  params: Type.Optional(Type.Record(Type.String({ maxLength: 250 }), Type.Union([Type.String({ maxLength: 8000 }), Type.Number(), Type.Boolean()]))),
  model_step: Type.Optional(Type.String({ maxLength: 100 })),
  data: Type.Optional(
    Type.Object({
      param: Type.Optional(Type.String({ maxLength: 100 })),
      window_hours: Type.Optional(Type.Number()),
      max_rows: Type.Optional(Type.Integer()),
      min_rows: Type.Optional(Type.Integer()),
      holdout_every: Type.Optional(Type.Integer()),
      base_file: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 4096 })])),
      label_column: Type.Optional(Type.String({ maxLength: 100 })),
    }),
  ),
  triggers: Type.Optional(
    Type.Object({
      manual: Type.Optional(Type.Boolean()),
      schedule_every_s: Type.Optional(Type.Union([Type.Null(), Type.Number()])),
      schedule_cron: Type.Optional(Type.Union([Type.Null(), Type.String({ maxLength: 200 })])),
      schedule_tz: Type.Optional(Type.String({ maxLength: 100 })),
      on_drift: Type.Optional(Type.Boolean()),
      on_performance: Type.Optional(Type.Boolean()),
    }),
  ),
  cooldown_s: Type.Optional(Type.Number()),
  max_concurrent: Type.Optional(Type.Integer()),
  daily_budget: Type.Optional(Type.Integer()),
  rollout: Type.Optional(
    Type.Object({
      strategy: Type.Optional(Type.Union([Type.Literal('canary'), Type.Literal('shadow'), Type.Literal('ab')])),
      steps: Type.Optional(Type.Array(Type.Number(), { maxItems: 20 })),
      step_interval_s: Type.Optional(Type.Number()),
      weight: Type.Optional(Type.Number()),
      guardrails: Type.Optional(Type.Object({ max_error_rate: Type.Optional(Type.Number()), max_p99_ms: Type.Optional(Type.Number()), min_requests: Type.Optional(Type.Integer()) })),
    }),
  ),
  experiment: Type.Optional(ExperimentSettings),
  promotion: Type.Optional(
    Type.Object({
      require: Type.Optional(Type.Union([Type.Literal('better'), Type.Literal('non_inferior')])),
      margin: Type.Optional(Type.Number()),
      min_accuracy: Type.Optional(Type.Number()),
    }),
  ),
});

/** PUT /api/v1/retrain/policies: the model and endpoint it applies to, and its settings (defaults fill the rest). */
export const PolicyBody = Type.Intersect([Type.Object({ model: Name, endpoint: Name }), PolicySettings]);
export type PolicyBody = Static<typeof PolicyBody>;

export const PolicyView = Type.Object({
  id: Type.Integer(),
  model: Type.String(),
  endpoint: Type.String(),
  policy: Type.Record(Type.String(), Type.Unknown()),
  next_scheduled_at: Type.Union([Type.Integer(), Type.Null()]),
  deferred: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  updated_at: Type.Integer(),
  updated_by: Type.String(),
});
export type PolicyView = Static<typeof PolicyView>;

export const RetrainStatus = Type.Union([
  Type.Literal('initiated'),
  Type.Literal('collecting'),
  Type.Literal('validating'),
  Type.Literal('training'),
  Type.Literal('evaluating'),
  Type.Literal('rolling_out'),
  Type.Literal('deployed'),
  Type.Literal('rejected'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);

export const RetrainView = Type.Object({
  id: Type.Integer(),
  policy_id: Type.Integer(),
  model: Type.String(),
  endpoint: Type.String(),
  trigger: Type.Union([Type.Literal('manual'), Type.Literal('schedule'), Type.Literal('drift'), Type.Literal('performance')]),
  evidence: Type.Record(Type.String(), Type.Unknown()),
  incident_id: Type.Union([Type.String(), Type.Null()]),
  status: RetrainStatus,
  reason: Type.String(),
  pipeline_run_id: Type.Union([Type.String(), Type.Null()]),
  data_file: Type.Union([Type.String(), Type.Null()]),
  challenger_version: Type.Union([Type.Integer(), Type.Null()]),
  champion_version: Type.Union([Type.Integer(), Type.Null()]),
  decision: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  ended_at: Type.Union([Type.Integer(), Type.Null()]),
  transitions: Type.Array(Type.Object({ status: RetrainStatus, reason: Type.String(), at: Type.Integer() })),
});
export type RetrainView = Static<typeof RetrainView>;

export const RetrainQuery = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 250 })),
  endpoint: Type.Optional(Type.String({ maxLength: 250 })),
  status: Type.Optional(RetrainStatus),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

/** POST /api/v1/retrains: a manual retrain of the policy (by id, or by model and endpoint). */
export const RetrainRunBody = Type.Object({
  policy_id: Type.Optional(Type.Integer({ minimum: 1 })),
  model: Type.Optional(Name),
  endpoint: Type.Optional(Name),
  reason: Type.Optional(Type.String({ maxLength: 8000 })),
  /** Retrain now on an incident: it is the evidence, and (one retrain per incident) nothing else starts for it. */
  incident_id: Type.Optional(Type.Integer({ minimum: 1 })),
});
export const ReasonBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 8000 })) });
