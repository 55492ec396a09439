import * as vscode from 'vscode';
import { Disposer } from '../util/disposable';
import { backendLogPath, LogTail, readLogTail } from './logTail';

const SCHEME = 'mlops-log';
const POLL_MS = 1000;

/**
 * The backend's error log (<home>/logs/backend.log, written and rotated by the backend) shown two ways: new lines
 * are copied into the MLOps Studio output channel as `[backend.log] …`, and `show()` opens the whole file in a
 * read-only editor that follows it. Both work while the backend is down: that is when its log matters most.
 */
export class BackendLog implements vscode.Disposable {
  private readonly d = new Disposer();
  private readonly changed = this.d.track(new vscode.EventEmitter<vscode.Uri>());
  private tail: LogTail | undefined;
  private lastError = '';

  constructor(
    home: string | undefined,
    private readonly output: vscode.OutputChannel,
  ) {
    this.d.track(
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
        onDidChange: this.changed.event,
        provideTextDocumentContent: (uri) => this.content(uri.path),
      }),
    );
    if (home) this.follow(home);
    const timer = setInterval(() => this.tick(), POLL_MS);
    timer.unref?.();
    this.d.onDispose(() => clearInterval(timer));
  }

  /** The log this follows: the running backend's home may differ from the workspace's (a connected backend). */
  get path(): string | undefined {
    return this.tail?.path;
  }

  follow(home: string): void {
    const path = backendLogPath(home);
    if (this.tail?.path === path) return;
    this.tail?.dispose();
    this.tail = new LogTail(path, (line) => this.output.appendLine(`[backend.log] ${line}`));
    this.tail.tick();
  }

  private tick(): void {
    const t = this.tail;
    if (!t) return;
    let lines = 0;
    try {
      lines = t.tick();
      this.lastError = '';
    } catch (e) {
      const msg = `[backend.log] cannot read ${t.path}: ${(e as Error).message}`;
      if (msg !== this.lastError) this.output.appendLine(msg);
      this.lastError = msg;
    }
    if (lines > 0) for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === SCHEME) this.changed.fire(doc.uri);
  }

  private content(path: string): string {
    const r = readLogTail(path);
    if (!r) return `No backend log at ${path} yet: the backend writes its errors there once it has any.\n`;
    const head = r.skipped ? `(the first ${r.skipped} bytes are not shown)\n` : '';
    return `${head}${r.text || `(${path} is empty: no errors logged)\n`}`;
  }

  /** Opens the log read-only; it follows the file while it is open. */
  async show(): Promise<void> {
    const path = this.path;
    if (!path) throw new Error('Open a folder: the backend log lives in <folder>/.mlops/logs/backend.log.');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: SCHEME, path }));
    await vscode.languages.setTextDocumentLanguage(doc, 'log');
    await vscode.window.showTextDocument(doc, { preview: false });
  }

  dispose(): void {
    this.tail?.dispose();
    this.d.dispose();
  }
}
