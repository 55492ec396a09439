import { dispatch, type Handlers, type Message } from '../protocol/common';

interface VsCodeApi {
  postMessage(m: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** The typed channel to the extension host; acquireVsCodeApi may be called only once per webview. */
export class Host<ToHost extends Message, ToWebview extends Message, State> {
  private readonly api = acquireVsCodeApi();

  send(m: ToHost): void {
    this.api.postMessage(m);
  }

  listen(handlers: Handlers<ToWebview>): void {
    window.addEventListener('message', (e: MessageEvent<ToWebview>) => {
      const m = e.data;
      if (m && typeof m === 'object' && typeof m.type === 'string') void dispatch(handlers, m);
    });
  }

  state(fallback: State): State {
    return { ...fallback, ...((this.api.getState() as Partial<State> | undefined) ?? {}) };
  }

  saveState(s: State): void {
    this.api.setState(s);
  }
}
