// Worker for stats-perf.bench.ts: holds the stored reference profile and checks the features it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { currentColumns, driftReport } from '../../backend/src/services/stats';
import type { RawColumn, ReferenceProfile } from '../../backend/src/services/stats';

const profile = workerData as ReferenceProfile;
parentPort!.on('message', (msg: { names: string[]; columns: Float64Array[] }) => {
  const cols = new Map<string, RawColumn>(msg.names.map((n, i) => [n, { kind: 'numeric', values: msg.columns[i]!, missing: 0 }]));
  const features = Object.fromEntries(msg.names.map((n) => [n, profile.features[n]!]));
  const report = driftReport({ ...profile, features }, currentColumns(cols));
  parentPort!.postMessage(report.features);
});
