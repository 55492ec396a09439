import * as vscode from 'vscode';
import type { IncidentView, MonitorResultView } from '../../../backend/src/api/v1/contract-monitors';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { localTime } from '../backend/logTail';
import type { Disposer } from '../util/disposable';
import { ask, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { MonitorsNode } from './model';

const SCHEME = 'mlops-incident';

/** An incident and the stored check that is its evidence, as markdown (local times). */
export function incidentMarkdown(i: IncidentView, evidence: MonitorResultView | null): string {
  const lines = [
    `# Incident #${i.id}: ${i.kind.replace('_', ' ')} on ${i.endpoint}`,
    '',
    `- **Status**: ${i.status} · **severity**: ${i.severity}`,
    `- **Opened**: ${localTime(i.opened_at)}: ${i.summary}`,
    ...(i.acknowledged_at ? [`- **Acknowledged**: ${localTime(i.acknowledged_at)} by ${i.acknowledged_by}: ${i.ack_reason}`] : []),
    ...(i.resolved_at ? [`- **Resolved**: ${localTime(i.resolved_at)} by ${i.resolved_by}: ${i.resolve_reason}`] : []),
    ...(i.evidence.features.length ? [`- **Features**: ${i.evidence.features.join(', ')}`] : []),
  ];
  if (evidence) {
    lines.push('', `## Evidence: check #${evidence.id} at ${localTime(evidence.checked_at)} (${evidence.status}, ${evidence.rows} rows)`, '', evidence.summary, '', '```json', JSON.stringify(evidence.details, null, 2), '```');
  }
  return lines.join('\n');
}

async function pickIncident(c: ApiClient, node: unknown, want: 'open' | 'unresolved'): Promise<IncidentView> {
  const n = node as MonitorsNode | undefined;
  if (n?.kind === 'incident') return n.incident;
  const all = (await api.incidents(c)).filter((i) => want === 'unresolved' || i.status === 'open');
  if (all.length === 0) throw new Error(want === 'open' ? 'there is no open incident to acknowledge' : 'there is no unresolved incident');
  return (await pick(all.map((i) => ({ label: `#${i.id} ${i.kind.replace('_', ' ')} · ${i.endpoint}`, description: `${i.severity} · ${i.status}`, detail: i.summary, i })), { placeHolder: 'Which incident?' })).i;
}

/** Acknowledge / Resolve (each asks why: the reason goes to the audit log), Show Incident Evidence, Run Monitor Now. */
export function registerMonitorCommands(d: Disposer, client: () => Promise<ApiClient>, changed: () => void): void {
  d.track(
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
      provideTextDocumentContent: async (uri) => {
        const c = await client();
        const i = await api.incident(c, Number(new URLSearchParams(uri.query).get('id')));
        const last = i.evidence.last_result_id ?? i.evidence.opened_result_id;
        return incidentMarkdown(i, last ? await api.monitorResult(c, last).catch(() => null) : null);
      },
    }),
  );
  const settle = async (node: unknown, action: 'acknowledge' | 'resolve') => {
    const c = await client();
    const i = await pickIncident(c, node, action === 'acknowledge' ? 'open' : 'unresolved');
    const reason = await ask({
      prompt: `Why ${action === 'acknowledge' ? 'acknowledge' : 'resolve'} incident #${i.id} (${i.kind.replace('_', ' ')} on ${i.endpoint})? Written to the audit log.`,
      validateInput: (v) => (v.trim() ? undefined : 'A reason is required'),
    });
    const after = await api.settleIncident(c, i.id, action, reason);
    changed();
    void vscode.window.setStatusBarMessage(`MLOps: incident #${after.id} ${after.status}`, 5000);
  };
  registerCommand(d, 'mlops.acknowledgeIncident', (node?: unknown) => settle(node, 'acknowledge'));
  registerCommand(d, 'mlops.resolveIncident', (node?: unknown) => settle(node, 'resolve'));
  registerCommand(d, 'mlops.showIncident', async (node?: unknown) => {
    const i = await pickIncident(await client(), node, 'unresolved');
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/incident-${i.id}.md`, query: new URLSearchParams({ id: String(i.id), at: String(Date.now()) }).toString() });
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
    await vscode.window.showTextDocument(doc, { preview: false });
  });
  registerCommand(d, 'mlops.runMonitorNow', async (node?: unknown) => {
    const c = await client();
    const n = node as MonitorsNode | undefined;
    const m =
      n?.kind === 'monitor'
        ? n.monitor
        : (await pick((await api.monitors(c)).map((x) => ({ label: `${x.endpoint} · ${x.kind.replace('_', ' ')}`, description: x.last_status ?? 'not run yet', x })), { placeHolder: 'Which monitor?' })).x;
    const r = await withProgress(`Checking ${m.kind.replace('_', ' ')} of ${m.endpoint}`, () => api.runMonitor(c, m.endpoint, m.kind));
    changed();
    await done(`${m.kind.replace('_', ' ')} of ${m.endpoint}: ${r.result.status.replace('_', ' ')}: ${r.result.summary}`, r.incident ? { 'Show Incident': () => vscode.commands.executeCommand('mlops.showIncident', { kind: 'incident', incident: r.incident }) } : {});
  });
}
