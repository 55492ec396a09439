import * as vscode from 'vscode';
import type { ModelCard } from '../../../backend/src/api/v1/contract-card';
import type { CardToHost, CardToWebview } from '../../../webviews/src/protocol/card';
import type { ApiClient } from '../backend/client';
import { enc } from '../backend/features';
import { DataPanel } from '../panels/dataPanel';
import type { Disposer } from '../util/disposable';
import { registerCommand } from '../vscode/commands';
import { pickVersion } from './commands';

export interface CardPageDeps {
  extensionUri: vscode.Uri;
  client: () => Promise<ApiClient>;
}

/** Read-only model cards, one per version: opening a card that is already open brings it forward and refreshes it. */
export class ModelCards implements vscode.Disposable {
  private readonly open = new Map<string, DataPanel<CardToWebview, CardToHost>>();

  constructor(private readonly deps: CardPageDeps) {}

  show(name: string, version: string): void {
    const key = `${name}/${version}`;
    const existing = this.open.get(key);
    if (existing) {
      existing.host.panel.reveal();
      void existing.reload();
      return;
    }
    const panel = new DataPanel<CardToWebview, CardToHost>(
      this.deps.extensionUri,
      { view: 'card', viewType: 'mlops.modelCard', title: `Model ${name} v${version}` },
      async () => ({ type: 'card/data', card: await (await this.deps.client()).get<ModelCard>(`/api/v1/models/${enc(name)}/versions/${enc(version)}/card`) }),
      (message) => ({ type: 'card/error', message }),
      async (m) => {
        if (m.type === 'card/openRun') await vscode.commands.executeCommand('mlops.openRun', m.runId);
      },
    );
    this.open.set(key, panel);
    panel.host.onDidDispose(() => this.open.delete(key));
  }

  dispose(): void {
    for (const p of this.open.values()) p.host.dispose();
    this.open.clear();
  }
}

/** MLOps: Open Model Card (palette, a version item's click and its context menu). */
export function registerModelCardCommand(d: Disposer, deps: CardPageDeps): void {
  const cards = d.track(new ModelCards(deps));
  registerCommand(d, 'mlops.openModelCard', async (node?: unknown) => {
    const { model, version } = await pickVersion(await deps.client(), node, 'Model whose card to open');
    cards.show(model, version);
  });
}
