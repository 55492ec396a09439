import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { CoreContext } from '../../../backend/src/context';
import { artifactPathOf } from '../../../backend/src/artifacts/store';
import type { MlflowRemote } from '../../../backend/src/services/sync/client';
import { remoteArtifactPath } from '../../../backend/src/services/sync/artifacts';
import { numberOf, type Run } from '../../../backend/src/services/sync/wire';

/** MLflow's SQL store clamps ±Infinity to ±max double; NaN stays NaN. */
const MAX = 1.7976931348623157e308;
export const norm = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? String(MAX) : v === -Infinity ? String(-MAX) : String(v));

export function pointsKey(ps: { key: string; value: number; timestamp: number; step: number }[]): string[] {
  return ps.map((p) => `${p.key}|${p.step}|${p.timestamp}|${norm(p.value)}`).sort();
}

/** Every metric point of a local run, normalised as the remote keeps it. */
export function localPoints(ctx: CoreContext, runId: string): string[] {
  const rows = ctx.db.prepare('SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ?').all(runId) as { key: string; step: number; timestamp: number; value: number; is_nan: number }[];
  return pointsKey(rows.map((r) => ({ ...r, value: r.is_nan ? NaN : r.value })));
}

export async function remotePoints(client: MlflowRemote, run: Run): Promise<string[]> {
  const keys = [...new Set((run.data?.metrics ?? []).map((m) => m.key))];
  const out: { key: string; value: number; timestamp: number; step: number }[] = [];
  for (const key of keys) {
    let token: string | undefined;
    do {
      const page = await client.metricHistoryPage(run.info.run_id, key, token);
      for (const m of page.metrics ?? []) out.push({ key: m.key, value: numberOf(m.value), timestamp: m.timestamp ?? 0, step: m.step ?? 0 });
      token = page.next_page_token;
    } while (token);
  }
  return pointsKey(out);
}

export async function remoteFileHashes(client: MlflowRemote, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (sub: string): Promise<void> => {
    for (const e of await client.listArtifacts(sub ? `${root}/${sub}` : root)) {
      const p = sub ? `${sub}/${e.path.split('/').pop()}` : e.path.split('/').pop()!;
      if (e.is_dir) await walk(p);
      else {
        const h = createHash('sha256');
        await client.downloadArtifact(`${root}/${p}`, async (res) => {
          for await (const c of res) h.update(c as Buffer);
        });
        out.set(p, h.digest('hex'));
      }
    }
  };
  await walk('');
  return out;
}

export async function localFileHashes(ctx: CoreContext, uri: string): Promise<Map<string, string>> {
  const root = artifactPathOf(uri)!;
  const out = new Map<string, string>();
  for (const f of await ctx.artifacts.listFiles(root)) {
    const { stream } = await ctx.artifacts.openRead(`${root}/${f.path}`);
    const h = createHash('sha256');
    for await (const c of stream) h.update(c as Buffer);
    out.set(f.path, h.digest('hex'));
  }
  return out;
}

/**
 * All remote runs this store pushed, by local run id; fails on any duplicate. A copy that sync discarded as a
 * duplicate (MLflow only soft-deletes runs over REST) must be deleted and marked with the copy kept; it is
 * collected in `discarded` instead.
 */
export async function remoteRunsByOrigin(client: MlflowRemote, storeId: string, discarded: Run[] = []): Promise<Map<string, Run>> {
  const exps: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.http.request({ method: 'POST', path: 'api/2.0/mlflow/experiments/search', body: { json: { max_results: 1000, view_type: 'ALL', page_token: token } } });
    const j = JSON.parse(res.body.toString()) as { experiments?: { experiment_id: string }[]; next_page_token?: string };
    exps.push(...(j.experiments ?? []).map((e) => e.experiment_id));
    token = j.next_page_token;
  } while (token);
  const out = new Map<string, Run>();
  token = undefined;
  do {
    const res = await client.searchRuns({ experiment_ids: exps, filter: `tags.\`mlops.origin.store\` = '${storeId}'`, max_results: 1000, ...(token ? { page_token: token } : {}) });
    for (const r of res.runs ?? []) {
      const local = r.data?.tags?.find((t) => t.key === 'mlops.origin.run_id')?.value;
      assert.ok(local, `remote run ${r.info.run_id} lacks its origin tag`);
      if (r.data?.tags?.some((t) => t.key === 'mlops.duplicate_of')) {
        assert.equal(r.info.lifecycle_stage, 'deleted', `discarded duplicate ${r.info.run_id} is deleted`);
        discarded.push(r);
        continue;
      }
      assert.ok(!out.has(local), `local run ${local} has two copies on the remote (${out.get(local)?.info.run_id}, ${r.info.run_id})`);
      out.set(local, r);
    }
    token = res.next_page_token;
  } while (token);
  return out;
}

/** Asserts the remote holds exactly one complete copy of every local run: params, tags, metric points, files. */
export async function assertRunsMirrored(ctx: CoreContext, client: MlflowRemote, storeId: string, runIds: string[]): Promise<void> {
  const remote = await remoteRunsByOrigin(client, storeId);
  assert.equal(remote.size, runIds.length, 'one remote run per local run');
  for (const id of runIds) {
    const local = ctx.tracking.runs.get(id);
    const r = remote.get(id);
    assert.ok(r, `run ${id} is on the remote`);
    const full = await client.getRun(r.info.run_id);
    assert.equal(full.info.status, local.info.status);
    assert.equal(full.info.start_time, local.info.start_time);
    assert.equal(full.info.end_time, local.info.end_time);
    assert.equal(full.info.run_name, local.info.run_name);
    const rp = new Map((full.data?.params ?? []).map((p) => [p.key, p.value]));
    assert.deepEqual(rp, new Map((local.data.params ?? []).map((p) => [p.key, p.value])), `params of ${id}`);
    const rt = new Map((full.data?.tags ?? []).map((p) => [p.key, p.value]));
    for (const tag of local.data.tags ?? []) {
      if (tag.key === 'mlflow.parentRunId') assert.equal(rt.get(tag.key), remote.get(tag.value)?.info.run_id, 'parent id is mapped');
      else assert.equal(rt.get(tag.key), tag.value, `tag ${tag.key} of ${id}`);
    }
    assert.deepEqual(await remotePoints(client, full), localPoints(ctx, id), `metric points of ${id}`);
    const art = remoteArtifactPath(full.info.artifact_uri)!;
    assert.deepEqual(await remoteFileHashes(client, art), await localFileHashes(ctx, local.info.artifact_uri), `artifacts of ${id}`);
  }
}
