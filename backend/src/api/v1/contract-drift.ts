import { Type, type Static } from 'typebox';
import { DriftReference } from './contract';

/** The drift report's charts (issue 14): binned distributions and the history of stored checks. `import type` only. */

/** One numeric feature: the same equal-width bins for both sides, each side's share of its rows per bin (sums to 1). */
export const NumericBins = Type.Object({
  feature: Type.String(),
  kind: Type.Literal('numeric'),
  /** bins + 1 edges, ascending; the range covers the reference's and the current window's values. */
  edges: Type.Array(Type.Number()),
  reference: Type.Array(Type.Number()),
  current: Type.Array(Type.Number()),
  reference_count: Type.Integer(),
  current_count: Type.Integer(),
  /** The reference shares come from its stored quantile sketch of this many points (exact when it kept every value). */
  reference_points: Type.Integer(),
  reference_exact: Type.Boolean(),
});
export type NumericBins = Static<typeof NumericBins>;

/** One categorical feature: each category's share on each side; past MAX_CATEGORIES the rest is one '(other)' bar. */
export const CategoryBins = Type.Object({
  feature: Type.String(),
  kind: Type.Literal('categorical'),
  categories: Type.Array(Type.String()),
  reference: Type.Array(Type.Number()),
  current: Type.Array(Type.Number()),
  reference_count: Type.Integer(),
  current_count: Type.Integer(),
  /** Categories folded into '(other)' (0 when every category has its own bar). */
  folded: Type.Integer(),
});
export type CategoryBins = Static<typeof CategoryBins>;

export const FeatureBins = Type.Union([NumericBins, CategoryBins]);
export type FeatureBins = Static<typeof FeatureBins>;

export const VariantBins = Type.Object({
  variant: Type.String(),
  /** ok, or why there is nothing to draw (no reference, too few rows): as in the drift report. */
  status: Type.Union([Type.Literal('ok'), Type.Literal('no_reference'), Type.Literal('insufficient_data')]),
  message: Type.Optional(Type.String()),
  reference: Type.Union([DriftReference, Type.Null()]),
  window_rows: Type.Integer(),
  features: Type.Array(FeatureBins),
  /** Features left out to bound the answer (at most MAX_FEATURES are binned). */
  omitted: Type.Integer(),
});
export type VariantBins = Static<typeof VariantBins>;

/** GET /api/v1/endpoints/:name/drift/bins[?window=&bins=]. */
export const DriftBins = Type.Object({
  endpoint: Type.String(),
  window: Type.Integer(),
  bins: Type.Integer(),
  variants: Type.Array(VariantBins),
});
export type DriftBins = Static<typeof DriftBins>;

export const DriftBinsQuery = Type.Object(
  { window: Type.Optional(Type.Integer({ minimum: 30, maximum: 50_000 })), bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 50 })) },
  { additionalProperties: false },
);
export type DriftBinsQuery = Static<typeof DriftBinsQuery>;

/** One stored check's score of one feature by one method, with the threshold that check used. */
export const TimelinePoint = Type.Object({ t: Type.Integer(), score: Type.Number(), threshold: Type.Number(), drift: Type.Boolean() });
export type TimelinePoint = Static<typeof TimelinePoint>;

export const FeatureTimeline = Type.Object({ feature: Type.String(), kind: Type.String(), points: Type.Array(TimelinePoint) });

/** GET /api/v1/endpoints/:name/drift/timeline[?method=&limit=]: the data-drift monitor's stored checks, oldest first. */
export const DriftTimeline = Type.Object({
  endpoint: Type.String(),
  method: Type.String(),
  /** Checks read (the newest `limit` of the data_drift monitor's results). */
  checks: Type.Integer(),
  variants: Type.Array(
    Type.Object({
      variant: Type.String(),
      /** Every check of this variant: its status and drifted share (null without a verdict). */
      checks: Type.Array(Type.Object({ t: Type.Integer(), status: Type.String(), drifted_share: Type.Union([Type.Number(), Type.Null()]) })),
      features: Type.Array(FeatureTimeline),
    }),
  ),
});
export type DriftTimeline = Static<typeof DriftTimeline>;

export const DriftTimelineQuery = Type.Object(
  {
    method: Type.Optional(Type.Union([Type.Literal('psi'), Type.Literal('ks'), Type.Literal('wasserstein_norm'), Type.Literal('jensen_shannon'), Type.Literal('chi2')])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })),
  },
  { additionalProperties: false },
);
export type DriftTimelineQuery = Static<typeof DriftTimelineQuery>;
