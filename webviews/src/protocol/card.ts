import type { ModelCard } from '../../../backend/src/api/v1/contract-card';

/** The model card page's messages (webviews/src/card ↔ extension/src/models/cardPage.ts). */
export type { ModelCard };

export type CardToWebview = { type: 'card/data'; card: ModelCard } | { type: 'card/error'; message: string };

export type CardToHost =
  | { type: 'card/ready' }
  | { type: 'card/refresh' }
  /** Open the run page of the run that produced the version. */
  | { type: 'card/openRun'; runId: string };
