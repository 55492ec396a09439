import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FeatureWindows } from './features';

/** Seconds. The brief's buckets (10 ms … 10 s) plus finer ones below 10 ms, where an ONNX endpoint lives. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const PERCENTILES = [0.05, 0.25, 0.5, 0.75, 0.95];
/** Distinct prediction_class values per model before the rest count as "other": bounded series. */
const MAX_CLASSES = 50;

export interface ModelSeries {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly features: FeatureWindows;
}

export interface VariantRecorder {
  observe(seconds: number, predictions: readonly unknown[]): void;
  outcome(o: 'ok' | 'error' | 'fallback'): void;
}

export interface DriftSample {
  model_name: string;
  feature_name: string;
  drift_method: string;
  value: number;
}

export interface AccuracyRow {
  model_name: string;
  model_version: string;
  segment: string;
  accuracy: number;
}

/**
 * The serving engine's Prometheus metrics, in a registry of their own (no process-global state). Per-model
 * children are cached so the hot path does no label hashing.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly predictions;
  private readonly latency;
  private readonly requests;
  private readonly rollbacks;
  private readonly weight;
  private readonly shadowCompared;
  private readonly shadowDisagreed;
  private readonly tickErrors;
  private readonly models = new Map<string, ModelSeries>();

  /**
   * `driftSource` is where ml_drift_score comes from (the drift service, computed at scrape time and cached, never
   * per request).
   */
  constructor(accuracy: () => AccuracyRow[], driftSource: () => Promise<readonly DriftSample[]> = () => Promise.resolve([])) {
    const registers = [this.registry];
    this.predictions = new Counter({ name: 'ml_predictions_total', help: 'Predictions served (rows), by model version and predicted class.', labelNames: ['model_name', 'model_version', 'prediction_class'], registers });
    this.latency = new Histogram({ name: 'ml_prediction_latency_seconds', help: 'Model inference latency per request, by model version.', labelNames: ['model_name', 'model_version'], buckets: LATENCY_BUCKETS, registers });
    this.requests = new Counter({ name: 'ml_endpoint_requests_total', help: 'Scoring requests per endpoint and variant, by outcome (ok, error, fallback).', labelNames: ['endpoint', 'variant', 'outcome'], registers });
    this.rollbacks = new Counter({ name: 'ml_rollbacks_total', help: 'Rollbacks per endpoint, by reason.', labelNames: ['endpoint', 'reason'], registers });
    this.weight = new Gauge({ name: 'ml_traffic_weight_percent', help: 'Share of live traffic per endpoint variant (percent); for a shadow, the mirrored share.', labelNames: ['endpoint', 'variant', 'role'], registers });
    this.shadowCompared = new Counter({ name: 'ml_shadow_comparisons_total', help: 'Requests mirrored to a shadow variant and compared.', labelNames: ['endpoint', 'variant'], registers });
    this.shadowDisagreed = new Counter({ name: 'ml_shadow_disagreements_total', help: 'Mirrored requests whose shadow answer differed from the answer returned.', labelNames: ['endpoint', 'variant'], registers });
    this.tickErrors = new Counter({ name: 'ml_serving_tick_errors_total', help: 'Runs of the canary/guardrail loop that failed for an endpoint (logged; the loop goes on).', registers });
    const models = this.models;
    new Gauge({
      name: 'ml_feature_distribution',
      help: 'Percentiles of recent feature values per served model.',
      labelNames: ['model_name', 'feature_name', 'percentile'],
      registers,
      collect() {
        this.reset();
        for (const m of models.values()) {
          m.features.features.forEach((f, i) => {
            const qs = m.features.percentiles(i, PERCENTILES);
            qs?.forEach((v, j) => this.set({ model_name: m.modelName, feature_name: f, percentile: String(PERCENTILES[j]) }, v));
          });
        }
      },
    });
    new Gauge({
      name: 'ml_drift_score',
      help: 'Drift of recent served inputs against the served version\'s reference profile, per method (psi, ks, wasserstein_norm, jensen_shannon, chi2; ensemble = share of methods voting drift, drift at >= 0.5). Methods ending in _vs_first_window compare with the version\'s first served rows instead (the version has no training profile).',
      labelNames: ['model_name', 'feature_name', 'drift_method'],
      registers,
      async collect() {
        const samples = await driftSource();
        this.reset();
        for (const d of samples) this.set({ model_name: d.model_name, feature_name: d.feature_name, drift_method: d.drift_method }, d.value);
      },
    });
    new Gauge({
      name: 'ml_model_accuracy',
      help: 'Accuracy of logged predictions against feedback labels: the latest stored performance check of the endpoint\'s monitor, or over the log where there is none yet.',
      labelNames: ['model_name', 'model_version', 'data_segment'],
      registers,
      collect() {
        this.reset();
        for (const a of accuracy()) this.set({ model_name: a.model_name, model_version: a.model_version, data_segment: a.segment }, a.accuracy);
      },
    });
  }

  /** Registers a served variant's series; returns its hot-path recorder. */
  track(key: string, series: ModelSeries & { readonly endpoint: string; readonly variant: string }): VariantRecorder {
    this.models.set(key, series);
    const latency = this.latency.labels(series.modelName, series.modelVersion);
    const byClass = new Map<string, Counter.Internal>();
    const outcomes = {
      ok: this.requests.labels(series.endpoint, series.variant, 'ok'),
      error: this.requests.labels(series.endpoint, series.variant, 'error'),
      fallback: this.requests.labels(series.endpoint, series.variant, 'fallback'),
    };
    return {
      observe: (seconds, predictions) => {
        latency.observe(seconds);
        for (const p of predictions) {
          const cls = classOf(p);
          let child = byClass.get(cls);
          if (!child) {
            if (byClass.size >= MAX_CLASSES) {
              child = byClass.get('other') ?? this.predictions.labels(series.modelName, series.modelVersion, 'other');
            } else {
              child = this.predictions.labels(series.modelName, series.modelVersion, cls);
              byClass.set(cls, child);
            }
          }
          child.inc();
        }
      },
      outcome: (o) => outcomes[o].inc(),
    };
  }

  untrack(key: string): void {
    this.models.delete(key);
  }

  tickError(): void {
    this.tickErrors.inc();
  }

  rollback(endpoint: string, reason: string): void {
    this.rollbacks.labels(endpoint, reason).inc();
  }

  /** Replaces an endpoint's weight series with the current variants. */
  weights(endpoint: string, variants: readonly { id: string; role: string; weight: number }[], previous: readonly { id: string; role: string }[]): void {
    for (const p of previous) this.weight.remove(endpoint, p.id, p.role);
    for (const v of variants) this.weight.labels(endpoint, v.id, v.role).set(v.weight);
  }

  shadow(endpoint: string, variant: string, disagreed: boolean): void {
    this.shadowCompared.labels(endpoint, variant).inc();
    if (disagreed) this.shadowDisagreed.labels(endpoint, variant).inc();
    else this.shadowDisagreed.labels(endpoint, variant).inc(0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** A label's class: the value for labels, argmax for score vectors, "value" for regression outputs. */
function classOf(p: unknown): string {
  if (typeof p === 'string') return p.slice(0, 64);
  if (typeof p === 'number') return Number.isInteger(p) ? String(p) : 'value';
  if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'number')) {
    let best = 0;
    for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[best] as number)) best = i;
    return String(best);
  }
  return 'value';
}
