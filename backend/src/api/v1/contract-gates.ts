import { Type, type Static } from 'typebox';

/** Promotion gates and champion/challenger comparison (/api/v1/models/...). The extension imports these types only. */
export const MetricCondition = Type.Object(
  {
    metric: Type.String({ minLength: 1, maxLength: 250 }),
    op: Type.Union([Type.Literal('>='), Type.Literal('>'), Type.Literal('<='), Type.Literal('<'), Type.Literal('=='), Type.Literal('!=')]),
    value: Type.Number(),
  },
  { additionalProperties: false },
);
export type MetricCondition = Static<typeof MetricCondition>;

/** A version tag that must be present (any value but `false`), or equal `value` when given. */
export const TagCondition = Type.Object({ key: Type.String({ minLength: 1, maxLength: 250 }), value: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false });
export type TagCondition = Static<typeof TagCondition>;

export const DataValidationRule = Type.Union([Type.Literal('if_recorded'), Type.Literal('required'), Type.Literal('off')]);

/** PUT /api/v1/models/:name/gates. */
export const GateBody = Type.Object(
  {
    metrics: Type.Optional(Type.Array(MetricCondition, { maxItems: 50 })),
    tags: Type.Optional(Type.Array(TagCondition, { maxItems: 50 })),
    data_validation: Type.Optional(DataValidationRule),
  },
  { additionalProperties: false },
);
export type GateBody = Static<typeof GateBody>;

/** GET /api/v1/models/:name/gates: `configured: false` (and empty lists) when the model has no gate. */
export const GateView = Type.Object({
  name: Type.String(),
  configured: Type.Boolean(),
  metrics: Type.Array(MetricCondition),
  tags: Type.Array(TagCondition),
  data_validation: DataValidationRule,
  updated_at: Type.Union([Type.Integer(), Type.Null()]),
  updated_by: Type.Union([Type.String(), Type.Null()]),
});
export type GateView = Static<typeof GateView>;

export const ConditionResult = Type.Object({
  kind: Type.Union([Type.Literal('metric'), Type.Literal('tag'), Type.Literal('data_validation')]),
  condition: Type.String(),
  passed: Type.Boolean(),
  actual: Type.Union([Type.Number(), Type.String(), Type.Null()]),
  message: Type.String(),
});
export type ConditionResult = Static<typeof ConditionResult>;

/** GET /api/v1/models/:name/versions/:version/gate: what promoting that version to @champion would meet. */
export const GateCheck = Type.Object({
  name: Type.String(),
  version: Type.String(),
  run_id: Type.Union([Type.String(), Type.Null()]),
  configured: Type.Boolean(),
  passed: Type.Boolean(),
  results: Type.Array(ConditionResult),
});
export type GateCheck = Static<typeof GateCheck>;

/** POST /api/v1/models/:name/aliases: 409 RESOURCE_CONFLICT (with `details.gate`) when @champion's gate fails and no override. */
export const AliasBody = Type.Object(
  {
    alias: Type.String({ minLength: 1, maxLength: 255 }),
    version: Type.String({ minLength: 1, maxLength: 20 }),
    /** Move @champion although the gate failed; needs `reason`. */
    override: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: 8000 })),
  },
  { additionalProperties: false },
);
export type AliasBody = Static<typeof AliasBody>;

export const AliasMove = Type.Object({
  name: Type.String(),
  alias: Type.String(),
  version: Type.String(),
  previous: Type.Union([Type.String(), Type.Null()]),
  gate: Type.Union([GateCheck, Type.Null()]),
  overridden: Type.Boolean(),
});
export type AliasMove = Static<typeof AliasMove>;

/** POST /api/v1/models/compare: champion and challenger (NAME/VERSION or NAME@ALIAS) on a labelled CSV on this machine. */
export const CompareBody = Type.Object(
  {
    champion: Type.String({ minLength: 1, maxLength: 600 }),
    challenger: Type.String({ minLength: 1, maxLength: 600 }),
    /** Path of the holdout CSV (header row: the features plus the label column). */
    data: Type.String({ minLength: 1, maxLength: 4096 }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 250 })),
    margin: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
    alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    resamples: Type.Optional(Type.Integer({ minimum: 100, maximum: 100_000 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
  },
  { additionalProperties: false },
);
export type CompareBody = Static<typeof CompareBody>;

const Scored = Type.Object({ model: Type.String(), correct: Type.Integer(), accuracy: Type.Number() });

/** The comparison, as stored: accuracies, McNemar's test, the bootstrap interval of acc(challenger) − acc(champion), the verdict. */
export const Comparison = Type.Object({
  id: Type.Integer(),
  created_at: Type.Integer(),
  actor: Type.String(),
  champion: Scored,
  challenger: Scored,
  data: Type.String(),
  data_sha256: Type.String(),
  label: Type.String(),
  rows: Type.Integer(),
  both_right: Type.Integer(),
  both_wrong: Type.Integer(),
  mcnemar: Type.Object({ b_only: Type.Integer(), a_only: Type.Integer(), p_exact: Type.Number(), p_mid: Type.Number() }),
  bootstrap: Type.Object({ diff: Type.Number(), lower: Type.Number(), upper: Type.Number(), confidence: Type.Number(), resamples: Type.Integer(), seed: Type.Integer() }),
  margin: Type.Number(),
  alpha: Type.Number(),
  verdict: Type.Union([Type.Literal('better'), Type.Literal('non_inferior'), Type.Literal('worse'), Type.Literal('inconclusive')]),
  reason: Type.String(),
});
export type Comparison = Static<typeof Comparison>;
