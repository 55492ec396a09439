/**
 * A model version's card: what the registry, its run, its MLmodel file, its reference profile, the gate and the
 * audit log say about it, read in one pass. Bounded: 200 metrics, 5 categories per feature, 100 events per history.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CardHistoryEvent, CardProfileFeature, CardSpec, ModelCard } from '../api/v1/contract-card';
import { artifactPathOf } from '../artifacts/store';
import type { CoreContext } from '../context';
import type { AuditEvent } from '../store/audit';
import type { DriftService } from './drift/service';
import { runLineage } from './lineage';

const MAX_METRICS = 200;
const MAX_EVENTS = 100;
const TOP_CATEGORIES = 5;

export type CardCtx = Pick<CoreContext, 'registry' | 'tracking' | 'artifacts' | 'audit' | 'gates'>;

export async function modelCard(ctx: CardCtx, drift: Pick<DriftService, 'profile'>, name: string, version: string): Promise<ModelCard> {
  const mv = ctx.registry.getVersion(name, version);
  const id = `${mv.name}/${mv.version}`;
  const run = mv.run_id ? runOf(ctx, mv.run_id) : null;
  return {
    name: mv.name,
    version: mv.version,
    created_at: mv.creation_timestamp,
    user: mv.user_id || null,
    description: mv.description || null,
    status: mv.status,
    stage: mv.current_stage,
    source: mv.source,
    aliases: mv.aliases ?? [],
    tags: Object.fromEntries((mv.tags ?? []).map((t) => [t.key, t.value])),
    run: run?.info ?? null,
    metrics: run?.metrics ?? [],
    signature: await signatureOf(ctx, mv.storage_location ?? null),
    profile: await profileOf(drift, mv.name, mv.version),
    lineage: run?.lineage ?? null,
    alias_history: ctx.audit
      .about('alias', { idPrefix: `${mv.name}@`, limit: 1000 })
      .filter((e) => versionOf(e.before) === mv.version || versionOf(e.after) === mv.version)
      .slice(0, MAX_EVENTS)
      .map(aliasEvent),
    deployments: ctx.audit.about('endpoint', { mentions: JSON.stringify(id), limit: MAX_EVENTS }).map(deployEvent),
    gate: gateOf(ctx, mv.name, mv.version),
  };
}

function runOf(ctx: CardCtx, runId: string): { info: NonNullable<ModelCard['run']>; metrics: ModelCard['metrics']; lineage: ModelCard['lineage'] } | null {
  let r;
  try {
    r = ctx.tracking.runs.get(runId);
  } catch {
    return null; // the run was deleted: the card still shows the version
  }
  const l = runLineage(ctx, runId);
  return {
    info: { run_id: r.info.run_id, name: r.info.run_name ?? '', experiment_id: r.info.experiment_id, status: r.info.status },
    metrics: (r.data.metrics ?? [])
      .map((m) => ({ key: m.key, value: Number(m.value) }))
      .filter((m) => Number.isFinite(m.value))
      .sort((a, b) => a.key.localeCompare(b.key))
      .slice(0, MAX_METRICS),
    lineage: {
      code_commit: l.lineage.code_commit ?? null,
      code_dirty: l.lineage.code_dirty ?? null,
      image_digest: l.lineage.image_digest ?? null,
      command: l.lineage.command ?? null,
      source_name: l.source.name ?? null,
      datasets: l.datasets.map((d) => ({ name: d.name, digest: d.digest, source: d.source ?? null })),
    },
  };
}

interface RawSpec {
  name?: string;
  type?: string;
  required?: boolean;
  'tensor-spec'?: { dtype?: string; shape?: number[] };
}

/** MLflow's signature specs (columns, or tensors with dtype and shape) as rows of the card. */
function specs(raw: unknown): CardSpec[] | null {
  if (!Array.isArray(raw)) return null;
  return (raw as RawSpec[]).slice(0, 500).map((s) => ({
    name: typeof s.name === 'string' ? s.name : null,
    type: s.type === 'tensor' ? `tensor ${s['tensor-spec']?.dtype ?? '?'} [${(s['tensor-spec']?.shape ?? []).join(', ')}]` : String(s.type ?? '?'),
    required: s.required !== false,
  }));
}

async function signatureOf(ctx: CardCtx, storage: string | null): Promise<ModelCard['signature']> {
  const rel = storage ? artifactPathOf(storage) : null;
  const text = rel === null ? null : await readFile(join(ctx.artifacts.resolve(rel), 'MLmodel'), 'utf8').catch(() => null);
  if (text === null) return { flavors: [], inputs: null, outputs: null, message: 'No MLmodel file beside the model: no signature recorded.' };
  try {
    const doc = (parseYaml(text) ?? {}) as { flavors?: Record<string, unknown>; signature?: { inputs?: string; outputs?: string } };
    const json = (s: string | undefined): unknown => (s ? JSON.parse(s) : null);
    const inputs = specs(json(doc.signature?.inputs));
    return { flavors: Object.keys(doc.flavors ?? {}), inputs, outputs: specs(json(doc.signature?.outputs)), message: inputs === null ? 'The MLmodel file has no signature.' : null };
  } catch (e) {
    return { flavors: [], inputs: null, outputs: null, message: `The MLmodel file could not be read: ${(e as Error).message}` };
  }
}

async function profileOf(drift: Pick<DriftService, 'profile'>, name: string, version: string): Promise<ModelCard['profile']> {
  const p = await drift.profile(name, version).catch((e: Error) => ({ status: 'failed' as const, kind: null, source: null, rows: null, message: e.message, profile: null }));
  const features: CardProfileFeature[] = Object.entries(p.profile?.features ?? {}).map(([feature, f]) => {
    if (f.kind === 'numeric') return { feature, kind: 'numeric', count: f.count, missing: f.missing, min: f.min, max: f.max, mean: f.mean, std: f.std, top: [], categories: null };
    const top = Object.entries(f.counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_CATEGORIES)
      .map(([value, n]) => ({ value, share: f.count ? n / f.count : 0 }));
    return { feature, kind: 'categorical', count: f.count, missing: f.missing, min: null, max: null, mean: null, std: null, top, categories: Object.keys(f.counts).length };
  });
  return { status: p.status, kind: p.kind, source: p.source, rows: p.rows, message: p.message, features };
}

function gateOf(ctx: CardCtx, name: string, version: string): ModelCard['gate'] {
  try {
    return ctx.gates.check(name, version);
  } catch {
    return null;
  }
}

const versionOf = (x: unknown): string | null => {
  const v = (x as { version?: unknown } | null)?.version;
  return v === undefined || v === null ? null : String(v);
};

function aliasEvent(e: AuditEvent): CardHistoryEvent {
  const from = versionOf(e.before);
  const to = versionOf(e.after);
  const change = from && to ? `version ${from} → ${to}` : to ? `set to version ${to}` : from ? `removed from version ${from}` : e.action;
  return { ts: e.ts, actor: e.actor, action: e.action, subject: `@${e.object_id.slice(e.object_id.indexOf('@') + 1)}`, change, reason: e.reason };
}

/** An endpoint snapshot's split in words: "iris/1 90% · iris/2 10%". */
function split(x: unknown): string {
  const vs = (x as { variants?: { id: string; weight: number; role: string }[] } | null)?.variants;
  if (!vs?.length) return 'nothing';
  return vs.map((v) => `${v.id} ${Math.round(v.weight * 100) / 100}%${v.role === 'shadow' ? ' (shadow)' : ''}`).join(' · ');
}

function deployEvent(e: AuditEvent): CardHistoryEvent {
  return { ts: e.ts, actor: e.actor, action: e.action, subject: e.object_id, change: `${split(e.before)} → ${split(e.after)}`, reason: e.reason };
}
