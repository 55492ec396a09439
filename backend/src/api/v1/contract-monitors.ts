import { Type, type Static } from 'typebox';

/** The /api/v1 monitors and incidents contract (issue 12). The extension imports these types with `import type` only. */
export const MonitorKind = Type.Union([Type.Literal('data_drift'), Type.Literal('prediction_drift'), Type.Literal('concept_drift'), Type.Literal('performance')]);
export type MonitorKind = Static<typeof MonitorKind>;
export const Severity = Type.Union([Type.Literal('critical'), Type.Literal('warning'), Type.Literal('info')]);

/** Every setting of a monitor; each kind reads the ones it needs (see README "Monitors and incidents"). */
export const MonitorConfig = Type.Object(
  {
    /** Minutes between checks (fractions allowed: 0.1 = every 6 s). */
    interval_minutes: Type.Number({ minimum: 0.05, maximum: 10080 }),
    /** Newest logged rows a check looks at. */
    window_rows: Type.Integer({ minimum: 10, maximum: 50_000 }),
    /** Below this many rows (labelled rows for concept drift and accuracy) the verdict is insufficient_data. */
    min_rows: Type.Integer({ minimum: 1, maximum: 50_000 }),
    /** Consecutive failing checks that open an incident. */
    failure_limit: Type.Integer({ minimum: 1, maximum: 100 }),
    /** Consecutive clean checks that resolve it. */
    resolve_after: Type.Integer({ minimum: 1, maximum: 100 }),
    severity: Severity,
    /** performance: accuracy may fall this far below the version's own validation metric, relatively (0.05 = 5 %). */
    accuracy_tolerance: Type.Number({ minimum: 0, maximum: 1 }),
    /** performance: the run metric the accuracy is held to; null finds one (accuracy, val_accuracy, test_accuracy…). */
    baseline_metric: Type.Union([Type.String({ minLength: 1, maxLength: 250 }), Type.Null()]),
    /** performance: the largest error share of requests since the last check. */
    max_error_rate: Type.Number({ minimum: 0, maximum: 1 }),
    /**
     * performance: the p99 latency SLO of the window's logged requests, in ms: at most 1 % of them slower. A check fails
     * when a one-sided binomial test of the share over it rejects ≤ 1 % at level latency_alpha (README "Monitors").
     */
    max_p99_ms: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    /** performance: the p99 test's level (smaller: a few slow requests more are tolerated, a regression still fails). */
    latency_alpha: Type.Number({ exclusiveMinimum: 0, maximum: 0.5 }),
    /**
     * data_drift: when a check fails. dataset (default): the engine's dataset rule, at least half the features drift;
     * any_feature: any one feature drifting fails it (a shift in one feature of four opens an incident).
     */
    drift_rule: Type.Union([Type.Literal('dataset'), Type.Literal('any_feature')]),
    /** concept_drift: the detector over the error stream. */
    detector: Type.Union([Type.Literal('adwin'), Type.Literal('page_hinkley')]),
    /** concept_drift: ADWIN's δ (smaller: fewer false alarms, later detection). */
    delta: Type.Number({ exclusiveMinimum: 0, maximum: 0.5 }),
    /** Days of results kept per monitor (incidents are kept). */
    retention_days: Type.Number({ minimum: 1, maximum: 3650 }),
  },
  { additionalProperties: false },
);
export type MonitorConfig = Static<typeof MonitorConfig>;

export const MonitorPatch = Type.Object(
  { ...Type.Partial(MonitorConfig).properties, paused: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type MonitorPatch = Static<typeof MonitorPatch>;

export const CheckStatus = Type.Union([Type.Literal('pass'), Type.Literal('fail'), Type.Literal('insufficient_data'), Type.Literal('error')]);
export type CheckStatus = Static<typeof CheckStatus>;

export const IncidentView = Type.Object({
  id: Type.Integer(),
  monitor_id: Type.Integer(),
  endpoint: Type.String(),
  kind: MonitorKind,
  severity: Severity,
  status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]),
  summary: Type.String(),
  opened_at: Type.Integer(),
  acknowledged_at: Type.Union([Type.Integer(), Type.Null()]),
  acknowledged_by: Type.Union([Type.String(), Type.Null()]),
  ack_reason: Type.Union([Type.String(), Type.Null()]),
  resolved_at: Type.Union([Type.Integer(), Type.Null()]),
  resolved_by: Type.Union([Type.String(), Type.Null()]),
  resolve_reason: Type.Union([Type.String(), Type.Null()]),
  /** The result that opened it and the newest failing one (GET /api/v1/monitors/results/{id}), window and features. */
  evidence: Type.Object({
    opened_result_id: Type.Union([Type.Integer(), Type.Null()]),
    last_result_id: Type.Union([Type.Integer(), Type.Null()]),
    window: Type.Unknown(),
    features: Type.Array(Type.String()),
    /** The failing variants' figures of the result that opened it (performance: error rate, the p99 test, accuracy). */
    figures: Type.Optional(Type.Unknown()),
  }),
});
export type IncidentView = Static<typeof IncidentView>;

export const MonitorView = Type.Object({
  id: Type.Integer(),
  endpoint: Type.String(),
  kind: MonitorKind,
  paused: Type.Boolean(),
  config: MonitorConfig,
  next_run_at: Type.Integer(),
  last_run_at: Type.Union([Type.Integer(), Type.Null()]),
  last_status: Type.Union([CheckStatus, Type.Null()]),
  last_summary: Type.Union([Type.String(), Type.Null()]),
  failures: Type.Integer(),
  passes: Type.Integer(),
  incident: Type.Union([IncidentView, Type.Null()]),
});
export type MonitorView = Static<typeof MonitorView>;

export const MonitorResultView = Type.Object({
  id: Type.Integer(),
  monitor_id: Type.Integer(),
  endpoint: Type.String(),
  kind: MonitorKind,
  checked_at: Type.Integer(),
  status: CheckStatus,
  score: Type.Union([Type.Number(), Type.Null()]),
  summary: Type.String(),
  rows: Type.Integer(),
  window_from: Type.Union([Type.Integer(), Type.Null()]),
  window_to: Type.Union([Type.Integer(), Type.Null()]),
  /** Per variant, feature and method: the statistics the verdict came from. */
  details: Type.Unknown(),
});
export type MonitorResultView = Static<typeof MonitorResultView>;

export const MonitorList = Type.Object({ monitors: Type.Array(MonitorView) });
export type MonitorList = Static<typeof MonitorList>;
export const MonitorResults = Type.Object({ results: Type.Array(MonitorResultView) });
export type MonitorResults = Static<typeof MonitorResults>;
export const IncidentList = Type.Object({ incidents: Type.Array(IncidentView) });
export type IncidentList = Static<typeof IncidentList>;

export const MonitorQuery = Type.Object({ endpoint: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });
export const ResultsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })), before_id: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
export const IncidentQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved'), Type.Literal('unresolved'), Type.Literal('all')])),
    endpoint: Type.Optional(Type.String({ maxLength: 1000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export const ReasonBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 8000 }) }, { additionalProperties: false });
export type ReasonBody = Static<typeof ReasonBody>;

/** One endpoint's block of mlops.yaml's monitoring: section: settings for every kind (all) and per kind. */
export const EndpointMonitoring = Type.Object(
  {
    all: Type.Optional(MonitorPatch),
    data_drift: Type.Optional(MonitorPatch),
    prediction_drift: Type.Optional(MonitorPatch),
    concept_drift: Type.Optional(MonitorPatch),
    performance: Type.Optional(MonitorPatch),
  },
  { additionalProperties: false },
);
export type EndpointMonitoring = Static<typeof EndpointMonitoring>;

/**
 * POST /api/v1/monitors/apply: mlops.yaml's monitoring: section. Each listed endpoint's monitors become the defaults
 * with these settings over them (declarative: a setting left out returns to its default; paused only when given);
 * endpoints not deployed yet get them at their first deploy.
 */
export const MonitoringApply = Type.Object(
  {
    endpoints: Type.Record(Type.String({ minLength: 1, maxLength: 256 }), EndpointMonitoring, { maxProperties: 1000 }),
    /** Where the settings came from (the file), kept with them. */
    source: Type.Optional(Type.String({ maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type MonitoringApply = Static<typeof MonitoringApply>;

export const MonitoringApplied = Type.Object({
  applied: Type.Array(
    Type.Object({
      endpoint: Type.String(),
      kind: MonitorKind,
      /** updated: an existing monitor changed; unchanged: it already had these settings; pending: at first deploy. */
      status: Type.Union([Type.Literal('updated'), Type.Literal('unchanged'), Type.Literal('pending')]),
      config: MonitorConfig,
    }),
  ),
});
export type MonitoringApplied = Static<typeof MonitoringApplied>;
