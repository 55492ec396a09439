import type { RetrainView } from '../../../backend/src/api/v1/contract-retrain';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export interface RetrainsSource {
  retrains(): Promise<RetrainView[]>;
}

export type RetrainsNode = { kind: 'retrain'; retrain: RetrainView } | MessageNode;

const ENDED = new Set<RetrainView['status']>(['deployed', 'rejected', 'failed', 'cancelled']);
const ICON: Partial<Record<RetrainView['status'], { id: string; color?: string }>> = {
  deployed: { id: 'pass', color: 'testing.iconPassed' },
  rejected: { id: 'circle-slash', color: 'list.warningForeground' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'debug-stop' },
};

/** The verdict of the offline comparison (and the rollout), as the ledger records it. */
export function decisionText(r: RetrainView): string {
  const d = r.decision as { verdict?: string; accepted?: boolean; challenger_accuracy?: number; champion_accuracy?: number } | null;
  if (!d) return '';
  const acc = typeof d.challenger_accuracy === 'number' && typeof d.champion_accuracy === 'number' ? ` (${(d.challenger_accuracy * 100).toFixed(1)} % vs ${(d.champion_accuracy * 100).toFixed(1)} %)` : '';
  return `${d.verdict ?? (d.accepted ? 'accepted' : 'not compared')}${acc}`;
}

/** The retraining ledger, newest first: status, trigger, model and challenger version, the decision. */
export class RetrainsModel implements TreeModel<RetrainsNode> {
  private readonly changed = new Emitter<RetrainsNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: RetrainView[] | undefined;

  constructor(private readonly source: () => Promise<RetrainsSource>) {}

  async children(parent: RetrainsNode | undefined): Promise<RetrainsNode[]> {
    if (parent) return [];
    try {
      this.cache ??= await (await this.source()).retrains();
    } catch (e) {
      return [messageFor(e, 'Retrains')];
    }
    if (this.cache.length === 0) return [{ kind: 'message', text: 'No retrains yet: set a policy (mlops retrain policy set), then Retrain Now on a model or an incident.' }];
    return this.cache.map((retrain) => ({ kind: 'retrain', retrain }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('retrains') && !topics.includes('audit')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  view(n: RetrainsNode): ItemView {
    if (n.kind === 'message') return messageView(n);
    const r = n.retrain;
    const ended = ENDED.has(r.status);
    const incident = r.incident_id ? ` · incident #${r.incident_id}` : '';
    const decision = decisionText(r);
    return {
      id: `retrain:${r.id}`,
      label: `#${r.id} ${r.model}${r.challenger_version ? `/${r.challenger_version}` : ''} · ${r.endpoint}`,
      description: `${r.status.replace('_', ' ')} · ${r.trigger}${incident}${decision ? ` · ${decision}` : ''}`,
      tooltip: [`${r.reason}`, ...r.transitions.map((t) => `${new Date(t.at).toLocaleTimeString()} ${t.status}: ${t.reason}`)].join('\n'),
      icon: ICON[r.status] ?? { id: 'sync~spin' },
      contextValue: ended ? 'retrain' : 'retrain.active',
      collapsible: 'none',
    };
  }
}
