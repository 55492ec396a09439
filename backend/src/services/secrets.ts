import type { Db } from '../store/db';
import { SyncRepo } from './sync/repository';
import { isSecretName, MIN_SECRET_LENGTH } from '../util/mask';

const TTL_MS = 1000;

/**
 * Every secret value the backend knows, for masking by value: its own bearer token, the secrets of sync remotes
 * (read from the environment variables they name), and the secret-looking variables of its own environment.
 * Job tokens need no list: their prefix finds them. Read again at most once a second (remotes may be added).
 */
export class KnownSecrets {
  private cache: { at: number; values: string[] } | null = null;

  constructor(
    private readonly db: Db | null,
    private readonly masterToken: string | null,
    private readonly env: NodeJS.ProcessEnv = process.env,
    /** Secrets other features hold (webhook signing keys). */
    private readonly extra: () => readonly string[] = () => [],
  ) {}

  /** Forgets the cached list: a feature that just stored a secret calls this, so it is masked from the next answer on. */
  invalidate(): void {
    this.cache = null;
  }

  values(): string[] {
    const now = Date.now();
    if (this.cache && now - this.cache.at < TTL_MS) return this.cache.values;
    const found = new Set<string>();
    const add = (v: string | undefined | null) => {
      if (v && v.length >= MIN_SECRET_LENGTH) found.add(v);
    };
    add(this.masterToken);
    add(this.env.MLOPS_TOKEN);
    if (this.db) {
      try {
        for (const r of new SyncRepo(this.db).remotes()) if (r.secret_env) add(this.env[r.secret_env]);
      } catch {
        // A store without the sync tables (not migrated yet) has no remotes.
      }
    }
    for (const [k, v] of Object.entries(this.env)) if (isSecretName(k)) add(v);
    try {
      for (const v of this.extra()) add(v);
    } catch {
      // A store without that feature's tables has none.
    }
    // Longest first, so a secret that contains another is masked whole.
    const values = [...found].sort((a, b) => b.length - a.length);
    this.cache = { at: now, values };
    return values;
  }
}
