import type * as vscode from 'vscode';
import type { Message } from '../../../webviews/src/protocol/common';
import { PanelHost, type PanelSpec } from '../webview/host';

/**
 * A webview that shows one fetched document (A/B results, monitoring, a drift report): it loads on `ready`
 * (so it refetches whenever it is shown again) and on `refresh`; other messages go to `onAction`.
 */
export class DataPanel<ToWebview extends Message, ToHost extends Message> {
  readonly host: PanelHost<ToWebview, ToHost>;

  constructor(
    extensionUri: vscode.Uri,
    spec: PanelSpec,
    private readonly load: () => Promise<ToWebview>,
    private readonly errorMessage: (message: string) => ToWebview,
    onAction: (m: ToHost, reload: () => Promise<void>) => Promise<void> = async () => undefined,
  ) {
    this.host = new PanelHost<ToWebview, ToHost>(extensionUri, spec, async (m) => {
      if (m.type === `${spec.view}/ready` || m.type === `${spec.view}/refresh`) return this.reload();
      return onAction(m, () => this.reload());
    });
  }

  async reload(): Promise<void> {
    let m: ToWebview;
    try {
      m = await this.load();
    } catch (e) {
      const err = e as { notAvailable?: boolean; message?: string };
      m = this.errorMessage(err.notAvailable ? 'This view is not available yet: the backend feature behind it has not landed.' : (err.message ?? String(e)));
    }
    await this.host.post(m);
  }
}
