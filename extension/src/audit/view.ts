import * as vscode from 'vscode';
import type { UiAuditEvent } from '../../../backend/src/api/v1/contract-ui';
import type { ApiClient } from '../backend/client';
import { localTime } from '../backend/logTail';
import { Disposer } from '../util/disposable';
import { pick } from '../vscode/commands';

const SCHEME = 'mlops-audit';

/** The audit log as a markdown table in local time, optionally of one object type. */
export function auditMarkdown(events: readonly UiAuditEvent[], type: string | undefined): string {
  const rows = events.filter((e) => !type || e.object_type === type).map((e) => `| ${localTime(e.ts)} | ${e.actor} | ${e.action} | ${e.object_type} ${e.object_id} | ${(e.reason ?? '').replace(/\|/g, '\\|')} |`);
  return [`# MLOps audit log (newest first${type ? `, ${type} only` : ''}; local time)`, '', '| when | who | action | object | reason |', '|---|---|---|---|---|', ...rows, '', rows.length ? '' : '_No events yet._'].join('\n');
}

/** Show Audit Log: a read-only document (not an unsaved untitled one), filtered by object type. */
export class AuditView implements vscode.Disposable {
  private readonly d = new Disposer();

  constructor(private readonly client: () => Promise<ApiClient>) {
    this.d.track(
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
        provideTextDocumentContent: async (uri) => {
          const { events } = await (await this.client()).audit(500);
          return auditMarkdown(events, new URLSearchParams(uri.query).get('type') || undefined);
        },
      }),
    );
  }

  async show(): Promise<void> {
    const { events } = await (await this.client()).audit(500);
    const types = [...new Set(events.map((e) => e.object_type))].sort();
    const chosen =
      types.length > 1
        ? await pick([{ label: 'All events', type: '' }, ...types.map((t) => ({ label: t, description: `${events.filter((e) => e.object_type === t).length} events`, type: t }))], { placeHolder: 'Which audit events?' })
        : { type: '' };
    // A fresh query each time, so the document is read again rather than served from VS Code's cache.
    const uri = vscode.Uri.from({ scheme: SCHEME, path: '/audit.md', query: new URLSearchParams({ type: chosen.type, at: String(Date.now()) }).toString() });
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: false });
  }

  dispose(): void {
    this.d.dispose();
  }
}
