import type { AbSequence, AbSequencePoint } from '../../../backend/src/services/serving/absequence';

export type { AbSequence, AbSequencePoint };

/** The A/B Results webview's messages. The result shape mirrors the backend's A/B endpoint, read defensively. */
export interface AbVariant {
  id: string;
  model: string;
  /** stable: the control, serving the rest of the traffic; candidate: the arm under test, the one Promote can take. */
  role: 'stable' | 'candidate';
  /** Percent of live traffic set (may have decimals; shown rounded). */
  weight: number;
  requests: number;
  /** Named metrics (accuracy, latency p99, error rate…) with an optional confidence interval. */
  metrics: { name: string; value: number; low?: number | null; high?: number | null }[];
}

export interface AbResult {
  endpoint: string;
  variants: AbVariant[];
  /** Comparisons of each candidate against the control. */
  tests: { metric: string; variant: string; p_value: number | null; effect: number | null; significant: boolean }[];
  srm: { p_value: number; mismatch: boolean } | null;
  verdict: string;
  /** Per candidate and metric: the difference over time, its fixed-n interval and the always-valid sequence. */
  sequences: AbSequence[];
}

export type AbToWebview = { type: 'ab/data'; result: AbResult } | { type: 'ab/error'; message: string };
export type AbToHost =
  | { type: 'ab/ready' }
  | { type: 'ab/refresh' }
  | { type: 'ab/promote'; variant: string }
  | { type: 'ab/rollBack' }
  /** After the charts are drawn (and again after a theme change redrew them). */
  | { type: 'ab/rendered'; charts: number; theme: string };
