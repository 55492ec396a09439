import { Type, type Static } from 'typebox';

/** The /api/v1 core contract. The extension imports these types with `import type` only. */
export const AuditQuery = Type.Object({
  object_type: Type.Optional(Type.String()),
  object_id: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
  actor: Type.Optional(Type.String()),
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  until: Type.Optional(Type.Integer({ minimum: 0 })),
  before_id: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
});
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditEvent = Type.Object({
  id: Type.Integer(),
  ts: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  object_type: Type.String(),
  object_id: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
  reason: Type.Union([Type.String(), Type.Null()]),
});
export type AuditEvent = Static<typeof AuditEvent>;

export const AuditResponse = Type.Object({ events: Type.Array(AuditEvent) });
export type AuditResponse = Static<typeof AuditResponse>;

export const Lineage = Type.Object({
  code_commit: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  code_dirty: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  code_diff_digest: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  image_digest: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  command: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  environment: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
});
export type Lineage = Static<typeof Lineage>;

export const RunLineage = Type.Object({
  run_id: Type.String(),
  lineage: Lineage,
  /** From MLflow's own run tags and inputs: source, git commit, datasets with digests. */
  source: Type.Object({
    name: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    git_commit: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
  }),
  datasets: Type.Array(Type.Object({ name: Type.String(), digest: Type.String(), source_type: Type.String(), source: Type.String() })),
});
export type RunLineage = Static<typeof RunLineage>;

export const Health = Type.Object({ status: Type.Literal('ok'), version: Type.String(), pid: Type.Integer(), uptime_s: Type.Number(), home: Type.String() });
export type Health = Static<typeof Health>;
