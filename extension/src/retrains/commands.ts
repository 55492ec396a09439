import * as vscode from 'vscode';
import type { PolicyView, RetrainView } from '../../../backend/src/api/v1/contract-retrain';
import type { ApiClient } from '../backend/client';
import type { ModelNode } from '../models/model';
import type { MonitorsNode } from '../monitors/model';
import type { Disposer } from '../util/disposable';
import { ask, pick, registerCommand } from '../vscode/commands';
import type { RetrainsNode } from './model';

type Node = MonitorsNode | ModelNode | RetrainsNode | undefined;

async function policyFor(c: ApiClient, model?: string): Promise<PolicyView> {
  const all = (await c.get<{ policies: PolicyView[] }>('/api/v1/retrain/policies')).policies.filter((p) => !model || p.model === model);
  if (all.length === 0) throw new Error(`No retrain policy${model ? ` for ${model}` : ''}: set one first (mlops retrain policy set mlops.yaml)`);
  if (all.length === 1) return all[0]!;
  return (await pick(all.map((p) => ({ label: `${p.model} on ${p.endpoint}`, description: `policy #${p.id}`, p })), { placeHolder: 'Retrain which model on which endpoint?' })).p;
}

/**
 * Retrain Now (a manual retrain through POST /api/v1/retrains): on an incident (Monitors view, the incident's
 * notification) with the incident as its evidence; on a model (Models view) or a retrain (Retrains view) through its
 * policy; from the palette, a policy picked. Cancel Retrain ends a running one (asks why: audited).
 */
export function registerRetrainCommands(d: Disposer, client: () => Promise<ApiClient>, changed: () => void): void {
  registerCommand(d, 'mlops.retrainNow', async (node?: Node) => {
    const c = await client();
    let body: Record<string, unknown>;
    if (node?.kind === 'incident') body = { incident_id: node.incident.id, reason: `Retrain Now on incident #${node.incident.id}` };
    else if (node?.kind === 'retrain') body = { policy_id: node.retrain.policy_id };
    else body = { policy_id: (await policyFor(c, node?.kind === 'model' ? node.model.name : undefined)).id };
    const r = await c.post<RetrainView>('/api/v1/retrains', body);
    changed();
    await vscode.commands.executeCommand('mlops.retrains.focus');
    void vscode.window.setStatusBarMessage(`MLOps: retrain #${r.id} of ${r.model} on ${r.endpoint} started`, 5000);
  });
  registerCommand(d, 'mlops.cancelRetrain', async (node?: Node) => {
    const c = await client();
    const running = async () => {
      const rs = (await c.get<{ retrains: RetrainView[] }>('/api/v1/retrains')).retrains.filter((x) => !['deployed', 'rejected', 'failed', 'cancelled'].includes(x.status));
      if (rs.length === 0) throw new Error('No retrain is running');
      return (await pick(rs.map((x) => ({ label: `#${x.id} ${x.model} · ${x.endpoint}`, description: x.status, x })), { placeHolder: 'Cancel which retrain?' })).x;
    };
    const r = node?.kind === 'retrain' ? node.retrain : await running();
    const reason = await ask({ prompt: `Why cancel retrain #${r.id}? Written to the audit log.`, validateInput: (v) => (v.trim() ? undefined : 'A reason is required') });
    await c.post(`/api/v1/retrains/${r.id}/cancel`, { reason });
    changed();
  });
}
