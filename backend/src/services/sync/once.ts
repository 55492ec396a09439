import type { SyncEngine } from './engine';
import type { RetryHooks } from './http';
import type { MapKind } from './repository';
import { errorText, isObjectError } from './report';

/** The tag a surplus copy gets before it is deleted: which copy was kept in its place. */
export const DUPLICATE_OF = 'mlops.duplicate_of';

/**
 * How long a create that a killed push left in flight, or whose answer was lost, may still take to land on the
 * remote. Until then every push looks for a late copy of it (one search per such object) and removes it.
 */
export const STRAY_WINDOW_MS = 10 * 60_000;

/** The remote copies of one local object that this store created (found by its origin tags). */
export interface Copies<T> {
  /** Every copy on the remote with this object's origin tags, except those already fully discarded. */
  find(): Promise<T[]>;
  id(x: T): string;
  /** The copy kept when none is preferred sorts first: the oldest, by id where the remote keeps no time. */
  order(a: T, b: T): number;
  /** True for a copy a cut-short discard already marked: it is never the one kept. */
  marked(x: T): boolean;
  /** Marks a surplus copy with DUPLICATE_OF and deletes it; safe to repeat. */
  discard(x: T, kept: T): Promise<void>;
}

/** Thrown from a retry hook when the object a lost create answer was about turns out to exist remotely. */
class Adopt<T> extends Error {
  constructor(readonly found: T) {
    super('adopt');
  }
}

/**
 * Leaves exactly one live copy: `prefer` (the copy already mapped, which holds what was sent) when it is there,
 * else the first by `order`; every other copy is discarded, counted as `deduplicated` and audited. With
 * `prefer.required`, nothing is discarded unless the preferred copy is found (someone else changed the remote).
 */
export async function settle<T>(e: SyncEngine, kind: MapKind, localId: string, c: Copies<T>, prefer?: { id: string; required: boolean }): Promise<T | null> {
  const all = await c.find();
  const candidates = all.filter((x) => !c.marked(x)).sort((a, b) => c.order(a, b));
  const preferred = prefer ? candidates.find((x) => c.id(x) === prefer.id) : undefined;
  if (prefer?.required && !preferred) return null;
  const kept = preferred ?? candidates[0];
  if (!kept) return null;
  const extra = all.filter((x) => c.id(x) !== c.id(kept));
  for (const x of extra) {
    await c.discard(x, kept);
    e.report.summary.writes += 2;
    e.report.count(kind, 'deduplicated');
  }
  if (extra.length) {
    e.ctx.audit.append({
      actor: e.ctx.defaultActor,
      action: 'sync.deduplicate',
      objectType: kind,
      objectId: localId,
      before: { copies: all.map((x) => c.id(x)) },
      after: { remote: e.remote, kept: c.id(kept) },
      reason: `${e.remote}: a create sent twice (an interrupted push or a lost answer) left ${all.length} copies; kept one`,
    });
  }
  return kept;
}

/**
 * Creates something remotely exactly once. The create is journaled before it is sent. When a previous push died
 * mid-create, or an answer is lost (dropped connection, timeout, 5xx), the object is looked up by its origin tags
 * before anything is sent again, and after the create any other copy is removed. Because the lost request may
 * still land later, such an object is marked unsettled and every push within STRAY_WINDOW_MS sweeps it again.
 */
export async function createOnce<T>(e: SyncEngine, kind: MapKind, localId: string, c: Copies<T>, create: (hooks: RetryHooks) => Promise<T>): Promise<T> {
  const { repo, remote } = e;
  let unsure = repo.hasIntent(remote, kind, localId);
  if (unsure) {
    repo.markUnsettled(remote, kind, localId);
    const found = await settle(e, kind, localId, c);
    if (found) return found;
  }
  repo.addIntent(remote, kind, localId);
  const hooks: RetryHooks = {
    beforeRetry: async (maybeApplied) => {
      if (!maybeApplied) return;
      if (!unsure) repo.markUnsettled(remote, kind, localId);
      unsure = true;
      const found = await settle(e, kind, localId, c);
      if (found) throw new Adopt(found);
    },
  };
  let made: T;
  try {
    made = await create(hooks);
  } catch (err) {
    if (err instanceof Adopt) return err.found as T;
    throw err;
  }
  if (!unsure) return made;
  return (await settle(e, kind, localId, c, { id: c.id(made), required: false })) ?? made;
}

/**
 * Looks once more for late copies of every unsettled create (keeping the mapped copy) and forgets the ones
 * whose window has passed. `copiesOf` gives null for an object not mapped yet: its journal entry covers it.
 */
export async function sweepUnsettled(e: SyncEngine, copiesOf: (kind: MapKind, localId: string) => Promise<{ copies: Copies<unknown>; mapped: string } | null>): Promise<void> {
  const started = Date.now();
  for (const u of e.repo.unsettled(e.remote)) {
    try {
      const c = await copiesOf(u.kind, u.local_id);
      if (c) await settle(e, u.kind, u.local_id, c.copies, { id: c.mapped, required: true });
    } catch (err) {
      if (!isObjectError(err)) throw err;
      e.report.object(u.kind, u.local_id, 'failed', `looking for a duplicate copy: ${errorText(err)}`);
      continue;
    }
    if (started - u.since > STRAY_WINDOW_MS) e.repo.clearUnsettled(e.remote, u.kind, u.local_id);
  }
}
