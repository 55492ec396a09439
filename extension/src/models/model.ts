import type { EventTopic, UiModel, UiModelList, UiModelVersion } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export interface ModelsSource {
  models(): Promise<UiModelList>;
  /** `name/version` keys of versions an endpoint serves; empty when serving is not available. */
  deployed(): Promise<Set<string>>;
}

/** Why a version without an ONNX file cannot be deployed, and what to do about it. */
export const NO_ONNX = 'No ONNX model: the serving engine runs ONNX only. Convert the model (e.g. skl2onnx) and log it with mlflow.onnx.log_model, then register that.';

export type ModelNode = { kind: 'model'; model: UiModel } | { kind: 'version'; model: string; version: UiModelVersion; deployed: boolean } | MessageNode;

/** Registered models → versions, with aliases and a marker on versions an endpoint serves. */
export class ModelsModel implements TreeModel<ModelNode> {
  private readonly changed = new Emitter<ModelNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: { models: UiModel[]; deployed: Set<string> } | undefined;

  constructor(private readonly source: () => Promise<ModelsSource>) {}

  async children(parent: ModelNode | undefined): Promise<ModelNode[]> {
    if (!this.cache) {
      try {
        const src = await this.source();
        const [{ models }, deployed] = await Promise.all([src.models(), src.deployed().catch(() => new Set<string>())]);
        this.cache = { models, deployed };
      } catch (e) {
        return parent ? [] : [messageFor(e, 'Models')];
      }
    }
    const { models, deployed } = this.cache;
    if (!parent) {
      // No items: the view's welcome (package.json viewsWelcome) says what to do, with a button.
      if (models.length === 0) return [];
      return models.map((model) => ({ kind: 'model', model }));
    }
    if (parent.kind !== 'model') return [];
    const m = models.find((x) => x.name === parent.model.name) ?? parent.model;
    return m.versions.map((version) => ({ kind: 'version', model: m.name, version, deployed: deployed.has(`${m.name}/${version.version}`) }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('models') && !topics.includes('endpoints')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  /** Models as last loaded (for quick picks). */
  loaded(): UiModel[] {
    return this.cache?.models ?? [];
  }

  view(n: ModelNode): ItemView {
    switch (n.kind) {
      case 'model': {
        const aliases = n.model.versions.flatMap((v) => v.aliases.map((a) => `@${a}`));
        return {
          id: `model:${n.model.name}`,
          label: n.model.name,
          description: `${n.model.versions.length} version${n.model.versions.length === 1 ? '' : 's'}${aliases.length ? ` · ${aliases.join(' ')}` : ''}`,
          icon: { id: 'package' },
          contextValue: 'model',
          collapsible: 'collapsed',
        };
      }
      case 'version': {
        const v = n.version;
        const parts = [...v.aliases.map((a) => `@${a}`), ...(n.deployed ? ['● deployed'] : []), ...(v.onnx ? [] : ['no ONNX model'])];
        return {
          id: `version:${n.model}/${v.version}`,
          label: `Version ${v.version}`,
          description: parts.join(' · '),
          tooltip: `${n.model} version ${v.version}\nStatus ${v.status}\nSource ${v.source}${v.run_id ? `\nRun ${v.run_id}` : ''}${n.deployed ? '\nServed by an endpoint' : ''}${v.onnx ? '' : `\n${NO_ONNX}`}`,
          icon: n.deployed ? { id: 'rocket', color: 'charts.green' } : v.onnx ? { id: 'versions' } : { id: 'circle-slash', color: 'disabledForeground' },
          contextValue: n.deployed ? 'modelVersion.deployed' : 'modelVersion',
          collapsible: 'none',
          command: { command: 'mlops.openModelCard', title: 'Open Model Card', arguments: [n] },
        };
      }
      case 'message':
        return messageView(n);
    }
  }
}
