import { Type, type Static } from 'typebox';

/** Online A/B experiments (/api/v1/experiments, issue 13). The extension, webviews and CLI import these types only. */
const Interval = Type.Union([Type.Tuple([Type.Number(), Type.Number()]), Type.Null()]);
const Arm = Type.Object({
  variant: Type.String(),
  requests: Type.Integer(),
  labelled: Type.Integer(),
  accuracy: Type.Union([Type.Number(), Type.Null()]),
  p99_ms: Type.Union([Type.Number(), Type.Null()]),
});

export const ExperimentConfigView = Type.Object({
  metric: Type.Literal('accuracy'),
  min_samples: Type.Integer(),
  alpha: Type.Number(),
  max_duration_s: Type.Number(),
  require: Type.Union([Type.Literal('better'), Type.Literal('non_inferior')]),
  margin: Type.Number(),
  on_inconclusive: Type.Union([Type.Literal('keep_champion'), Type.Literal('promote')]),
});

export const ExperimentStatus = Type.Union([Type.Literal('running'), Type.Literal('promoted'), Type.Literal('rejected'), Type.Literal('inconclusive'), Type.Literal('stopped')]);

export const ExperimentView = Type.Object({
  id: Type.Integer(),
  endpoint: Type.String(),
  model: Type.String(),
  control: Type.String(),
  treatment: Type.String(),
  retrain_id: Type.Union([Type.Integer(), Type.Null()]),
  config: ExperimentConfigView,
  status: ExperimentStatus,
  reason: Type.String(),
  analysis: Type.Union([
    Type.Object({
      control: Arm,
      treatment: Arm,
      difference: Type.Number(),
      p_value: Type.Number(),
      interval: Interval,
      running_interval: Interval,
      srm: Type.Union([Type.Object({ p_value: Type.Number(), mismatch: Type.Boolean() }), Type.Null()]),
      decision: Type.Union([Type.Literal('promote'), Type.Literal('reject'), Type.Null()]),
      reason: Type.String(),
    }),
    Type.Null(),
  ]),
  started_at: Type.Integer(),
  deadline: Type.Integer(),
  ended_at: Type.Union([Type.Integer(), Type.Null()]),
  created_by: Type.String(),
});
export type ExperimentView = Static<typeof ExperimentView>;

/** One look: the confidence sequence for treatment − control at that moment (null bounds: too few labels yet). */
export const LookView = Type.Object({
  at: Type.Integer(),
  n_control: Type.Integer(),
  n_treatment: Type.Integer(),
  difference: Type.Number(),
  low: Type.Union([Type.Number(), Type.Null()]),
  high: Type.Union([Type.Number(), Type.Null()]),
  p_value: Type.Number(),
});
export type LookView = Static<typeof LookView>;

export const ExperimentDetail = Type.Intersect([ExperimentView, Type.Object({ looks: Type.Array(LookView) })]);
export type ExperimentDetail = Static<typeof ExperimentDetail>;

/** An experiment's settings as given (defaults fill the rest): POST /api/v1/experiments and a retrain policy's `experiment`. */
export const ExperimentSettings = Type.Object({
  metric: Type.Optional(Type.Literal('accuracy')),
  min_samples: Type.Optional(Type.Integer()),
  alpha: Type.Optional(Type.Number()),
  max_duration_s: Type.Optional(Type.Number()),
  require: Type.Optional(Type.Union([Type.Literal('better'), Type.Literal('non_inferior')])),
  margin: Type.Optional(Type.Number()),
  on_inconclusive: Type.Optional(Type.Union([Type.Literal('keep_champion'), Type.Literal('promote')])),
});

/** POST /api/v1/experiments: start one on an endpoint that runs an A/B split. */
export const ExperimentStartBody = Type.Intersect([Type.Object({ endpoint: Type.String({ minLength: 1, maxLength: 64 }) }), ExperimentSettings]);
export type ExperimentStartBody = Static<typeof ExperimentStartBody>;

export const ExperimentQuery = Type.Object({
  endpoint: Type.Optional(Type.String({ maxLength: 250 })),
  status: Type.Optional(ExperimentStatus),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});
