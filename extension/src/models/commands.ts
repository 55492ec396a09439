import * as vscode from 'vscode';
import type { UiModel, UiRunDetail } from '../../../backend/src/api/v1/contract-ui';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';
import type { ExperimentNode } from '../experiments/model';
import type { Disposer } from '../util/disposable';
import { ApiRequestError } from '../backend/http';
import { ask, Cancelled, done, pick, registerCommand, withProgress } from '../vscode/commands';
import type { ModelNode } from './model';

/** Aliases users already know from MLflow's docs; any other name can be typed. */
export const COMMON_ALIASES = ['champion', 'challenger', 'production', 'staging'];

export interface PickedVersion {
  model: string;
  version: string;
  /** The version's folder holds a servable ONNX file (undefined when the backend does not say). */
  onnx: boolean | undefined;
}

export async function pickVersion(client: ApiClient, node: unknown, placeHolder: string): Promise<PickedVersion> {
  const n = node as ModelNode | undefined;
  if (n?.kind === 'version') return { model: n.model, version: n.version.version, onnx: n.version.onnx };
  const { models } = await client.models();
  if (models.length === 0) throw new Error('No registered models yet: register a run\'s model first (MLOps: Register Model).');
  const m = n?.kind === 'model' ? n.model : (await pick(models.map((x: UiModel) => ({ label: x.name, description: `${x.versions.length} versions`, model: x })), { placeHolder })).model;
  const fresh = models.find((x) => x.name === m.name) ?? m;
  const v = await pick(
    fresh.versions.map((x) => ({ label: `Version ${x.version}`, description: [...x.aliases.map((a) => `@${a}`), ...(x.onnx === false ? ['no ONNX model'] : [])].join(' · '), version: x.version, onnx: x.onnx })),
    { placeHolder: `${m.name}: which version?` },
  );
  return { model: m.name, version: v.version, onnx: v.onnx };
}

/** A run's logged model, passed by the run page's Register… button. */
interface RunModelArg {
  kind: 'runModel';
  runId: string;
  source: string;
}

/** The source to register: one of the models the run logged, or an artifact folder of the run that exists. */
async function chooseSource(c: ApiClient, runId: string): Promise<string> {
  const d = await c.get<UiRunDetail>(`/api/v1/ui/runs/${api.enc(runId)}`);
  const other = { label: '$(edit) Another artifact folder…', description: 'a folder of this run that holds a model', source: '' };
  const items = d.models.map((m) => ({ label: m.name, description: `${m.flavors.join(', ') || 'no MLmodel'} · ${m.onnx ? 'ONNX' : 'no ONNX model (cannot be deployed)'}`, detail: m.source, source: m.source }));
  const chosen = await pick([...items, other], {
    placeHolder: items.length ? `Model logged by run ${d.run.name} to register` : `Run ${d.run.name} logged no model: enter the artifact folder of one`,
    matchOnDetail: true,
  });
  if (chosen.source) return chosen.source;
  const exists = async (path: string) => {
    const r = await c.get<{ files?: unknown[] }>('/api/2.0/mlflow/artifacts/list', { run_id: runId, path });
    return (r.files?.length ?? 0) > 0;
  };
  const path = await ask({
    prompt: `Artifact folder of run ${d.run.name} that holds the model`,
    value: 'model',
    validateInput: async (v) => {
      const p = v.trim().replace(/^\/+|\/+$/g, '');
      if (!p) return 'A folder inside the run is required';
      if (p.split('/').includes('..')) return "'..' is not allowed";
      return (await exists(p).catch(() => false)) ? null : `No artifact folder '${p}' in run ${d.run.name}${d.artifacts.length ? ` (it has ${[...new Set(d.artifacts.map((a) => a.path.split('/')[0]))].slice(0, 8).join(', ')})` : ' (it has no artifacts)'}`;
    },
  });
  return `runs:/${runId}/${path.replace(/^\/+|\/+$/g, '')}`;
}

export function registerModelCommands(d: Disposer, client: () => Promise<ApiClient>, pickRun: () => Promise<string>): void {
  registerCommand(d, 'mlops.registerModel', async (node?: ExperimentNode | RunModelArg) => {
    const c = await client();
    let runId: string;
    let source: string;
    if (node?.kind === 'runModel') ({ runId, source } = node);
    else {
      runId = node?.kind === 'run' ? node.run.run_id : await pickRun();
      source = await chooseSource(c, runId);
    }
    const { models } = await c.models();
    const name = await ask({
      prompt: `Registered model name for ${source} (existing: ${models.map((m) => m.name).join(', ') || 'none'})`,
      value: models[0]?.name ?? '',
      validateInput: (v) => (v.trim() ? null : 'A name is required'),
    });
    const r = await withProgress(`Registering ${name}`, () => c.registerModel(name, source, runId));
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
    // Moving @champion off a version an endpoint serves is a decision the team should be able to read later.
    let reason: string | undefined;
    if (alias === 'champion') {
      const holder = (await c.models()).models.find((m) => m.name === model)?.versions.find((v) => v.aliases.includes('champion'));
      const deployed = await api.deployedVersions(c).catch(() => new Set<string>());
      if (holder && holder.version !== version && deployed.has(`${model}/${holder.version}`)) {
        reason = await ask({
          prompt: `Why move @champion off version ${holder.version}, which an endpoint serves, to version ${version}? (kept in the audit log)`,
          placeHolder: 'e.g. version 3 wins the A/B test on accuracy',
          validateInput: (v) => (v.trim() ? null : 'A reason is required: it is what the audit log and the team will see'),
        });
      }
    }
    const move = await setAliasThroughGate(c, model, alias, version, reason);
    await done(`${model}@${alias} now points to version ${version}${move.overridden ? ' (promotion gate overridden)' : ''}.`, { 'Deploy…': () => vscode.commands.executeCommand('mlops.deployModel', { kind: 'version', model, version: { version, aliases: [alias] } }) });
  });
}

/** A refusal by the model's promotion gate (409 naming the failed conditions), as opposed to any other error. */
export const isGateRefusal = (e: unknown): e is ApiRequestError => e instanceof ApiRequestError && e.status === 409 && e.code === 'RESOURCE_CONFLICT' && e.message.startsWith('Promotion gate refused');

/**
 * Sets the alias; when @champion's promotion gate refuses, shows the refusal (each failed condition with its value)
 * and offers "Override with reason…", which asks for the reason the audit log keeps.
 */
async function setAliasThroughGate(c: ApiClient, model: string, alias: string, version: string, reason?: string): Promise<{ overridden: boolean }> {
  try {
    return await withProgress(`Setting @${alias}`, () => c.setAlias(model, alias, version, { reason }));
  } catch (e) {
    if (!isGateRefusal(e)) throw e;
    const override = 'Override with reason…';
    const r = await vscode.window.showWarningMessage(`${model}@${alias} was not moved to version ${version}`, { modal: true, detail: e.message }, override);
    if (r !== override) throw new Cancelled();
    const why = await ask({ prompt: `Why promote ${model} version ${version} to @${alias} although its gate fails? (kept in the audit log)`, validateInput: (v) => (v.trim() ? null : 'A reason is required') });
    return withProgress(`Setting @${alias} (override)`, () => c.setAlias(model, alias, version, { reason: why, override: true }));
  }
}
