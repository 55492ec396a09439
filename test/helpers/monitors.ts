/** A store prepared for monitor tests (test/backend/monitors-*.test.ts). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../../backend/src/app';
import { openCore } from '../../backend/src/core';
import { AUTH, registerOnnxModel, sampleRows, TOKEN } from '../fixtures/onnx/harness';
import { VirtualClock } from './clock';
import { CHAMPION, FEATURES, linearClassifier } from '../fixtures/onnx/models';

/**
 * A store holding iris/1 with a training profile (reference_data.csv of 2,000 rows beside the model, profiled when the
 * backend starts) and, with `validated`, a run whose val_accuracy is 95 % (the performance monitor's baseline).
 */
export function profiledStore(home: string, validated: boolean): number {
  const core = openCore(home);
  const run = validated ? core.tracking.runs.create({ experimentId: '0', runName: 'train' }) : null;
  if (run) core.tracking.runs.logBatch(run.info.run_id, [{ key: 'val_accuracy', value: 0.95, timestamp: Date.now(), step: 0 }], [], []);
  const v = registerOnnxModel(core, 'iris', linearClassifier(CHAMPION), run ? { runId: run.info.run_id } : {});
  const dir = core.registry.getVersion('iris', v).storage_location!.replace('mlflow-artifacts:/', '');
  writeFileSync(join(core.artifacts.resolve(dir), 'reference_data.csv'), `${FEATURES.join(',')}\n${sampleRows(2000, 11).map((r) => r.join(',')).join('\n')}\n`);
  core.db.close();
  return v;
}


/** A backend (app.server.inject, a virtual clock) on a fresh profiledStore home, iris/1 deployed as endpoint 'iris'. */
export async function deployedProfiled(t: { after: (f: () => unknown) => void }, prefix: string, validated = false): Promise<{ app: App; home: string }> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const v = profiledStore(home, validated);
  const app = await buildApp({ home, token: TOKEN, clock: new VirtualClock() });
  t.after(() => app.server.close());
  await app.server.ready();
  const r = await app.server.inject({ method: 'POST', url: '/endpoints/iris/deploy', headers: AUTH, payload: { model: `iris/${v}` } });
  if (r.statusCode !== 200) throw new Error(`deploying iris/${v}: ${r.statusCode} ${r.body}`);
  return { app, home };
}
