import type { Db } from './store/db';
import type { TrackingStore } from './store/tracking';
import type { RegistryStore } from './store/registry';
import type { AuditLog } from './store/audit';
import type { ArtifactStore } from './artifacts/store';
import type { PromotionGates } from './services/gates/service';

/** The core services every feature gets. Features own their own extra resources and close them in onClose. */
export interface CoreContext {
  readonly home: string;
  readonly db: Db;
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly audit: AuditLog;
  readonly artifacts: ArtifactStore;
  /** Every move of an alias goes through here (the champion's promotion gate). */
  readonly gates: PromotionGates;
  /** Who acts when a request names nobody (the OS user running the backend). */
  readonly defaultActor: string;
}
