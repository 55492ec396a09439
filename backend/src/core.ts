import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb } from './store/db';
import { TrackingStore } from './store/tracking';
import { RegistryStore } from './store/registry';
import { AuditLog } from './store/audit';
import { ArtifactStore } from './artifacts/store';
import { ignoreStoreInGit } from './store/ignore';
import { ensureHome } from './store/home';
import type { CoreContext } from './context';
import { PromotionGates } from './services/gates/service';

/** Opens the store under `home` (database, artifact root) without any HTTP server: the CLI's direct path. */
export function openCore(home: string, dbFile?: string): CoreContext {
  const abs = resolve(home);
  const file = dbFile ?? join(abs, 'mlops.db');
  ensureHome(abs);
  ignoreStoreInGit(abs, file !== ':memory:' && !existsSync(file));
  const db = openDb(file);
  const audit = new AuditLog(db);
  const artifacts = new ArtifactStore(join(abs, 'artifacts'));
  const registry = new RegistryStore(db, audit);
  return {
    home: abs,
    db,
    audit,
    artifacts,
    tracking: new TrackingStore(db),
    registry,
    gates: new PromotionGates(db, registry, audit),
    defaultActor: osUser(),
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
