import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UiCompareRun } from '../../../backend/src/api/v1/contract-ui';
import { byParamValue, lensTitle, paramHoverMarkdown, scanPython, summarize } from '../../../extension/src/codelens/summary';

const run = (i: number, lr: string, loss: number): UiCompareRun => ({ run_id: `r${i}`, name: `run-${i}`, experiment_id: '1', status: 'FINISHED', start_time: i, params: { lr }, latest: { loss } });
const runs = [run(1, '0.1', 0.5), run(2, '0.01', 0.2), run(3, '0.01', 0.3), run(4, '0.001', 0.9)];

void test('finds start_run and logged params in a training script', () => {
  const src = ['import mlflow', 'with mlflow.start_run(run_name="x"):', '    mlflow.log_param("lr", lr)', '    mlflow.log_params({', '        "depth": 3, \'n_estimators\': 100,', '    })'].join('\n');
  const s = scanPython(src);
  assert.deepEqual(s.startRuns, [1]);
  assert.deepEqual(s.params.map((p) => [p.line, p.key]), [[2, 'lr'], [4, 'depth'], [4, 'n_estimators']]);
});

void test('lens: best respects the metric goal; latest is the newest run', () => {
  const s = summarize(runs, { key: 'loss', goal: 'min' });
  assert.equal(s.best?.name, 'run-2');
  assert.equal(s.latest?.name, 'run-4');
  assert.equal(lensTitle(s), '$(graph) loss: best 0.2 (run-2) · latest 0.9 (run-4) · 4 runs');
});

void test('hover: metric per param value, best value first', () => {
  const rows = byParamValue(runs, 'lr', { key: 'loss', goal: 'min' });
  assert.deepEqual(rows.map((r) => [r.value, r.runs, r.best]), [['0.01', 2, 0.2], ['0.1', 1, 0.5], ['0.001', 1, 0.9]]);
  assert.ok(Math.abs(rows[0]!.mean! - 0.25) < 1e-12);
  const md = paramHoverMarkdown('lr', { key: 'loss', goal: 'min' }, rows);
  assert.match(md, /\| 0\.01 \| 2 \| 0\.2 \| 0\.25 \|/);
  assert.match(paramHoverMarkdown('x', { key: 'loss', goal: 'min' }, []), /No run of this script logged param `x`/);
});
