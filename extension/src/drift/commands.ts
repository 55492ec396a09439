import type * as vscode from 'vscode';
import type { DriftToHost, DriftToWebview } from '../../../webviews/src/protocol/drift';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { pickEndpoint } from '../endpoints/commands';
import { DataPanel } from '../panels/dataPanel';
import type { Disposer } from '../util/disposable';
import { done, registerCommand, withProgress } from '../vscode/commands';
import type { DriftNode } from './model';

function endpointOf(node: unknown): unknown {
  const n = node as DriftNode | undefined;
  if (n?.kind === 'endpoint') return { kind: 'endpoint', endpoint: { name: n.drift.endpoint } };
  if (n?.kind === 'feature' || n?.kind === 'variant') return { kind: 'endpoint', endpoint: { name: n.endpoint } };
  return node;
}

/** `checked` refreshes the Drift tree: a check is new data that no backend event announces (scoring traffic publishes none). */
export function registerDriftCommands(d: Disposer, client: () => Promise<ApiClient>, extensionUri: vscode.Uri, checked: () => void, log: (line: string) => void = () => undefined): void {
  const report = (name: string) =>
    new DataPanel<DriftToWebview, DriftToHost>(
      extensionUri,
      { view: 'drift', viewType: 'mlops.drift', title: `Drift: ${name}` },
      async () => ({ type: 'drift/data', data: await api.driftPage(await client(), name) }),
      (message) => ({ type: 'drift/error', message }),
      async (m, reload) => {
        if (m.type === 'drift/check' || m.type === 'drift/refresh') {
          await reload();
          checked();
        } else if (m.type === 'drift/rendered') log(`[drift] ${name} rendered ${m.charts} charts (${m.theme})`);
      },
    );
  registerCommand(d, 'mlops.runDriftCheck', async (node?: unknown) => {
    const c = await client();
    const name = await pickEndpoint(c, endpointOf(node), 'Endpoint to check for drift');
    const r = await withProgress(`Checking ${name} for drift`, () => api.driftCheck(c, name));
    checked();
    const pending = r.variants.filter((v) => v.status !== 'ok');
    const drifted = r.variants.flatMap((v) => v.features.filter((f) => f.drift).map((f) => (r.variants.length > 1 ? `${f.feature} (${v.variant})` : f.feature)));
    const fallback = r.variants.some((v) => v.reference?.kind === 'first_window') ? ' (compared with the first served window: no training profile)' : '';
    const text =
      pending.length === r.variants.length
        ? `No drift verdict for ${name} yet: ${pending.map((v) => v.message ?? v.status).join('; ') || 'it serves nothing'}.`
        : drifted.length
          ? `${drifted.length} feature(s) drifted on ${name}: ${drifted.join(', ')}${fallback}.`
          : `No drift on ${name}${fallback}.`;
    await done(text, { 'Show Drift Report': () => report(name) });
  });
  registerCommand(d, 'mlops.showDriftReport', async (node?: unknown) => {
    report(await pickEndpoint(await client(), endpointOf(node), 'Endpoint'));
  });
}
