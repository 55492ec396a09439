import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { openCore } from '../../../backend/src/core';
import type { CoreContext } from '../../../backend/src/context';
import { artifactPathOf } from '../../../backend/src/artifacts/store';
import type { Metric } from '../../../backend/src/store/types';

export function tempHome(tag: string): string {
  return mkdtempSync(join(tmpdir(), `mlops-sync-${tag}-`));
}

export function openHome(home: string): CoreContext {
  return openCore(home);
}

async function writeArtifact(ctx: CoreContext, uri: string, rel: string, bytes: Buffer): Promise<void> {
  await ctx.artifacts.write(`${artifactPathOf(uri)}/${rel}`, Readable.from([bytes]));
}

export interface Scenario {
  model: string;
  runIds: string[];
  parentId: string;
  loggedModelId: string;
}

/**
 * A small but complete store: an experiment with tags; a parent run and children with many params (more than one
 * log-batch), tags, lineage, a dataset input, metric histories longer than one batch (NaN and ±Infinity
 * included), text and binary artifacts; a READY logged model with files; a registered model with a version from
 * the logged model (MLflow 3 style) and one from run artifacts (runs:/ style), two aliases and a stage.
 */
export async function buildScenario(ctx: CoreContext, o: { prefix: string; runs?: number; steps?: number; keys?: number }): Promise<Scenario> {
  const t = ctx.tracking;
  const expId = t.experiments.create(`${o.prefix}-exp`, undefined, [{ key: 'team', value: 'ml' }]);
  const parent = t.runs.create({ experimentId: expId, userId: 'alice', runName: `${o.prefix}-parent`, startTime: 1_767_225_600_000, tags: [{ key: 'kind', value: 'sweep' }] });
  const runIds: string[] = [parent.info.run_id];
  const n = o.runs ?? 3;
  const steps = o.steps ?? 1200;
  const keys = o.keys ?? 3;
  for (let r = 0; r < n; r++) {
    const run = t.runs.create({
      experimentId: expId,
      userId: 'alice',
      runName: `${o.prefix}-child-${r}`,
      startTime: 1_767_225_600_000 + r * 1000,
      tags: [{ key: 'mlflow.parentRunId', value: parent.info.run_id }],
    });
    const id = run.info.run_id;
    runIds.push(id);
    const params = Array.from({ length: r === 0 ? 150 : 5 }, (_, i) => ({ key: `p${i}`, value: `v${r}-${i}` }));
    for (let i = 0; i < params.length; i += 100) t.runs.logBatch(id, [], params.slice(i, i + 100), []);
    t.runs.logBatch(id, [], [], [
      { key: 'team', value: 'ml' },
      { key: 'note', value: `run ${r} — ünïcode ✓` },
    ]);
    const pts: Metric[] = [];
    for (let k = 0; k < keys; k++) {
      for (let s = 0; s < steps; s++) pts.push({ key: `m${k}`, value: Math.sin(s / 10 + k) * (r + 1), timestamp: 1_767_225_600_000 + s * 10, step: s });
    }
    pts.push({ key: 'odd', value: NaN, timestamp: 1_767_225_600_001, step: 0 });
    pts.push({ key: 'odd', value: Infinity, timestamp: 1_767_225_600_002, step: 1 });
    pts.push({ key: 'odd', value: -Infinity, timestamp: 1_767_225_600_003, step: 2 });
    pts.push({ key: 'm0', value: 42, timestamp: 1_767_225_600_000, step: 0 });
    for (let i = 0; i < pts.length; i += 1000) t.runs.logBatch(id, pts.slice(i, i + 1000), [], []);
    t.runs.logInputs(id, [{ dataset: { name: 'train', digest: `d${r}`, source_type: 'local', source: '/data/train.csv' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }], []);
    t.runs.setLineage(id, { code_commit: 'abc123', code_dirty: false, image_digest: 'sha256:feed' });
    await writeArtifact(ctx, run.info.artifact_uri, 'report.txt', Buffer.from(`report ${r}\n`));
    await writeArtifact(ctx, run.info.artifact_uri, 'plots/blob.bin', randomBytes(200_000 + r));
    t.runs.update(id, { status: 'FINISHED', endTime: 1_767_225_700_000 + r });
  }
  t.runs.update(parent.info.run_id, { status: 'FINISHED', endTime: 1_767_225_800_000 });
  const src = runIds[1]!;
  const lm = t.loggedModels.create({ experimentId: expId, name: 'model', modelType: 'sklearn', sourceRunId: src, params: [{ key: 'alpha', value: '0.5' }], tags: [{ key: 'flavor', value: 'sklearn' }] });
  await writeArtifact(ctx, lm.info.artifact_uri, 'MLmodel', Buffer.from('artifact_path: model\nflavors: {}\n'));
  await writeArtifact(ctx, lm.info.artifact_uri, 'model.pkl', randomBytes(50_000));
  t.loggedModels.finalize(lm.info.model_id, 'LOGGED_MODEL_READY');
  t.runs.logOutputs(src, [{ model_id: lm.info.model_id, step: 0 }]);
  const run2 = runIds[2]!;
  await writeArtifact(ctx, t.runs.get(run2).info.artifact_uri, 'model/MLmodel', Buffer.from('artifact_path: model\n'));
  const who = { actor: 'alice' };
  ctx.registry.createModel(o.prefix + '-model', { description: 'the model', tags: [{ key: 'owner', value: 'alice' }] }, who);
  ctx.registry.createVersion({ name: `${o.prefix}-model`, source: `models:/${lm.info.model_id}`, modelId: lm.info.model_id, tags: [{ key: 'validated', value: 'yes' }] }, who);
  ctx.registry.createVersion({ name: `${o.prefix}-model`, source: `runs:/${run2}/model`, runId: run2, description: 'from run artifacts' }, who);
  ctx.registry.setAlias(`${o.prefix}-model`, 'champion', 2, who);
  ctx.registry.setAlias(`${o.prefix}-model`, 'challenger', 1, who);
  ctx.registry.transitionStage(`${o.prefix}-model`, 1, 'Staging', false, who);
  return { model: `${o.prefix}-model`, runIds, parentId: parent.info.run_id, loggedModelId: lm.info.model_id };
}
