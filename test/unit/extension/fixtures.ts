import type { UiExperiment, UiRun, UiRunPage } from '../../../backend/src/api/v1/contract-ui';
import type { ExperimentsSource } from '../../../extension/src/experiments/model';

export const T0 = 1_700_000_000_000;

export function runs(n: number): UiRun[] {
  return Array.from({ length: n }, (_, i) => ({
    run_id: `r${String(i).padStart(5, '0')}`,
    name: `run-${i}`,
    status: i === 0 ? 'RUNNING' : i % 7 === 0 ? 'FAILED' : 'FINISHED',
    start_time: T0 - i * 1000,
    end_time: i === 0 ? null : T0 - i * 1000 + 65_000,
    metric: i % 5 === 4 ? null : { key: 'accuracy', value: 0.9 + i / 1e6 },
  }));
}

/** An experiments source over in-memory runs that pages like the backend (offset/limit/next_offset) and counts calls. */
export function source(all: UiRun[], name = 'iris'): ExperimentsSource & { calls: { offset: number; limit: number }[] } {
  const exp: UiExperiment = { experiment_id: '1', name, run_count: all.length, last_update_time: T0, primary_metric: { key: 'accuracy', goal: 'max' } };
  const calls: { offset: number; limit: number }[] = [];
  return {
    calls,
    experiments: async () => ({ experiments: [exp] }),
    runs: async (_id: string, offset: number, limit: number): Promise<UiRunPage> => {
      calls.push({ offset, limit });
      const page = all.slice(offset, offset + limit);
      const next = offset + page.length;
      return { runs: page, total: all.length, next_offset: next < all.length ? next : null };
    },
  };
}
