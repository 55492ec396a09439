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

