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
  if (n?.kind === 'feature') return { kind: 'endpoint', endpoint: { name: n.endpoint } };
  return node;
}

export function registerDriftCommands(d: Disposer, client: () => Promise<ApiClient>, extensionUri: vscode.Uri): void {
  const report = (name: string) =>
    new DataPanel<DriftToWebview, DriftToHost>(
      extensionUri,
      { view: 'drift', viewType: 'mlops.drift', title: `Drift: ${name}` },
      async () => {
        const all = await api.drift(await client());
        const r = all.find((x) => x.endpoint === name);
        return r ? { type: 'drift/data', report: r } : { type: 'drift/error', message: `No drift check has run on ${name} yet. Use Run Drift Check.` };
      },
      (message) => ({ type: 'drift/error', message }),
      async (m, reload) => {
        if (m.type === 'drift/check') {
          await api.driftCheck(await client(), name);
          await reload();
        }
      },
    );
  registerCommand(d, 'mlops.runDriftCheck', async (node?: unknown) => {
    const c = await client();
    const name = await pickEndpoint(c, endpointOf(node), 'Endpoint to check for drift');
    const r = await withProgress(`Checking ${name} for drift`, () => api.driftCheck(c, name));
    const drifted = (r.features ?? []).filter((f) => f.severity !== 'none');
    await done(drifted.length ? `${drifted.length} feature(s) drifted on ${name}: ${drifted.map((f) => f.feature).join(', ')}.` : `No drift on ${name}.`, {
      'Show Drift Report': () => report(name),
    });
  });
  registerCommand(d, 'mlops.showDriftReport', async (node?: unknown) => {
    report(await pickEndpoint(await client(), endpointOf(node), 'Endpoint'));
  });
}
