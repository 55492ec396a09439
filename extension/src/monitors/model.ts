import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import type { IncidentView, MonitorView } from '../../../backend/src/api/v1/contract-monitors';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export interface MonitorsSource {
  monitors(): Promise<MonitorView[]>;
  incidents(): Promise<IncidentView[]>;
}

export type MonitorsNode =
  | { kind: 'incident'; incident: IncidentView }
  | { kind: 'endpoint'; endpoint: string; monitors: MonitorView[] }
  | { kind: 'monitor'; monitor: MonitorView }
  | MessageNode;

const KIND_LABEL: Record<MonitorView['kind'], string> = {
  data_drift: 'Data drift',
  prediction_drift: 'Prediction drift',
  concept_drift: 'Concept drift',
  performance: 'Performance',
};

const STATUS_ICON: Record<string, { id: string; color?: string }> = {
  pass: { id: 'pass', color: 'testing.iconPassed' },
  fail: { id: 'error', color: 'testing.iconFailed' },
  insufficient_data: { id: 'circle-outline' },
  error: { id: 'warning', color: 'list.warningForeground' },
};

/** "in 4 min", "in 40 s", "due now". */
export function untilText(at: number, now: number): string {
  const s = Math.round((at - now) / 1000);
  if (s <= 0) return 'due now';
  if (s < 90) return `in ${s} s`;
  if (s < 90 * 60) return `in ${Math.round(s / 60)} min`;
  return `in ${Math.round(s / 3600)} h`;
}

function clock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Unresolved incidents on top (most severe first), then endpoints → their monitors with last status and next run. */
export class MonitorsModel implements TreeModel<MonitorsNode> {
  private readonly changed = new Emitter<MonitorsNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: { monitors: MonitorView[]; incidents: IncidentView[] } | undefined;

  constructor(
    private readonly source: () => Promise<MonitorsSource>,
    private readonly now: () => number = Date.now,
  ) {}

  async children(parent: MonitorsNode | undefined): Promise<MonitorsNode[]> {
    if (parent?.kind === 'endpoint') return parent.monitors.map((monitor) => ({ kind: 'monitor', monitor }));
    if (parent) return [];
    try {
      if (!this.cache) {
        const s = await this.source();
        const [monitors, incidents] = await Promise.all([s.monitors(), s.incidents()]);
        this.cache = { monitors, incidents };
      }
    } catch (e) {
      return [messageFor(e, 'Monitoring')];
    }
    const { monitors, incidents } = this.cache;
    if (monitors.length === 0) return [{ kind: 'message', text: 'No monitors yet: an endpoint gets drift, concept-drift and SLO monitors at its first deploy (MLOps: Deploy).' }];
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    const top = [...incidents].sort((a, b) => rank[a.severity] - rank[b.severity] || b.opened_at - a.opened_at).map((incident): MonitorsNode => ({ kind: 'incident', incident }));
    const byEndpoint = new Map<string, MonitorView[]>();
    for (const m of monitors) byEndpoint.set(m.endpoint, [...(byEndpoint.get(m.endpoint) ?? []), m]);
    return [...top, ...[...byEndpoint].map(([endpoint, ms]): MonitorsNode => ({ kind: 'endpoint', endpoint, monitors: ms }))];
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('drift') && !topics.includes('endpoints') && !topics.includes('audit')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  view(n: MonitorsNode): ItemView {
    switch (n.kind) {
      case 'incident': {
        const i = n.incident;
        return {
          id: `incident:${i.id}`,
          label: `#${i.id} ${KIND_LABEL[i.kind]} · ${i.endpoint}`,
          description: `${i.severity} · ${i.status} since ${clock(i.opened_at)}`,
          tooltip: `${i.summary}${i.ack_reason ? `\nAcknowledged by ${i.acknowledged_by}: ${i.ack_reason}` : ''}`,
          icon: i.status === 'acknowledged' ? { id: 'eye', color: 'list.warningForeground' } : i.severity === 'critical' ? { id: 'flame', color: 'testing.iconFailed' } : { id: 'bell-dot', color: 'list.warningForeground' },
          contextValue: i.status === 'open' ? 'incident.open' : 'incident',
          collapsible: 'none',
          command: { command: 'mlops.showIncident', title: 'Show Incident Evidence', arguments: [n] },
        };
      }
      case 'endpoint': {
        const failing = n.monitors.filter((m) => m.last_status === 'fail').length;
        const open = n.monitors.filter((m) => m.incident).length;
        return {
          id: `monitors:${n.endpoint}`,
          label: n.endpoint,
          description: open ? `${open} incident${open > 1 ? 's' : ''}` : failing ? `${failing} failing` : `${n.monitors.length} monitors`,
          icon: open || failing ? { id: 'error', color: 'testing.iconFailed' } : { id: 'pulse' },
          contextValue: 'endpoint',
          collapsible: 'collapsed',
        };
      }
      case 'monitor': {
        const m = n.monitor;
        const next = m.paused ? 'paused' : `next ${untilText(m.next_run_at, this.now())}`;
        return {
          id: `monitor:${m.endpoint}:${m.kind}`,
          label: KIND_LABEL[m.kind],
          description: `${m.last_status ? m.last_status.replace('_', ' ') : 'not run yet'} · ${next}`,
          tooltip: `${m.last_summary ?? 'No check has run yet.'}\nEvery ${m.config.interval_minutes} min over the newest ${m.config.window_rows} rows (at least ${m.config.min_rows}).`,
          icon: m.paused ? { id: 'debug-pause' } : (STATUS_ICON[m.last_status ?? ''] ?? { id: 'clock' }),
          contextValue: 'monitor',
          collapsible: 'none',
        };
      }
      case 'message':
        return messageView(n);
    }
  }
}
