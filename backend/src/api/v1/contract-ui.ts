/**
 * The read-only contract the VS Code extension's views use (`/api/v1/ui/...`) and the event stream
 * (`/api/v1/events`). The extension imports these types with `import type` only.
 */
import { Type, type Static } from 'typebox';

/**
 * `type: [T, 'null']` rather than anyOf: fast-json-stringify serialises anyOf by validating each branch per value,
 * which made a 5,000-run page several times slower to send.
 */
const NullableInt = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const RunMetric = Type.Unsafe<{ key: string; value: number } | null>({
  type: ['object', 'null'],
  properties: { key: { type: 'string' }, value: { type: 'number' } },
  required: ['key', 'value'],
});

export const UiPrimaryMetric = Type.Object({
  key: Type.String(),
  /** 'min' for losses and errors, 'max' otherwise: decides which run is "best". */
  goal: Type.Union([Type.Literal('min'), Type.Literal('max')]),
});

export const UiExperiment = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  run_count: Type.Integer(),
  last_update_time: Type.Integer(),
  primary_metric: Type.Union([UiPrimaryMetric, Type.Null()]),
});
export const UiExperimentList = Type.Object({ experiments: Type.Array(UiExperiment) });

export const UiRunsQuery = Type.Object({
  experiment_id: Type.String(),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 200 })),
});

export const UiRun = Type.Object({
  run_id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  start_time: Type.Integer(),
  end_time: NullableInt,
  /** The experiment's primary metric for this run; null when the run has not logged it. */
  metric: RunMetric,
});
export const UiRunPage = Type.Object({
  runs: Type.Array(UiRun),
  total: Type.Integer(),
  /** Offset of the next page; null on the last one. */
  next_offset: NullableInt,
});

export const UiModelVersion = Type.Object({
  version: Type.String(),
  run_id: NullableString,
  status: Type.String(),
  creation_time: Type.Integer(),
  aliases: Type.Array(Type.String()),
  source: Type.String(),
  /** The version's folder holds an ONNX file the serving engine can load (Deploy refuses a version without one). */
  onnx: Type.Boolean(),
});
export const UiModel = Type.Object({
  name: Type.String(),
  last_updated_time: Type.Integer(),
  versions: Type.Array(UiModelVersion),
});
export const UiModelList = Type.Object({ models: Type.Array(UiModel) });

export const UiCompareBody = Type.Object({
  run_ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 1000 }),
  /** Metric keys to return histories for; all keys the runs logged when omitted. */
  metric_keys: Type.Optional(Type.Array(Type.String(), { maxItems: 200 })),
});
export const UiCompareRun = Type.Object({
  run_id: Type.String(),
  name: Type.String(),
  experiment_id: Type.String(),
  status: Type.String(),
  start_time: Type.Integer(),
  params: Type.Record(Type.String(), Type.String()),
  latest: Type.Record(Type.String(), Type.Number()),
});
/**
 * One run's metric: the last value per step, and when each was logged (for a time axis): `t0` (epoch ms) plus `dt`,
 * ms after `t0`, per value (a few digits each instead of 13: the 100 × 1,000 comparison's answer was 7.5 MB with
 * epoch times, 1.6× its size without them). `dt` is empty when no times are known.
 */
export const UiSeries = Type.Object({ run_id: Type.String(), steps: Type.Array(Type.Number()), values: Type.Array(Type.Number()), t0: Type.Number(), dt: Type.Array(Type.Number()) });
export const UiCompareResult = Type.Object({
  runs: Type.Array(UiCompareRun),
  metrics: Type.Array(Type.Object({ key: Type.String(), series: Type.Array(UiSeries) })),
  /** Requested ids that do not exist (deleted while shown, or a typo). */
  missing: Type.Array(Type.String()),
});

export const UiScriptRunsQuery = Type.Object({
  /** The script path as mlflow records it in the tag mlflow.source.name (absolute or relative); matched by suffix. */
  source: Type.String({ minLength: 1 }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
});
export const UiScriptRuns = Type.Object({
  runs: Type.Array(UiCompareRun),
  primary_metric: Type.Union([UiPrimaryMetric, Type.Null()]),
});

export const UiAuditQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 })) });
export const UiAuditEvent = Type.Object({
  id: Type.Integer(),
  ts: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  object_type: Type.String(),
  object_id: Type.String(),
  reason: NullableString,
});
export const UiAuditList = Type.Object({ events: Type.Array(UiAuditEvent) });

/** A model a run logged: an MLflow 3 logged model, or an artifact folder holding an MLmodel file or an ONNX file. */
export const UiRunModel = Type.Object({
  /** The artifact folder inside the run (`model`), or the logged model's name. */
  name: Type.String(),
  /** What Register Model passes as the version's source: `runs:/<run>/<path>` or `models:/<model_id>`. */
  source: Type.String(),
  kind: Type.Union([Type.Literal('logged_model'), Type.Literal('artifact')]),
  flavors: Type.Array(Type.String()),
  /** The folder holds an ONNX file the serving engine can load (the onnx flavour's file, or exactly one *.onnx). */
  onnx: Type.Boolean(),
});
export const UiRunDetail = Type.Object({
  run: Type.Object({
    run_id: Type.String(),
    name: Type.String(),
    experiment_id: Type.String(),
    experiment_name: Type.String(),
    status: Type.String(),
    start_time: Type.Integer(),
    end_time: NullableInt,
    artifact_uri: Type.String(),
    user: Type.String(),
  }),
  params: Type.Record(Type.String(), Type.String()),
  tags: Type.Record(Type.String(), Type.String()),
  /** Every metric key (at most 500): its history by step (last value per step, at most 1,000 points, evenly thinned) and latest value. */
  metrics: Type.Array(Type.Object({ key: Type.String(), steps: Type.Array(Type.Number()), values: Type.Array(Type.Number()), latest: Type.Number(), points: Type.Integer() })),
  lineage: Type.Object({
    code_commit: NullableString,
    code_dirty: Type.Union([Type.Boolean(), Type.Null()]),
    image_digest: NullableString,
    command: NullableString,
    environment: Type.Record(Type.String(), Type.String()),
    source_name: NullableString,
    datasets: Type.Array(Type.Object({ name: Type.String(), digest: Type.String(), source: Type.String() })),
  }),
  /** Files under the run's artifact root (at most 1,000; `artifacts_truncated` says when there were more). */
  artifacts: Type.Array(Type.Object({ path: Type.String(), size: Type.Integer() })),
  artifacts_truncated: Type.Boolean(),
  models: Type.Array(UiRunModel),
  /** The training job that produced the run, when a job did. */
  job: Type.Union([Type.Object({ job_id: Type.String(), status: Type.String() }), Type.Null()]),
});

/** What changed; the extension refreshes the views that show it. */
export const EVENT_TOPICS = ['experiments', 'runs', 'models', 'endpoints', 'jobs', 'drift', 'audit', 'retrains'] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];
/** One server-sent event's data line: `data: {"topics":[...],"at":...}`. */
export interface BackendEvent {
  topics: EventTopic[];
  at: number;
}

export type UiExperiment = Static<typeof UiExperiment>;
export type UiExperimentList = Static<typeof UiExperimentList>;
export type UiRunsQuery = Static<typeof UiRunsQuery>;
export type UiRun = Static<typeof UiRun>;
export type UiRunPage = Static<typeof UiRunPage>;
export type UiModelVersion = Static<typeof UiModelVersion>;
export type UiModel = Static<typeof UiModel>;
export type UiModelList = Static<typeof UiModelList>;
export type UiCompareBody = Static<typeof UiCompareBody>;
export type UiCompareRun = Static<typeof UiCompareRun>;
export type UiSeries = Static<typeof UiSeries>;
export type UiCompareResult = Static<typeof UiCompareResult>;
export type UiScriptRunsQuery = Static<typeof UiScriptRunsQuery>;
export type UiScriptRuns = Static<typeof UiScriptRuns>;
export type UiPrimaryMetric = Static<typeof UiPrimaryMetric>;
export type UiAuditEvent = Static<typeof UiAuditEvent>;
export type UiAuditList = Static<typeof UiAuditList>;
export type UiRunModel = Static<typeof UiRunModel>;
export type UiRunDetail = Static<typeof UiRunDetail>;
