/** What the extension knows about its backend; drives the status bar, the views and every command. */
export type BackendState =
  | { kind: 'starting'; detail: string }
  | { kind: 'running'; url: string; pid: number | null; external: boolean }
  | { kind: 'stopped'; detail: string }
  | { kind: 'error'; detail: string; retryInMs: number | null };

export class BackendDownError extends Error {
  constructor(readonly state: BackendState) {
    super(
      state.kind === 'error'
        ? `The MLOps backend is not running: ${state.detail}`
        : state.kind === 'stopped'
          ? `The MLOps backend is stopped (${state.detail}).`
          : 'The MLOps backend is not running.',
    );
  }
}


/** Delays between automatic restarts after crashes; a run of crashes longer than this stops retrying. */
export const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 16_000];

export function backoffDelay(crashes: number): number | null {
  return crashes < 1 || crashes > BACKOFF_MS.length ? null : BACKOFF_MS[crashes - 1]!;
}


export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

/** What the one status-bar item says for each backend state (pure, unit-tested). */
export function statusView(s: BackendState): StatusView {
  switch (s.kind) {
    case 'starting':
      return { text: '$(sync~spin) MLOps: starting', tooltip: s.detail, error: false };
    case 'running':
      return { text: '$(pulse) MLOps', tooltip: `Backend running at ${s.url}${s.pid ? ` (pid ${s.pid})` : ''}${s.external ? ' (connected)' : ''}`, error: false };
    case 'stopped':
      return { text: '$(circle-slash) MLOps: stopped', tooltip: `Backend stopped: ${s.detail}`, error: false };
    case 'error':
      return { text: s.retryInMs === null ? '$(error) MLOps: error' : '$(sync~spin) MLOps: restarting', tooltip: s.detail, error: true };
  }
}

