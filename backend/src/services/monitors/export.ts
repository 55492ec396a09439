import { stringify } from 'yaml';

/** Thresholds of the exported alerting rules (the monitors' defaults). */
export interface RuleOptions {
  /** p99 latency above this many ms for 10 minutes. */
  p99Ms: number;
  /** Error share of an endpoint variant's requests above this for 5 minutes. */
  errorRate: number;
  /** Accuracy this far (relatively) below its own best of the last 7 days for 30 minutes. */
  accuracyDrop: number;
}

export const RULE_DEFAULTS: RuleOptions = { p99Ms: 100, errorRate: 0.01, accuracyDrop: 0.05 };

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Prometheus alerting rules over the metrics `/metrics` exposes (names from services/serving/metrics.ts). */
export function alertRules(o: RuleOptions = RULE_DEFAULTS): Rule[] {
  return [
    {
      alert: 'MLOpsHighErrorRate',
      expr: `sum by (endpoint, variant) (rate(ml_endpoint_requests_total{outcome="error"}[5m])) / sum by (endpoint, variant) (rate(ml_endpoint_requests_total[5m])) > ${o.errorRate}`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: { summary: 'Endpoint {{ $labels.endpoint }} variant {{ $labels.variant }} fails {{ $value | humanizePercentage }} of requests', description: `More than ${o.errorRate * 100}% of scoring requests answered with an error for 5 minutes.` },
    },
    {
      alert: 'MLOpsHighLatencyP99',
      expr: `histogram_quantile(0.99, sum by (le, model_name, model_version) (rate(ml_prediction_latency_seconds_bucket[5m]))) > ${o.p99Ms / 1000}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: { summary: 'p99 inference latency of {{ $labels.model_name }}/{{ $labels.model_version }} is {{ $value | humanizeDuration }}', description: `p99 above ${o.p99Ms} ms for 10 minutes.` },
    },
    {
      alert: 'MLOpsFeatureDrift',
      expr: 'ml_drift_score{drift_method=~"ensemble(_vs_first_window)?"} >= 0.5',
      for: '15m',
      labels: { severity: 'warning' },
      annotations: { summary: 'Feature {{ $labels.feature_name }} of {{ $labels.model_name }} drifts', description: 'Half or more of the drift methods (PSI, KS, Wasserstein, Jensen-Shannon) vote drift for 15 minutes.' },
    },
    {
      alert: 'MLOpsAccuracyDrop',
      expr: `ml_model_accuracy < (1 - ${o.accuracyDrop}) * max_over_time(ml_model_accuracy[7d])`,
      for: '30m',
      labels: { severity: 'critical' },
      annotations: { summary: 'Accuracy of {{ $labels.model_name }}/{{ $labels.model_version }} fell to {{ $value | humanizePercentage }}', description: `More than ${o.accuracyDrop * 100}% below its best of the last 7 days for 30 minutes (feedback labels).` },
    },
    {
      alert: 'MLOpsRollback',
      expr: 'increase(ml_rollbacks_total[10m]) > 0',
      for: '0m',
      labels: { severity: 'info' },
      annotations: { summary: 'Endpoint {{ $labels.endpoint }} rolled back ({{ $labels.reason }})', description: 'A rollback happened in the last 10 minutes.' },
    },
    {
      alert: 'MLOpsServingLoopErrors',
      expr: 'increase(ml_serving_tick_errors_total[10m]) > 0',
      for: '0m',
      labels: { severity: 'warning' },
      annotations: { summary: 'The canary/guardrail loop failed {{ $value }} times in 10 minutes', description: 'See <home>/logs/backend.log.' },
    },
  ];
}

export function prometheusRulesYaml(o: RuleOptions = RULE_DEFAULTS): string {
  return `# Alerting rules for MLOps Studio's /metrics (mlops monitor export --prometheus-rules). Check: promtool check rules FILE\n${stringify({ groups: [{ name: 'mlops-studio', rules: alertRules(o) }] }, { lineWidth: 0 })}`;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: { type: 'prometheus'; uid: string };
  targets: { expr: string; legendFormat: string; refId: string }[];
  fieldConfig: unknown;
  options: unknown;
}

const DS = { type: 'prometheus' as const, uid: '${DS_PROMETHEUS}' };

function panel(id: number, type: string, title: string, pos: [number, number, number, number], exprs: [string, string][], fieldConfig: unknown = { defaults: {}, overrides: [] }, options: unknown = {}): Panel {
  const [x, y, w, h] = pos;
  return { id, type, title, gridPos: { h, w, x, y }, datasource: DS, targets: exprs.map(([expr, legendFormat], i) => ({ expr, legendFormat, refId: String.fromCharCode(65 + i) })), fieldConfig, options };
}

/** The brief's panels as a dashboard in Grafana's classic JSON model (import it: Dashboards → New → Import). */
export function grafanaDashboard(): Record<string, unknown> {
  const sel = 'model_name=~"$model"';
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [{ type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' }],
    title: 'MLOps Studio',
    uid: 'mlops-studio',
    tags: ['mlops'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'model', type: 'query', datasource: DS, query: 'label_values(ml_predictions_total, model_name)', includeAll: true, multi: true, current: { text: 'All', value: '$__all' }, refresh: 2 }],
    },
    annotations: { list: [{ name: 'Rollbacks', datasource: DS, enable: true, expr: 'increase(ml_rollbacks_total[1m]) > 0', iconColor: 'red', titleFormat: 'rollback {{endpoint}}', textFormat: '{{reason}}' }] },
    panels: [
      panel(1, 'timeseries', 'Prediction volume (rows/s)', [0, 0, 12, 8], [[`sum by (model_name, model_version) (rate(ml_predictions_total{${sel}}[5m]))`, '{{model_name}}/{{model_version}}']], { defaults: { unit: 'reqps' }, overrides: [] }),
      panel(2, 'timeseries', 'p99 inference latency', [12, 0, 12, 8], [[`histogram_quantile(0.99, sum by (le, model_name, model_version) (rate(ml_prediction_latency_seconds_bucket{${sel}}[5m])))`, '{{model_name}}/{{model_version}} p99']], {
        defaults: { unit: 's', thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 0.1 }] } },
        overrides: [],
      }),
      panel(3, 'timeseries', 'Accuracy (feedback labels)', [0, 8, 12, 8], [[`ml_model_accuracy{${sel}}`, '{{model_name}}/{{model_version}} {{segment}}']], { defaults: { unit: 'percentunit', min: 0, max: 1 }, overrides: [] }),
      panel(4, 'timeseries', 'Error rate per endpoint variant', [12, 8, 12, 8], [['sum by (endpoint, variant) (rate(ml_endpoint_requests_total{outcome="error"}[5m])) / sum by (endpoint, variant) (rate(ml_endpoint_requests_total[5m]))', '{{endpoint}} {{variant}}']], {
        defaults: { unit: 'percentunit' },
        overrides: [],
      }),
      panel(
        5,
        'status-history',
        'Drift heatmap (PSI per feature; 0.1 moderate, 0.2 drift)',
        [0, 16, 24, 10],
        [[`ml_drift_score{${sel}, drift_method=~"psi(_vs_first_window)?"}`, '{{model_name}} {{feature_name}}']],
        { defaults: { thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'yellow', value: 0.1 }, { color: 'red', value: 0.2 }] }, color: { mode: 'thresholds' } }, overrides: [] },
        { showValue: 'never', rowHeight: 0.9 },
      ),
      panel(6, 'timeseries', 'Traffic split (%)', [0, 26, 24, 8], [['ml_traffic_weight_percent', '{{endpoint}} {{variant}} ({{role}})']], { defaults: { unit: 'percent', min: 0, max: 100 }, overrides: [] }),
    ],
  };
}
