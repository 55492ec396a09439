import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Message } from '../../../webviews/src/protocol/common';
import { Deferred } from '../util/deferred';
import { Disposer } from '../util/disposable';

export interface PanelSpec {
  /** webviews/src/<view>/main.ts → dist/webviews/<view>.js */
  view: 'compare' | 'ab' | 'monitoring' | 'drift' | 'run' | 'table' | 'report' | 'card';
  viewType: string;
  title: string;
}

/**
 * The page every webview loads: strict CSP (nothing but our nonce'd script and our stylesheet; no network),
 * an empty #app, and the bundle. Data never goes into the HTML; it arrives by postMessage after `ready`.
 */
export function webviewHtml(webview: { cspSource: string; asWebviewUri(u: vscode.Uri): vscode.Uri }, extensionUri: vscode.Uri, view: string, nonce: string, title: string): string {
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webviews', `${view}.js`));
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    // Lit (in @vscode-elements) adds its component styles as <style> elements when constructable sheets are missing.
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    "connect-src 'none'",
  ].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css.toString()}" nonce="${nonce}">
<title>${esc(title)}</title></head>
<body><main id="app"></main><script nonce="${nonce}" src="${script.toString()}"></script></body></html>`;
}

export const newNonce = (): string => randomBytes(18).toString('base64url');

/** One webview panel with a typed channel: posts wait for the webview's `<view>/ready`. */
export class PanelHost<ToWebview extends Message, ToHost extends Message> implements vscode.Disposable {
  private readonly d = new Disposer();
  readonly panel: vscode.WebviewPanel;
  private ready = new Deferred<void>();
  private readonly disposedEmitter = this.d.track(new vscode.EventEmitter<void>());
  readonly onDidDispose = this.disposedEmitter.event;

  constructor(
    extensionUri: vscode.Uri,
    spec: PanelSpec,
    private readonly onMessage: (m: ToHost) => void | Promise<void>,
  ) {
    this.panel = vscode.window.createWebviewPanel(spec.viewType, spec.title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews'), vscode.Uri.joinPath(extensionUri, 'media')],
    });
    this.d.track(
      this.panel.webview.onDidReceiveMessage((m: ToHost) => {
        if (m?.type === `${spec.view}/ready`) this.ready.resolve();
        void Promise.resolve(this.onMessage(m)).catch((e: unknown) => void vscode.window.showErrorMessage(`MLOps: ${(e as Error).message}`));
      }),
    );
    this.d.track(
      this.panel.onDidDispose(() => {
        this.disposedEmitter.fire();
        this.d.dispose();
      }),
    );
    // A hidden webview is torn down (no retainContextWhenHidden); it posts ready again when shown.
    this.d.track(
      this.panel.onDidChangeViewState(() => {
        if (!this.panel.visible && this.ready.settled) this.ready = new Deferred<void>();
      }),
    );
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, spec.view, newNonce(), spec.title);
  }

  async post(m: ToWebview): Promise<void> {
    await this.ready.promise;
    await this.panel.webview.postMessage(m);
  }

  dispose(): void {
    this.panel.dispose();
  }
}
