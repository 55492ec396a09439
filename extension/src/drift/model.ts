import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import type { DriftEndpoint, DriftFeature, Severity, VariantDrift } from '../../../webviews/src/protocol/drift';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export type { DriftEndpoint, DriftFeature, Severity };

export interface DriftSource {
  drift(): Promise<DriftEndpoint[]>;
}

export type DriftNode =
  | { kind: 'endpoint'; drift: DriftEndpoint }
  | { kind: 'variant'; endpoint: string; variant: VariantDrift }
  | { kind: 'feature'; endpoint: string; variant: string; feature: DriftFeature }
  | MessageNode;

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

const featuresOf = (e: DriftEndpoint): DriftFeature[] => e.variants.flatMap((v) => v.features);

/** The score shown beside a feature: PSI (every kind has it) and the KS or chi-square p-value. */
function scoreText(f: DriftFeature): string {
  const psi = f.methods.find((m) => m.method === 'psi');
  const p = f.methods.find((m) => m.p_value !== undefined);
  return `${psi ? `psi ${psi.score.toFixed(3)}` : ''}${p?.p_value !== undefined ? ` (${p.method} p=${p.p_value.toPrecision(2)})` : ''}`;
}

function variantChildren(endpoint: string, v: VariantDrift): DriftNode[] {
  if (v.status !== 'ok') return [{ kind: 'message', text: v.message ?? v.status }];
  return [...v.features].sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.votes - a.votes || a.feature.localeCompare(b.feature)).map((feature) => ({ kind: 'feature', endpoint, variant: v.variant, feature }));
}

/** Endpoints → features (or → variants → features when several versions take traffic), most drifted first. */
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
      // No items: the view's welcome (package.json viewsWelcome) says what to do, with a button.
      if (this.cache.length === 0) return [];
      return this.cache.map((drift) => ({ kind: 'endpoint', drift }));
    }
    if (parent.kind === 'variant') return variantChildren(parent.endpoint, parent.variant);
    if (parent.kind !== 'endpoint') return [];
    const vs = parent.drift.variants;
    if (vs.length === 0) return [{ kind: 'message', text: 'This endpoint serves nothing.' }];
    if (vs.length === 1) return variantChildren(parent.drift.endpoint, vs[0]!);
    return vs.map((variant) => ({ kind: 'variant', endpoint: parent.drift.endpoint, variant }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('drift') && !topics.includes('endpoints')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  view(n: DriftNode): ItemView {
    switch (n.kind) {
      case 'endpoint': {
        const fs = featuresOf(n.drift);
        const pending = n.drift.variants.every((v) => v.status !== 'ok');
        const fallback = n.drift.variants.some((v) => v.reference?.kind === 'first_window');
        return {
          id: `drift:${n.drift.endpoint}`,
          label: n.drift.endpoint,
          description: pending ? 'no verdict yet' : `${fs.filter((f) => f.drift).length} of ${fs.length} features drifted${fallback ? ' (vs first served window)' : ''}`,
          tooltip: n.drift.variants.map((v) => `${v.variant}: ${v.reference ? `${v.reference.kind === 'training' ? 'training profile' : 'first served window'} (${v.reference.source})` : (v.message ?? v.status)}`).join('\n'),
          icon: pending ? { id: 'circle-outline' } : ICON[worst(fs)],
          contextValue: 'driftEndpoint',
          collapsible: 'collapsed',
        };
      }
      case 'variant': {
        const v = n.variant;
        return {
          id: `drift:${n.endpoint}:${v.variant}`,
          label: v.variant,
          description: v.status === 'ok' ? `${v.role} · ${v.drifted_features} of ${v.features.length} drifted` : `${v.role} · ${v.status.replace('_', ' ')}`,
          icon: v.status === 'ok' ? ICON[worst(v.features)] : { id: 'circle-outline' },
          contextValue: 'driftEndpoint',
          collapsible: 'collapsed',
        };
      }
      case 'feature': {
        const f = n.feature;
        return {
          id: `drift:${n.endpoint}:${n.variant}:${f.feature}`,
          label: f.feature,
          description: `${f.severity} · ${scoreText(f)} · ${f.votes}/${f.methods.length} votes`,
          tooltip: f.methods.map((m) => `${m.method}: ${m.p_value !== undefined ? `p=${m.p_value.toPrecision(3)}` : m.score.toPrecision(3)} (threshold ${m.threshold.toPrecision(3)})${m.drift ? ' — drift' : ''}`).join('\n'),
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
