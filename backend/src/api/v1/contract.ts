import { Type, type Static, type TSchema } from 'typebox';

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

/** Endpoint drift: served inputs (the prediction log) against the served version's reference profile. */
export const DriftSeverity = Type.Union([Type.Literal('none'), Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);
export type DriftSeverity = Static<typeof DriftSeverity>;

export const DriftMethodScore = Type.Object({
  /** psi, ks, wasserstein_norm, jensen_shannon (numeric); psi, chi2, jensen_shannon (categorical). */
  method: Type.String(),
  score: Type.Number(),
  p_value: Type.Optional(Type.Number()),
  /** A p-value for ks/chi2, a score otherwise (raised above the configured floor for small samples). */
  threshold: Type.Number(),
  drift: Type.Boolean(),
});
export type DriftMethodScore = Static<typeof DriftMethodScore>;

export const FeatureDriftView = Type.Object({
  feature: Type.String(),
  kind: Type.Union([Type.Literal('numeric'), Type.Literal('categorical')]),
  /** The ensemble vote: at least 2 methods say drift. */
  drift: Type.Boolean(),
  /** none: no method; low: one method; medium: the ensemble says drift; high: every method says drift. */
  severity: DriftSeverity,
  votes: Type.Integer(),
  methods: Type.Array(DriftMethodScore),
  psi_band: Type.Union([Type.Literal('none'), Type.Literal('moderate'), Type.Literal('drift')]),
  reference_count: Type.Integer(),
  current_count: Type.Integer(),
});
export type FeatureDriftView = Static<typeof FeatureDriftView>;

export const DriftReference = Type.Object({
  /** training: the profile registered with the version; first_window: fallback, its first served rows. */
  kind: Type.Union([Type.Literal('training'), Type.Literal('first_window')]),
  source: Type.String(),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  created_at: Type.Integer(),
});
export type DriftReference = Static<typeof DriftReference>;

export const VariantDrift = Type.Object({
  variant: Type.String(),
  model_name: Type.String(),
  model_version: Type.Integer(),
  role: Type.String(),
  /** ok: a report; no_reference: no profile and too little traffic for a first window; insufficient_data: too few current rows. */
  status: Type.Union([Type.Literal('ok'), Type.Literal('no_reference'), Type.Literal('insufficient_data')]),
  message: Type.Optional(Type.String()),
  reference: Type.Union([DriftReference, Type.Null()]),
  /** The current window: the newest logged rows of this variant on this endpoint. */
  window: Type.Object({ rows: Type.Integer(), from_ts: Type.Union([Type.Integer(), Type.Null()]), to_ts: Type.Union([Type.Integer(), Type.Null()]) }),
  drift: Type.Union([Type.Boolean(), Type.Null()]),
  drifted_features: Type.Integer(),
  drifted_share: Type.Number(),
  features: Type.Array(FeatureDriftView),
  skipped: Type.Array(Type.Object({ feature: Type.String(), reason: Type.String() })),
});
export type VariantDrift = Static<typeof VariantDrift>;

export const EndpointDrift = Type.Object({
  endpoint: Type.String(),
  checked_at: Type.Integer(),
  /** Rows asked for in the current window, and the fewest that give a verdict. */
  window: Type.Integer(),
  min_rows: Type.Integer(),
  /** Live variants (stable first, then candidates). */
  variants: Type.Array(VariantDrift),
});
export type EndpointDrift = Static<typeof EndpointDrift>;

export const EndpointDriftQuery = Type.Object({ window: Type.Optional(Type.Integer({ minimum: 30, maximum: 50_000 })) });
export type EndpointDriftQuery = Static<typeof EndpointDriftQuery>;

export const DriftList = Type.Object({ endpoints: Type.Array(EndpointDrift) });
export type DriftList = Static<typeof DriftList>;

export const ProfileInfo = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  status: Type.Union([Type.Literal('ready'), Type.Literal('none'), Type.Literal('failed')]),
  kind: Type.Union([Type.Literal('training'), Type.Literal('first_window')]),
  source: Type.String(),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  message: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer(),
  /** Feature name → numeric | categorical. */
  features: Type.Record(Type.String(), Type.String()),
});
export type ProfileInfo = Static<typeof ProfileInfo>;

/** Either a profile from `mlops drift profile` or the training data as CSV text with a header row. */
export const ProfileBody = Type.Object({ profile: Type.Optional(Type.Unknown()), csv: Type.Optional(Type.String()) });
export type ProfileBody = Static<typeof ProfileBody>;

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const PipelineStepStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('running'),
  Type.Literal('finished'),
  Type.Literal('failed'),
  Type.Literal('skipped'),
  Type.Literal('cached'),
  Type.Literal('cancelled'),
]);
export const PipelineStep = Type.Object({
  step: Type.String(),
  status: PipelineStepStatus,
  job_id: Nullable(Type.String()),
  run_id: Nullable(Type.String()),
  cache_key: Nullable(Type.String()),
  outputs: Nullable(Type.Record(Type.String(), Type.Unknown())),
  output_dir: Nullable(Type.String()),
  message: Nullable(Type.String()),
  started_at: Nullable(Type.Integer()),
  ended_at: Nullable(Type.Integer()),
});
export type PipelineStep = Static<typeof PipelineStep>;

/** GET/POST /api/v1/pipelines/runs[/:id[/cancel]]. */
export const PipelineRunView = Type.Object({
  pipeline_run_id: Type.String(),
  name: Type.String(),
  file: Type.String(),
  run_id: Nullable(Type.String()),
  status: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('failed'), Type.Literal('cancelled')]),
  message: Nullable(Type.String()),
  params: Type.Record(Type.String(), Type.Unknown()),
  created_at: Type.Integer(),
  ended_at: Nullable(Type.Integer()),
  steps: Type.Array(PipelineStep),
});
export type PipelineRunView = Static<typeof PipelineRunView>;

/** POST /api/v1/pipelines/runs/:id/cancel (id or unique prefix); 400 INVALID_STATE when the run already ended. */
export const PipelineCancelBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });
export type PipelineCancelBody = Static<typeof PipelineCancelBody>;

export const DriftHistoryQuery = Type.Object({
  bucket_s: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
  buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
});
export type DriftHistoryQuery = Static<typeof DriftHistoryQuery>;

/** PSI per feature and time bucket of the stable variant's served inputs against its reference (null: < min rows). */
export const DriftHistory = Type.Object({
  endpoint: Type.String(),
  variant: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([DriftReference, Type.Null()]),
  method: Type.Literal('psi'),
  bucket_ms: Type.Integer(),
  /** Bucket start times (ms), oldest first. */
  buckets: Type.Array(Type.Integer()),
  features: Type.Array(Type.String()),
  /** scores[feature][bucket]. */
  scores: Type.Array(Type.Array(Type.Union([Type.Number(), Type.Null()]))),
});
export type DriftHistory = Static<typeof DriftHistory>;
