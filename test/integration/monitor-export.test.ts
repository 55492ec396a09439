import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli, ensureBuilt } from './serving/proc';

const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });

void test('mlops monitor export writes alerting rules promtool accepts and fires, and a Grafana dashboard whose queries parse', async (t) => {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'mlops-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rules = join(dir, 'mlops-rules.yml');
  const dash = join(dir, 'dashboard.json');
  const r = await cli(dir, 'monitor', 'export', '--prometheus-rules', rules, '--grafana', dash);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote 6 alerting rules/);
  assert.notEqual((await cli(dir, 'monitor', 'export')).code, 0, 'a file is required');
  assert.notEqual((await cli(dir, 'monitor', 'export', '--prometheus-rules', rules, '--error-rate', '2')).code, 0);

  const check = promtool('check', 'rules', rules);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /SUCCESS: 6 rules found/);

  // promtool's unit tests: 6 errors in 66 requests a minute fire MLOpsHighErrorRate once `for: 5m` has passed (not
  // at 3 minutes); an ensemble drift score of 0.75 fires MLOpsFeatureDrift after 15 minutes; a healthy variant fires nothing.
  const cases = {
    rule_files: [rules],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: [
          { series: 'ml_endpoint_requests_total{endpoint="iris",variant="iris/2",outcome="error"}', values: '0+6x30' },
          { series: 'ml_endpoint_requests_total{endpoint="iris",variant="iris/2",outcome="ok"}', values: '0+60x30' },
          { series: 'ml_endpoint_requests_total{endpoint="iris",variant="iris/1",outcome="ok"}', values: '0+60x30' },
          { series: 'ml_drift_score{model_name="iris",feature_name="sepal_length",drift_method="ensemble"}', values: '0.75x30' },
          { series: 'ml_drift_score{model_name="iris",feature_name="sepal_width",drift_method="ensemble"}', values: '0.25x30' },
        ],
        alert_rule_test: [
          { eval_time: '3m', alertname: 'MLOpsHighErrorRate', exp_alerts: [] },
          {
            eval_time: '10m',
            alertname: 'MLOpsHighErrorRate',
            exp_alerts: [
              {
                exp_labels: { severity: 'critical', endpoint: 'iris', variant: 'iris/2' },
                exp_annotations: { summary: 'Endpoint iris variant iris/2 fails 9.091% of requests', description: 'More than 1% of scoring requests answered with an error for 5 minutes.' },
              },
            ],
          },
          { eval_time: '10m', alertname: 'MLOpsFeatureDrift', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'MLOpsFeatureDrift',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', model_name: 'iris', feature_name: 'sepal_length', drift_method: 'ensemble' },
                exp_annotations: { summary: 'Feature sepal_length of iris drifts', description: 'Half or more of the drift methods (PSI, KS, Wasserstein, Jensen-Shannon) vote drift for 15 minutes.' },
              },
            ],
          },
        ],
      },
    ],
  };
  const casesFile = join(dir, 'cases.yml');
  writeFileSync(casesFile, stringify(cases));
  const unit = promtool('test', 'rules', casesFile);
  assert.equal(unit.status, 0, unit.stdout + unit.stderr);
  assert.match(unit.stdout, /SUCCESS/);

  // A wrong expectation fails: the rules test can fail.
  (cases.tests[0]!.alert_rule_test[1]!.exp_alerts![0]!.exp_labels as Record<string, string>).variant = 'iris/1';
  writeFileSync(casesFile, stringify(cases));
  assert.notEqual(promtool('test', 'rules', casesFile).status, 0);

  // The dashboard: Grafana's classic model, the brief's panels, and every query is PromQL that promtool parses.
  const d = JSON.parse(readFileSync(dash, 'utf8')) as {
    schemaVersion: number;
    __inputs: { name: string; type: string }[];
    panels: { id: number; type: string; title: string; gridPos: Record<string, number>; datasource: { uid: string }; targets: { expr: string; refId: string }[] }[];
    annotations: { list: { expr: string }[] };
  };
  assert.ok(d.schemaVersion >= 36);
  assert.deepEqual(d.__inputs.map((i) => [i.name, i.type]), [['DS_PROMETHEUS', 'datasource']]);
  assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length);
  for (const p of d.panels) {
    assert.deepEqual(Object.keys(p.gridPos).sort(), ['h', 'w', 'x', 'y']);
    assert.equal(p.datasource.uid, '${DS_PROMETHEUS}');
    assert.ok(p.targets.length > 0);
  }
  const exprs = [...d.panels.flatMap((p) => p.targets.map((x) => x.expr)), ...d.annotations.list.map((a) => a.expr)];
  assert.ok(exprs.some((e) => /rate\(ml_predictions_total\{.*\}\[5m\]\)/.test(e)), 'prediction volume');
  assert.ok(exprs.some((e) => /^histogram_quantile\(0\.99, sum by \(le, /.test(e)), 'p99 latency');
  assert.ok(exprs.some((e) => /^ml_model_accuracy/.test(e)), 'accuracy trend');
  assert.ok(d.panels.some((p) => /Drift heatmap/.test(p.title) && p.targets.some((x) => /ml_drift_score/.test(x.expr))), 'drift heatmap');
  const asRules = join(dir, 'dashboard-queries.yml');
  writeFileSync(asRules, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `mlops:dashboard_query_${i}`, expr: expr.replaceAll('$model', '.*') })) }] }));
  const parsed = promtool('check', 'rules', asRules);
  assert.equal(parsed.status, 0, parsed.stdout + parsed.stderr);
});
