/**
 * Reference profiles at registration. A model version gets its profile from the training data its source run left
 * in the artifact store, looked for in this order (the first that exists wins):
 * 1. the artifact named by the run tag `mlops.reference_data` (a path under the run's artifact root);
 * 2. `reference_profile.json` (from `mlops drift profile`), then `reference_data.csv`, in the model's own folder;
 * 3. the same two names at the run's artifact root.
 * None found is recorded once (status `none`), so later checks fall back to the first served window without
 * looking again; `mlops models profile NAME/VERSION --reference FILE` sets or replaces a profile at any time.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreContext } from '../../context';
import { artifactPathOf } from '../../artifacts/store';
import { parseMlModel } from '../serving/signature';
import { profileFromCsv, profileFromJson, ReferenceError, type BuiltProfile } from './reference';
import type { DriftRepository, StoredProfile } from './repository';

export const REFERENCE_TAG = 'mlops.reference_data';
export const REFERENCE_FILES = ['reference_profile.json', 'reference_data.csv'] as const;

type Ctx = Pick<CoreContext, 'registry' | 'tracking' | 'artifacts'>;

export class Profiler {
  private sweeping: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly repo: DriftRepository,
  ) {}

  /** Profiles every version registered since the last sweep; runs in the background, one sweep at a time. */
  kick(): void {
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = (async () => {
      do {
        this.again = false;
        for (const v of this.repo.unprofiled()) {
          if (this.stopped) return;
          await this.fromRegistration(v.name, v.version);
        }
      } while (this.again && !this.stopped);
    })()
      // A background sweep has no caller to report to; a version it could not profile is retried at the next start.
      .catch(() => undefined)
      .finally(() => (this.sweeping = null));
  }

  /** Stops sweeping (before the store closes) and waits for the version being profiled. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /** Waits for a sweep in flight (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sweeping) await this.sweeping;
  }

  /** The stored row, computing it from the run's artifacts first when the version has none. */
  async ensure(name: string, version: number): Promise<StoredProfile | null> {
    return this.repo.get(name, version) ?? (await this.fromRegistration(name, version));
  }

  /** Model features in signature order, or null when the model has no column signature. */
  async features(name: string, version: number): Promise<string[] | null> {
    const dir = this.modelDir(name, version);
    if (!dir) return null;
    const text = await readFile(join(this.ctx.artifacts.resolve(dir), 'MLmodel'), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      const s = parseMlModel(text).inputs;
      return s?.kind === 'columns' ? s.columns.map((c) => c.name) : null;
    } catch {
      return null;
    }
  }

  private modelDir(name: string, version: number): string | null {
    try {
      const mv = this.ctx.registry.getVersion(name, version);
      return artifactPathOf(mv.storage_location ?? mv.source);
    } catch {
      return null;
    }
  }

  private async fromRegistration(name: string, version: number): Promise<StoredProfile | null> {
    let mv;
    try {
      mv = this.ctx.registry.getVersion(name, version);
    } catch {
      return null;
    }
    const base = { name, version, kind: 'training' as const };
    try {
      const found = await this.locate(name, version, mv.run_id ?? null);
      if (!found) {
        const where = mv.run_id ? `the model folder or run ${mv.run_id}` : 'the model folder';
        return this.repo.put({ ...base, status: 'none', profile: null, source: 'registration', rows: null, message: `no ${REFERENCE_FILES.join(' or ')} in ${where}` });
      }
      const built = await this.build(found, await this.features(name, version));
      return this.repo.put({ ...base, status: 'ready', profile: built.profile, source: `artifact ${found}`, rows: built.rows, message: null });
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      return this.repo.put({ ...base, status: 'failed', profile: null, source: 'registration', rows: null, message: err.message });
    }
  }

  private async build(rel: string, features: string[] | null): Promise<BuiltProfile> {
    const abs = this.ctx.artifacts.resolve(rel);
    if (rel.endsWith('.json')) {
      const text = await readFile(abs, 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new ReferenceError(`${rel} is not valid JSON`);
      }
      return profileFromJson(json, rel, features);
    }
    return profileFromCsv(abs, rel, features);
  }

  /** The artifact path of the version's training data, or null. */
  private async locate(name: string, version: number, runId: string | null): Promise<string | null> {
    const candidates: string[] = [];
    let runRoot: string | null = null;
    if (runId) {
      try {
        const run = this.ctx.tracking.runs.get(runId);
        runRoot = artifactPathOf(run.info.artifact_uri);
        const tag = run.data.tags?.find((t) => t.key === REFERENCE_TAG)?.value;
        if (tag && runRoot !== null) candidates.push(`${runRoot}/${tag.replace(/^\/+/, '')}`);
      } catch {
        runRoot = null;
      }
    }
    const dir = this.modelDir(name, version);
    if (dir !== null) candidates.push(...REFERENCE_FILES.map((f) => `${dir}/${f}`));
    if (runRoot !== null) candidates.push(...REFERENCE_FILES.map((f) => `${runRoot}/${f}`));
    for (const c of candidates) {
      let abs: string;
      try {
        abs = this.ctx.artifacts.resolve(c);
      } catch {
        throw new ReferenceError(`${REFERENCE_TAG} names an invalid artifact path '${c}'`);
      }
      if ((await stat(abs).catch(() => null))?.isFile()) return c;
    }
    return null;
  }
}
