import { BackendDownError } from '../backend/state';
import type { ItemView } from './tree';

/** A one-line explanation shown in place of an empty or failed view: never a blank view. */
export interface MessageNode {
  kind: 'message';
  text: string;
  tooltip?: string;
  action?: 'restart' | 'logs' | 'refresh';
}

export function messageFor(err: unknown, what: string): MessageNode {
  if (err instanceof BackendDownError) {
    const starting = err.state.kind === 'starting';
    return { kind: 'message', text: starting ? 'Starting the MLOps backend…' : `${err.message} Click to restart.`, tooltip: err.message, ...(starting ? {} : { action: 'restart' as const }) };
  }
  const e = err as { notAvailable?: boolean; message?: string };
  if (e.notAvailable) return { kind: 'message', text: `${what} is not available in this backend yet.`, tooltip: e.message ?? '' };
  return { kind: 'message', text: `Could not load ${what.toLowerCase()}: ${e.message ?? String(err)}`, tooltip: 'Click to show the backend logs', action: 'logs' };
}

export function messageView(n: MessageNode): ItemView {
  const command =
    n.action === 'restart'
      ? { command: 'mlops.restartBackend' as const, title: 'Restart Backend' }
      : n.action === 'logs'
        ? { command: 'mlops.showLogs' as const, title: 'Show Logs' }
        : n.action === 'refresh'
          ? { command: 'mlops.refresh' as const, title: 'Refresh' }
          : undefined;
  return {
    label: n.text,
    tooltip: n.tooltip ?? n.text,
    contextValue: 'message',
    collapsible: 'none',
    icon: { id: n.action === 'restart' || n.action === 'logs' ? 'warning' : 'info' },
    ...(command ? { command } : {}),
  };
}
