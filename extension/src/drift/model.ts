import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import type { DriftEndpoint, DriftFeature, Severity } from '../../../webviews/src/protocol/drift';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export type { DriftEndpoint, DriftFeature, Severity };

export interface DriftSource {
  drift(): Promise<DriftEndpoint[]>;
}

export type DriftNode = { kind: 'endpoint'; drift: DriftEndpoint } | { kind: 'feature'; endpoint: string; feature: DriftFeature } | MessageNode;

const RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2, none: 3 };
const ICON: Record<Severity, { id: string; color?: string }> = {
  high: { id: 'flame', color: 'testing.iconFailed' },
  medium: { id: 'warning', color: 'list.warningForeground' },
  low: { id: 'info', color: 'charts.yellow' },
  none: { id: 'pass', color: 'testing.iconPassed' },
};

export function worst(features: readonly DriftFeature[]): Severity {
  return features.reduce<Severity>((w, f) => (RANK[f.severity] < RANK[w] ? f.severity : w), 'none');
}

/** Endpoints → features, most drifted first. */
export class DriftModel implements TreeModel<DriftNode> {
  private readonly changed = new Emitter<DriftNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: DriftEndpoint[] | undefined;

  constructor(private readonly source: () => Promise<DriftSource>) {}

  async children(parent: DriftNode | undefined): Promise<DriftNode[]> {
    if (!parent) {
      try {
        this.cache ??= await (await this.source()).drift();
      } catch (e) {
        return [messageFor(e, 'Drift monitoring')];
      }
      if (this.cache.length === 0) return [{ kind: 'message', text: 'No drift checks yet: run MLOps: Run Drift Check on an endpoint.' }];
      return this.cache.map((drift) => ({ kind: 'endpoint', drift }));
    }
    if (parent.kind !== 'endpoint') return [];
    return [...parent.drift.features].sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.score - a.score).map((feature) => ({ kind: 'feature', endpoint: parent.drift.endpoint, feature }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('drift') && !topics.includes('endpoints')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  view(n: DriftNode): ItemView {
    switch (n.kind) {
      case 'endpoint': {
        const w = worst(n.drift.features);
        return {
          id: `drift:${n.drift.endpoint}`,
          label: n.drift.endpoint,
          description: `${n.drift.features.filter((f) => f.severity !== 'none').length} of ${n.drift.features.length} features drifted`,
          icon: ICON[w],
          contextValue: 'driftEndpoint',
          collapsible: 'collapsed',
        };
      }
      case 'feature': {
        const f = n.feature;
        return {
          id: `drift:${n.endpoint}:${f.feature}`,
          label: f.feature,
          description: `${f.severity} · ${f.test} ${f.score.toFixed(3)}${f.p_value != null ? ` (p=${f.p_value.toPrecision(2)})` : ''}`,
          icon: ICON[f.severity],
          contextValue: 'driftFeature',
          collapsible: 'none',
        };
      }
      case 'message':
        return messageView(n);
    }
  }
}
