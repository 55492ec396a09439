import * as vscode from 'vscode';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import type { CommandId, ItemContext } from '../ids';
import type { DisposableLike } from '../util/disposable';
import { Disposer } from '../util/disposable';

/** A tree item as plain data: the models produce these, so they are testable without VS Code. */
export interface ItemView {
  id?: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id, optionally with a theme colour id. */
  icon?: { id: string; color?: string };
  contextValue: ItemContext;
  collapsible: 'none' | 'collapsed' | 'expanded';
  command?: { command: CommandId; title: string; arguments?: unknown[] };
}

export interface TreeModel<N> {
  children(parent: N | undefined): Promise<N[]>;
  view(node: N): ItemView;
  /** Fires when the model's data changed; undefined means "everything". */
  readonly onDidChange: (fn: (node: N | undefined) => void) => DisposableLike;
  /** Drops cached data for these backend topics and fires onDidChange when any applied. */
  invalidate(topics: readonly EventTopic[]): void;
}

export function toTreeItem(v: ItemView): vscode.TreeItem {
  const state =
    v.collapsible === 'none'
      ? vscode.TreeItemCollapsibleState.None
      : v.collapsible === 'expanded'
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(v.label, state);
  if (v.id !== undefined) item.id = v.id;
  item.description = v.description;
  item.tooltip = v.tooltip;
  // Without this the accessible name is the tooltip; screen readers (and tests) should hear label and description.
  item.accessibilityInformation = { label: v.description ? `${v.label} ${v.description}` : v.label };
  item.contextValue = v.contextValue;
  if (v.icon) item.iconPath = new vscode.ThemeIcon(v.icon.id, v.icon.color ? new vscode.ThemeColor(v.icon.color) : undefined);
  if (v.command) item.command = v.command;
  return item;
}

/** Adapts a TreeModel to VS Code's TreeDataProvider. */
export class ModelTreeProvider<N> implements vscode.TreeDataProvider<N>, vscode.Disposable {
  private readonly d = new Disposer();
  private readonly changed = this.d.track(new vscode.EventEmitter<N | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(readonly model: TreeModel<N>) {
    this.d.track(model.onDidChange((n) => this.changed.fire(n)));
  }

  getTreeItem(node: N): vscode.TreeItem {
    return toTreeItem(this.model.view(node));
  }

  getChildren(node?: N): Promise<N[]> {
    return this.model.children(node);
  }

  dispose(): void {
    this.d.dispose();
  }
}
