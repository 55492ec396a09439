import * as vscode from 'vscode';
import type { AbToHost, AbToWebview } from '../../../webviews/src/protocol/ab';
import type { MonitoringToHost, MonitoringToWebview } from '../../../webviews/src/protocol/monitoring';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import { pickVersion } from '../models/commands';
import { NO_ONNX } from '../models/model';
import { toAbResult, toMonitoring } from '../panels/adapters';
import { DataPanel } from '../panels/dataPanel';
import type { Disposer } from '../util/disposable';
import { ask, confirm, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { EndpointNode } from './model';
import { deployPlan, rollbackPlan, splitText } from './plan';
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
  const { model, version, onnx } = await pickVersion(c, node, 'Model to deploy');
  if (onnx === false) throw new Error(`${model} version ${version} cannot be deployed. ${NO_ONNX}`);
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
  const plan = deployPlan(existing.find((e) => e.name === name), `${model}/${version}`, strategy, weight);
  // Live traffic moves only after the user has seen the split before and after.
  if (plan.live) await confirm(`Move live traffic on ${name} to ${model}/${version}?`, `Deploy ${model}/${version}`, `${plan.warning ? `${plan.warning}\n\n` : ''}Now: ${plan.now}\nAfter: ${plan.next}`);
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
    const ep = (await api.endpoints(c)).find((e) => e.name === name);
    if (!ep) throw new Error(`Endpoint ${name} no longer exists.`);
    const plan = rollbackPlan(ep);
    if ('problem' in plan) throw new Error(plan.problem);
    await confirm(`Roll back ${name} to ${plan.to}?`, `Roll Back to ${plan.to}`, `Now: ${splitText(ep)}\nAfter: ${plan.to} 100% (${plan.from} stops serving)`);
    const reason = await ask({
      prompt: `Why roll ${name} back to ${plan.to}? (kept in the audit log)`,
      placeHolder: 'e.g. error rate up after the deploy',
      validateInput: (v) => (v.trim() ? null : 'A reason is required: it is what the audit log and the team will see'),
    });
    await withProgress(`Rolling back ${name} to ${plan.to}`, () => api.rollBack(c, name, reason));
    const now = (await api.endpoints(c)).find((e) => e.name === name);
    await done(`${name} rolled back: now serving ${splitText(now)}.`, { 'Show Audit Log': () => vscode.commands.executeCommand('mlops.showAuditLog') });
  });
  registerCommand(d, 'mlops.setTrafficWeight', async (node?: EndpointNode) => {
    const c = await client();
    const name = await pickEndpoint(c, node, 'Endpoint whose traffic split to change');
    const ep = (await api.endpoints(c)).find((e) => e.name === name);
    const stable = ep?.variants.find((v) => v.role === 'stable');
    const candidate = ep?.variants.find((v) => v.role === 'candidate');
    if (!ep || !stable || !candidate) throw new Error(`${name} serves one version only: start an A/B test or a canary first (MLOps: Start A/B Test).`);
    const cand = `${candidate.model_name}/${candidate.model_version}`;
    const chosen = await pick(
      [...[1, 5, 10, 25, 50, 75, 90, 100].filter((w) => w !== candidate.weight).map((w) => ({ label: `${w}%`, description: `${cand} ${w}% · ${stable.model_name}/${stable.model_version} ${100 - w}%` })), { label: '$(edit) Other…', description: '' }],
      { placeHolder: `Share of ${name}'s traffic for ${cand} (now ${candidate.weight}%)` },
    );
    const w = chosen.label.startsWith('$(')
      ? Number(await ask({ prompt: `Percent of traffic for ${cand}`, validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) <= 100 ? null : 'A whole number from 0 to 100') }))
      : Number(chosen.label.replace('%', ''));
    const after = { variants: [{ ...stable, weight: 100 - w }, { ...candidate, weight: w }] };
    await confirm(`Change the traffic split of ${name}?`, 'Set Traffic Weight', `Now: ${splitText(ep)}\nAfter: ${splitText(after)}${ep.status === 'canary' ? '\nThe canary ramp stops at this split.' : ''}`);
    const view = await withProgress(`Setting ${name} to ${splitText(after)}`, () => api.setWeights(c, name, { [stable.id]: 100 - w, [candidate.id]: w }));
    await done(`${name} now serves ${splitText(view)}.`, { 'Open Monitoring': () => vscode.commands.executeCommand('mlops.openMonitoring', { kind: 'endpoint', endpoint: view }) });
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
        const [predictions, heatmap, incidents] = await Promise.all([api.predictions(c, name), api.driftHeatmap(c, name), api.incidents(c, 'all', name).catch(() => [])]);
        return {
          type: 'monitoring/data',
          data: { ...toMonitoring(name, predictions), heatmap, incidents: incidents.slice(0, 50).map((i) => ({ id: i.id, kind: i.kind, severity: i.severity, status: i.status, opened_at: i.opened_at, resolved_at: i.resolved_at, summary: i.summary })) },
        };
      },
      (message) => ({ type: 'monitoring/error', message }),
    );
  });
}
