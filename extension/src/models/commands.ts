import * as vscode from 'vscode';
import type { UiModel } from '../../../backend/src/api/v1/contract-ui';
import type { ApiClient } from '../backend/client';
import type { ExperimentNode } from '../experiments/model';
import type { Disposer } from '../util/disposable';
import { ApiRequestError } from '../backend/http';
import { ask, Cancelled, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { ModelNode } from './model';

/** Aliases users already know from MLflow's docs; any other name can be typed. */
export const COMMON_ALIASES = ['champion', 'challenger', 'production', 'staging'];

export async function pickVersion(client: ApiClient, node: unknown, placeHolder: string): Promise<{ model: string; version: string }> {
  const n = node as ModelNode | undefined;
  if (n?.kind === 'version') return { model: n.model, version: n.version.version };
  const { models } = await client.models();
  if (models.length === 0) throw new Error('No registered models yet: register a run\'s model first (MLOps: Register Model).');
  const m = n?.kind === 'model' ? n.model : (await pick(models.map((x: UiModel) => ({ label: x.name, description: `${x.versions.length} versions`, model: x })), { placeHolder })).model;
  const fresh = models.find((x) => x.name === m.name) ?? m;
  const v = await pick(
    fresh.versions.map((x) => ({ label: `Version ${x.version}`, description: x.aliases.map((a) => `@${a}`).join(' '), version: x.version })),
    { placeHolder: `${m.name}: which version?` },
  );
  return { model: m.name, version: v.version };
}

export function registerModelCommands(d: Disposer, client: () => Promise<ApiClient>): void {
  registerCommand(d, 'mlops.registerModel', async (node?: ExperimentNode) => {
    const c = await client();
    const runId =
      node?.kind === 'run'
        ? node.run.run_id
        : await ask({ prompt: 'Run id whose logged model to register', validateInput: (v) => (/^[0-9a-f]{8,64}$/i.test(v.trim()) ? null : 'A run id is 32 hex characters') });
    const path = await ask({ prompt: 'Artifact path of the model inside the run', value: 'model' });
    const { models } = await c.models();
    const name = await ask({
      prompt: `Registered model name (existing: ${models.map((m) => m.name).join(', ') || 'none'})`,
      value: models[0]?.name ?? '',
      validateInput: (v) => (v.trim() ? null : 'A name is required'),
    });
    const r = await withProgress(`Registering ${name}`, () => c.registerModel(name, `runs:/${runId}/${path}`, runId));
    await done(`Registered ${name} version ${r.model_version.version}.`, {
      'Promote…': () => vscode.commands.executeCommand('mlops.promoteModel'),
      'Deploy…': () => vscode.commands.executeCommand('mlops.deployModel'),
    });
  });
  registerCommand(d, 'mlops.promoteModel', async (node?: ModelNode) => {
    const c = await client();
    const { model, version } = await pickVersion(c, node, 'Model to promote');
    const aliasPick = await pick([...COMMON_ALIASES.map((a) => ({ label: a })), { label: '$(edit) Other alias…' }], { placeHolder: `Alias to point at ${model} version ${version}` });
    const alias = aliasPick.label.startsWith('$(') ? await ask({ prompt: 'Alias', validateInput: (v) => (/^[A-Za-z0-9_-]+$/.test(v.trim()) ? null : 'Letters, digits, - and _ only') }) : aliasPick.label;
    const move = await setAliasThroughGate(c, model, alias, version);
    await done(`${model}@${alias} now points to version ${version}${move.overridden ? ' (promotion gate overridden)' : ''}.`, { 'Deploy…': () => vscode.commands.executeCommand('mlops.deployModel', { kind: 'version', model, version: { version, aliases: [alias] } }) });
  });
}

/** A refusal by the model's promotion gate (409 naming the failed conditions), as opposed to any other error. */
export const isGateRefusal = (e: unknown): e is ApiRequestError => e instanceof ApiRequestError && e.status === 409 && e.code === 'RESOURCE_CONFLICT' && e.message.startsWith('Promotion gate refused');

/**
 * Sets the alias; when @champion's promotion gate refuses, shows the refusal (each failed condition with its value)
 * and offers "Override with reason…", which asks for the reason the audit log keeps.
 */
async function setAliasThroughGate(c: ApiClient, model: string, alias: string, version: string): Promise<{ overridden: boolean }> {
  try {
    return await withProgress(`Setting @${alias}`, () => c.setAlias(model, alias, version));
  } catch (e) {
    if (!isGateRefusal(e)) throw e;
    const override = 'Override with reason…';
    const r = await vscode.window.showWarningMessage(`${model}@${alias} was not moved to version ${version}`, { modal: true, detail: e.message }, override);
    if (r !== override) throw new Cancelled();
    const reason = await ask({ prompt: `Why promote ${model} version ${version} to @${alias} although its gate fails? (kept in the audit log)`, validateInput: (v) => (v.trim() ? null : 'A reason is required') });
    return withProgress(`Setting @${alias} (override)`, () => c.setAlias(model, alias, version, { reason }));
  }
}
