import type { UiCompareRun } from '../../backend/src/api/v1/contract-ui';
import type { CompareData } from '../../webviews/src/protocol/compare';

/** `n` runs of `steps` steps each with loss/accuracy; run i has lr from a cycle, depth 3 for all but the last. */
export function compareData(n: number, steps: number): CompareData {
  const runs: UiCompareRun[] = Array.from({ length: n }, (_, i) => ({
    run_id: `run${String(i).padStart(4, '0')}`,
    name: `run-${i}`,
    experiment_id: '1',
    status: 'FINISHED',
    start_time: 1_700_000_000_000 + i,
    params: { lr: ['0.1', '0.01', '0.001'][i % 3]!, depth: i === n - 1 ? '4' : '3', optimizer: 'adam' },
    latest: { loss: 1 / (i + 2), accuracy: 1 - 1 / (i + 2) },
  }));
  const series = (f: (i: number, s: number) => number) =>
    runs.map((r, i) => ({
      run_id: r.run_id,
      steps: Array.from({ length: steps }, (_, s) => s),
      values: Array.from({ length: steps }, (_, s) => f(i, s)),
      // One step every 30 s from the run's start.
      t0: r.start_time,
      dt: Array.from({ length: steps }, (_, s) => s * 30_000),
    }));
  return {
    runs,
    metrics: [
      { key: 'accuracy', series: series((i, s) => 1 - 1 / (2 + s * (i + 1) * 0.01)) },
      { key: 'loss', series: series((i, s) => 1 / (2 + s * (i + 1) * 0.01)) },
    ],
    missing: [],
  };
}
