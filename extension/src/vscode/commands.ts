import * as vscode from 'vscode';
import { ApiRequestError } from '../backend/http';
import { BackendDownError } from '../backend/state';
import { ITEM_COMMANDS, PALETTE_COMMANDS, type CommandId } from '../ids';
import type { Disposer } from '../util/disposable';

/** Thrown when the user dismisses a picker: the command ends quietly. */
export class Cancelled extends Error {}

export const titleOf = (id: CommandId): string => (PALETTE_COMMANDS as Record<string, string>)[id] ?? (ITEM_COMMANDS as Record<string, string>)[id] ?? id;

/**
 * Registers a command whose failures always end in a message with a next step: backend down → Restart / Show Logs;
 * a backend feature that has not landed → says so; anything else → the backend's message and Show Logs.
 */
export function registerCommand(d: Disposer, id: CommandId, fn: (...args: never[]) => unknown): void {
  d.track(
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } catch (e) {
        if (e instanceof Cancelled) return undefined;
        await reportError(id, e);
        return undefined;
      }
    }),
  );
}

async function reportError(id: CommandId, e: unknown): Promise<void> {
  const title = titleOf(id);
  if (e instanceof BackendDownError) {
    const pick = await vscode.window.showErrorMessage(`MLOps: ${title}: ${e.message}`, 'Restart Backend', 'Show Logs');
    if (pick === 'Restart Backend') await vscode.commands.executeCommand('mlops.restartBackend');
    if (pick === 'Show Logs') await vscode.commands.executeCommand('mlops.showLogs');
    return;
  }
  if (e instanceof ApiRequestError && e.notAvailable) {
    await vscode.window.showWarningMessage(`MLOps: ${title} is not available yet: this backend has no ${e.path.split('?')[0]} route (its feature has not landed).`);
    return;
  }
  const pick = await vscode.window.showErrorMessage(`MLOps: ${title} failed: ${(e as Error).message ?? String(e)}`, 'Show Logs');
  if (pick === 'Show Logs') await vscode.commands.executeCommand('mlops.showLogs');
}

export async function pick<T extends vscode.QuickPickItem>(items: T[] | Promise<T[]>, options: vscode.QuickPickOptions): Promise<T> {
  const r = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, ...options });
  if (!r) throw new Cancelled();
  return r;
}

export async function pickMany<T extends vscode.QuickPickItem>(items: T[] | Promise<T[]>, options: vscode.QuickPickOptions): Promise<T[]> {
  const r = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, ...options, canPickMany: true });
  if (!r || r.length === 0) throw new Cancelled();
  return r;
}

export async function ask(options: vscode.InputBoxOptions): Promise<string> {
  const r = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (r === undefined) throw new Cancelled();
  return r.trim();
}

/** Destructive actions ask first, in a modal; `detail` is the smaller text under the question. */
export async function confirm(message: string, action: string, detail?: string): Promise<void> {
  const r = await vscode.window.showWarningMessage(message, { modal: true, ...(detail ? { detail } : {}) }, action);
  if (r !== action) throw new Cancelled();
}

export function withProgress<T>(title: string, task: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `MLOps: ${title}` }, task);
}

/** Ends a long action with a notification offering the next step. */
export async function done(message: string, next: Partial<Record<string, () => unknown>>): Promise<void> {
  const labels = Object.keys(next);
  const r = await vscode.window.showInformationMessage(`MLOps: ${message}`, ...labels);
  if (r) await next[r]?.();
}
