import { Type, type Static, type TSchema } from 'typebox';
import { GateCheck } from './contract-gates';

/** GET /api/v1/models/:name/versions/:version/card: a version's model card in one answer (issue 14). `import type` only. */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** One input or output of the signature: a named column, or a tensor (its dtype and shape in `type`). */
export const CardSpec = Type.Object({ name: Nullable(Type.String()), type: Type.String(), required: Type.Boolean() });
export type CardSpec = Static<typeof CardSpec>;

export const CardProfileFeature = Type.Object({
  feature: Type.String(),
  kind: Type.String(),
  count: Type.Integer(),
  missing: Type.Integer(),
  /** Numeric features: min, max, mean and standard deviation (null for categorical ones). */
  min: Nullable(Type.Number()),
  max: Nullable(Type.Number()),
  mean: Nullable(Type.Number()),
  std: Nullable(Type.Number()),
  /** Categorical features: the most frequent categories (at most 5) with their share; [] for numeric ones. */
  top: Type.Array(Type.Object({ value: Type.String(), share: Type.Number() })),
  categories: Nullable(Type.Integer()),
});
export type CardProfileFeature = Static<typeof CardProfileFeature>;

export const CardHistoryEvent = Type.Object({
  ts: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  /** alias events: the alias; deployment events: the endpoint. */
  subject: Type.String(),
  /** What changed, in words ("version 1 → 2", "iris/1 90% · iris/2 10%"). */
  change: Type.String(),
  reason: Nullable(Type.String()),
});
export type CardHistoryEvent = Static<typeof CardHistoryEvent>;

export const ModelCard = Type.Object({
  name: Type.String(),
  version: Type.String(),
  created_at: Type.Integer(),
  user: Nullable(Type.String()),
  description: Nullable(Type.String()),
  status: Type.String(),
  stage: Type.String(),
  source: Type.String(),
  aliases: Type.Array(Type.String()),
  tags: Type.Record(Type.String(), Type.String()),
  run: Nullable(Type.Object({ run_id: Type.String(), name: Type.String(), experiment_id: Type.String(), status: Type.String() })),
  /** The run's latest metric values (at most 200). */
  metrics: Type.Array(Type.Object({ key: Type.String(), value: Type.Number() })),
  signature: Type.Object({
    flavors: Type.Array(Type.String()),
    /** null: the MLmodel file has no signature (or there is no MLmodel file). */
    inputs: Nullable(Type.Array(CardSpec)),
    outputs: Nullable(Type.Array(CardSpec)),
    message: Nullable(Type.String()),
  }),
  profile: Type.Object({
    status: Type.String(),
    kind: Nullable(Type.String()),
    source: Nullable(Type.String()),
    rows: Nullable(Type.Integer()),
    message: Nullable(Type.String()),
    features: Type.Array(CardProfileFeature),
  }),
  lineage: Nullable(
    Type.Object({
      code_commit: Nullable(Type.String()),
      code_dirty: Nullable(Type.Boolean()),
      image_digest: Nullable(Type.String()),
      command: Nullable(Type.String()),
      source_name: Nullable(Type.String()),
      datasets: Type.Array(Type.Object({ name: Type.String(), digest: Type.String(), source: Nullable(Type.String()) })),
    }),
  ),
  /** Newest first, from the audit log: alias moves onto or off this version. */
  alias_history: Type.Array(CardHistoryEvent),
  /** Newest first, from the audit log: endpoint changes whose split before or after held this version. */
  deployments: Type.Array(CardHistoryEvent),
  gate: Nullable(GateCheck),
});
export type ModelCard = Static<typeof ModelCard>;
