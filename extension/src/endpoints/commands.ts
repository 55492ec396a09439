import * as vscode from 'vscode';
import type { AbToHost, AbToWebview } from '../../../webviews/src/protocol/ab';
import type { MonitoringToHost, MonitoringToWebview } from '../../../webviews/src/protocol/monitoring';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { pickVersion } from '../models/commands';
import { toAbResult, toMonitoring } from '../panels/adapters';
import { DataPanel } from '../panels/dataPanel';
import type { Disposer } from '../util/disposable';
import { ask, confirm, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { EndpointNode } from './model';
import { promotePlan } from './promote';

type Strategy = api.DeployBody['strategy'];
const STRATEGIES: { label: string; detail: string; strategy: Strategy }[] = [
  { label: 'Replace', detail: 'Send all traffic to the new version at once', strategy: 'replace' },
  { label: 'Canary', detail: 'Ramp 1% → 5% → 10% → 25% → 50% → 100%, rolling back if guardrails trip', strategy: 'canary' },
  { label: 'A/B test', detail: 'Split traffic between the current and the new version and compare them', strategy: 'ab' },
  { label: 'Shadow', detail: 'Mirror traffic to the new version; users still get the current answers', strategy: 'shadow' },
];

export async function pickEndpoint(c: ApiClient, node: unknown, placeHolder: string): Promise<string> {
  const n = node as EndpointNode | { kind: 'driftEndpoint'; endpoint: string } | undefined;
  if (n?.kind === 'endpoint') return n.endpoint.name;
  if (n?.kind === 'variant') return n.endpoint;
  const eps = await api.endpoints(c);
  if (eps.length === 0) throw new Error('No endpoints yet: deploy a model version first (MLOps: Deploy).');
  return (await pick(eps.map((e) => ({ label: e.name, description: `${e.status} · ${e.variants.map((v) => `${v.model_name}/${v.model_version} ${v.weight}%`).join(', ')}` })), { placeHolder })).label;
}

async function deployFlow(c: ApiClient, node: unknown, forced?: Strategy): Promise<void> {
  const { model, version } = await pickVersion(c, node, 'Model to deploy');
  const existing = await api.endpoints(c).catch(() => []);
  const endpoint = existing.length
    ? (await pick([...existing.map((e) => ({ label: e.name, description: e.status })), { label: '$(add) New endpoint…', description: '' }], { placeHolder: 'Endpoint' })).label
    : model;
  const name = endpoint.startsWith('$(') ? await ask({ prompt: 'Endpoint name', value: model, validateInput: (v) => (/^[A-Za-z0-9_.-]+$/.test(v.trim()) ? null : 'Letters, digits, ., - and _ only') }) : endpoint;
  const strategy = forced ?? (await pick(STRATEGIES, { placeHolder: `How should ${name} switch to ${model}/${version}?` })).strategy;
  let weight: number | undefined;
  if (strategy === 'ab' || strategy === 'shadow') {
    const weights = strategy === 'ab' ? [10, 25, 50] : [100, 50, 10];
    weight = Number((await pick(weights.map((w) => ({ label: `${w}%`, description: strategy === 'ab' ? 'of traffic to the new version' : 'of traffic mirrored' })), { placeHolder: 'Weight' })).label.replace('%', ''));
  }
  const view = await withProgress(`Deploying ${model}/${version} to ${name} (${strategy})`, () => api.deploy(c, name, { model: `${model}/${version}`, strategy, ...(weight !== undefined ? { weight } : {}) }));
  const split = view.variants?.map((v) => `${v.model_name}/${v.model_version} ${v.weight}%`).join(', ') ?? '';
  await done(`${name} is ${view.status ?? 'updated'}${split ? `: ${split}` : ''}.`, {
    'Open Monitoring': () => vscode.commands.executeCommand('mlops.openMonitoring', { kind: 'endpoint', endpoint: view }),
    ...(strategy === 'ab' ? { 'Show A/B Results': () => vscode.commands.executeCommand('mlops.showAbResults', { kind: 'endpoint', endpoint: view }) } : {}),
    'Roll Back': () => vscode.commands.executeCommand('mlops.rollBack', { kind: 'endpoint', endpoint: view }),
  });
}

export function registerEndpointCommands(d: Disposer, client: () => Promise<ApiClient>, extensionUri: vscode.Uri): void {
  registerCommand(d, 'mlops.deployModel', async (node?: unknown) => deployFlow(await client(), node));
  registerCommand(d, 'mlops.startAbTest', async (node?: unknown) => deployFlow(await client(), node, 'ab'));
  registerCommand(d, 'mlops.rollBack', async (node?: EndpointNode) => {
    const c = await client();
    const name = await pickEndpoint(c, node, 'Endpoint to roll back');
    await confirm(`Roll back ${name}? It returns all traffic to the previous stable version.`, 'Roll Back');
    await withProgress(`Rolling back ${name}`, () => api.rollBack(c, name, 'rolled back from VS Code'));
    const stable = (await api.endpoints(c)).find((e) => e.name === name)?.variants.find((v) => v.role === 'stable');
    await done(`${name} rolled back${stable ? `: now serving ${stable.model_name}/${stable.model_version}` : ''}.`, { 'Show Audit Log': () => vscode.commands.executeCommand('mlops.showAuditLog') });
  });
  registerCommand(d, 'mlops.showAbResults', async (node?: EndpointNode) => {
    const c = await client();
    const name = await pickEndpoint(c, node, 'Endpoint with an A/B test');
    new DataPanel<AbToWebview, AbToHost>(
      extensionUri,
      { view: 'ab', viewType: 'mlops.ab', title: `A/B: ${name}` },
      async () => ({ type: 'ab/data', result: toAbResult(name, await api.abResults(await client(), name)) }),
      (message) => ({ type: 'ab/error', message }),
      async (m, reload) => {
        if (m.type === 'ab/promote') {
          const c = await client();
          const plan = promotePlan((await api.endpoints(c)).find((e) => e.name === name), name, m.variant);
          await confirm(plan.question, 'Promote');
          await api.promoteCandidate(c, name, plan.next);
        } else if (m.type === 'ab/rollBack') await vscode.commands.executeCommand('mlops.rollBack', { kind: 'endpoint', endpoint: { name } });
        await reload();
      },
    );
  });
  registerCommand(d, 'mlops.openMonitoring', async (node?: EndpointNode) => {
    const c = await client();
    const name = await pickEndpoint(c, node, 'Endpoint to monitor');
    new DataPanel<MonitoringToWebview, MonitoringToHost>(
      extensionUri,
      { view: 'monitoring', viewType: 'mlops.monitoring', title: `Monitoring: ${name}` },
      async () => {
        const c = await client();
        const [predictions, heatmap] = await Promise.all([api.predictions(c, name), api.driftHeatmap(c, name)]);
        return { type: 'monitoring/data', data: { ...toMonitoring(name, predictions), heatmap } };
      },
      (message) => ({ type: 'monitoring/error', message }),
    );
  });
}
