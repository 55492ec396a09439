import { readFile } from 'node:fs/promises';
import type { CoreContext } from '../../context';
import type { ProfileInfo } from '../../api/v1/contract';
import { invalid, notFound } from '../../util/errors';
import { parseVersion } from '../../store/registry';
import type { DriftSample } from '../serving/metrics';
import { EndpointDriftService } from './endpoint';
import { Profiler } from './profiler';
import { profileFromCsv, profileFromCsvText, profileFromJson, ReferenceError, type BuiltProfile } from './reference';
import { DriftRepository, type StoredProfile } from './repository';

/** What ml_drift_score needs of one variant's drift (a fresh report's variant, or a stored monitor check's). */
export interface DriftSampleSource {
  status: string;
  model_name: string;
  reference: { kind: string } | null;
  features: readonly { feature: string; votes: number; methods: readonly { method: string; score: number }[] }[];
}

/** Reference profiles of model versions and drift of endpoints, over one store. */
export class DriftService {
  readonly repo: DriftRepository;
  readonly profiler: Profiler;
  readonly endpoints: EndpointDriftService;

  /**
   * `flushLog` commits the predictions still queued for the serving log (the serving repository's flush), so a check
   * sees the newest rows; the CLI, which serves nothing, leaves it out.
   */
  constructor(
    private readonly ctx: Pick<CoreContext, 'db' | 'registry' | 'tracking' | 'artifacts' | 'audit'>,
    o: { flushLog?: () => void | Promise<void> } = {},
  ) {
    this.repo = new DriftRepository(ctx.db);
    this.profiler = new Profiler(ctx, this.repo);
    this.endpoints = new EndpointDriftService(this.repo, this.profiler, o.flushLog);
  }

  /** The stored profile of NAME/VERSION (computing it from the run's artifacts if none was looked for yet). */
  async profile(name: string, version: unknown): Promise<StoredProfile> {
    const v = this.version(name, version);
    const p = await this.profiler.ensure(name, v);
    if (!p) throw notFound(`Model Version (name=${name}, version=${v}) not found`);
    return p;
  }

  /**
   * Sets the profile of NAME/VERSION from training data: a CSV file path, CSV text or a profile's JSON. Replaces any
   * earlier profile (a first-window fallback included) and writes an audit event.
   */
  async setProfile(name: string, version: unknown, from: { file?: string; csv?: string; profile?: unknown }, actor: string): Promise<StoredProfile> {
    const v = this.version(name, version);
    const features = await this.profiler.features(name, v);
    let built: BuiltProfile;
    let source: string;
    try {
      if (from.profile !== undefined) {
        built = profileFromJson(from.profile, 'profile', features);
        source = 'upload (profile)';
      } else if (from.csv !== undefined) {
        built = await profileFromCsvText(from.csv, 'csv', features);
        source = 'upload (csv)';
      } else if (from.file !== undefined) {
        built = from.file.endsWith('.json') ? profileFromJson(await readText(from.file), from.file, features) : await profileFromCsv(from.file, from.file, features);
        source = `file ${from.file}`;
      } else throw invalid("Give the training data: 'csv' (text with a header row) or 'profile' (from mlops drift profile)");
    } catch (err) {
      if (err instanceof ReferenceError) throw invalid(err.message);
      throw err;
    }
    const before = this.repo.get(name, v);
    const stored = this.repo.put({ name, version: v, status: 'ready', kind: 'training', profile: built.profile, source, rows: built.rows, message: null });
    this.ctx.audit.append({
      actor,
      action: 'model_version.profile',
      objectType: 'model_version',
      objectId: `${name}/${v}`,
      before: before ? { kind: before.kind, status: before.status, source: before.source } : null,
      after: { kind: 'training', source, rows: built.rows, features: Object.keys(built.profile.features) },
    });
    return stored;
  }

  /**
   * ml_drift_score samples: each endpoint's live variants, one model name once (the stable variant first). An
   * endpoint's latest stored monitor check is used when `stored` has one (no recompute at scrape time); otherwise its
   * report is computed (reused for 5 s).
   */
  async metricSamples(stored: (endpoint: string) => readonly DriftSampleSource[] | null = () => null): Promise<DriftSample[]> {
    const out: DriftSample[] = [];
    const seen = new Set<string>();
    for (const name of this.repo.endpointNames()) {
      const variants = stored(name) ?? (await this.endpoints.report(name, undefined, 5000)).variants;
      for (const v of variants) {
        if (v.status !== 'ok' || seen.has(v.model_name)) continue;
        seen.add(v.model_name);
        const suffix = v.reference?.kind === 'first_window' ? '_vs_first_window' : '';
        for (const f of v.features) {
          for (const m of f.methods) out.push({ model_name: v.model_name, feature_name: f.feature, drift_method: m.method + suffix, value: m.score });
          out.push({ model_name: v.model_name, feature_name: f.feature, drift_method: 'ensemble' + suffix, value: f.votes / f.methods.length });
        }
      }
    }
    return out;
  }

  private version(name: string, version: unknown): number {
    const v = parseVersion(version);
    this.ctx.registry.getVersion(name, v);
    return v;
  }
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => {
    throw new ReferenceError(`cannot read ${file}`);
  });
}

export function profileInfo(p: StoredProfile): ProfileInfo {
  return {
    name: p.name,
    version: p.version,
    status: p.status,
    kind: p.kind,
    source: p.source,
    rows: p.rows,
    message: p.message,
    created_at: p.createdAt,
    features: Object.fromEntries(Object.entries(p.profile?.features ?? {}).map(([k, f]) => [k, f.kind])),
  };
}
