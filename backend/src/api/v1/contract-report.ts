import { Type, type Static } from 'typebox';

/**
 * GET /api/v1/report?since=30d (issue 13, "success metrics, measured live"): each figure is computed from the store
 * when asked, carries one line saying how, and is null (shown "no data") when the store holds nothing to compute it
 * from. The extension, the webview and the CLI import these types only.
 */
export const ReportQuery = Type.Object(
  // A duration back from now: 12h, 30d, 8w (at most ten years).
  { since: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}[hdw]$' })) },
  { additionalProperties: false },
);
export type ReportQuery = Static<typeof ReportQuery>;

const Num = Type.Union([Type.Number(), Type.Null()]);

export const FigureId = Type.Union([
  Type.Literal('deployments_per_month'),
  Type.Literal('runs_tracked'),
  Type.Literal('jobs_with_run'),
  Type.Literal('ab_concluded'),
  Type.Literal('retrains_automated'),
  Type.Literal('drift_to_fix'),
  Type.Literal('rollbacks'),
  Type.Literal('drift_detection'),
]);
export type FigureId = Static<typeof FigureId>;

export const Figure = Type.Object({
  id: FigureId,
  title: Type.String(),
  /** The headline number (a share in 0..1, a count, a rate or minutes, per `unit`); null: no data. */
  value: Num,
  unit: Type.Union([Type.Literal('share'), Type.Literal('count'), Type.Literal('per_month'), Type.Literal('minutes')]),
  /** The figure as people read it ("no data" when value is null), with its numerator and denominator. */
  text: Type.String(),
  /** One line: how it is computed, from which records. */
  how: Type.String(),
});
export type Figure = Static<typeof Figure>;

export const ReportView = Type.Object({
  /** The window: [from, to) in ms since the epoch, and its length in days. */
  from: Type.Integer(),
  to: Type.Integer(),
  days: Type.Number(),
  figures: Type.Array(Figure),
  /** What the charts draw, and the records behind the figures. */
  deployments_by_month: Type.Array(Type.Object({ month: Type.String(), deployments: Type.Integer() })),
  retrains_by_trigger: Type.Object({ manual: Type.Integer(), schedule: Type.Integer(), drift: Type.Integer(), performance: Type.Integer() }),
  experiments: Type.Union([Type.Object({ promoted: Type.Integer(), rejected: Type.Integer(), inconclusive: Type.Integer(), stopped: Type.Integer(), running: Type.Integer() }), Type.Null()]),
  fixes: Type.Array(
    Type.Object({
      incident_id: Type.String(),
      endpoint: Type.String(),
      retrain_id: Type.Integer(),
      onset_at: Num,
      opened_at: Type.Integer(),
      fixed_at: Type.Integer(),
    }),
  ),
  rollbacks: Type.Array(
    Type.Object({
      endpoint: Type.String(),
      at: Type.Integer(),
      actor: Type.String(),
      reason: Type.String(),
      /** How long the version rolled back from served before it: from the endpoint's last deployment. */
      live_ms: Num,
    }),
  ),
});
export type ReportView = Static<typeof ReportView>;
