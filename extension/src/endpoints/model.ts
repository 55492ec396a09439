import type { EndpointView, VariantView } from '../../../backend/src/services/serving/endpoint';
import type { EventTopic } from '../../../backend/src/api/v1/contract-ui';
import { Emitter } from '../util/emitter';
import { messageFor, messageView, type MessageNode } from '../vscode/messageNode';
import type { ItemView, TreeModel } from '../vscode/tree';

export type { EndpointView, VariantView };

export interface EndpointsSource {
  endpoints(): Promise<EndpointView[]>;
}

export type EndpointNode = { kind: 'endpoint'; endpoint: EndpointView } | { kind: 'variant'; endpoint: string; variant: VariantView } | MessageNode;

const HEALTH_ICON: Record<EndpointView['health'], { id: string; color: string }> = {
  ok: { id: 'pass-filled', color: 'testing.iconPassed' },
  degraded: { id: 'warning', color: 'list.warningForeground' },
  down: { id: 'error', color: 'testing.iconFailed' },
};

/** Endpoints → variants with their traffic weight, role and recent health. */
export class EndpointsModel implements TreeModel<EndpointNode> {
  private readonly changed = new Emitter<EndpointNode | undefined>();
  readonly onDidChange = this.changed.event;
  private cache: EndpointView[] | undefined;

  constructor(private readonly source: () => Promise<EndpointsSource>) {}

  async children(parent: EndpointNode | undefined): Promise<EndpointNode[]> {
    if (!parent) {
      try {
        this.cache ??= await (await this.source()).endpoints();
      } catch (e) {
        return [messageFor(e, 'Serving')];
      }
      if (this.cache.length === 0) return [{ kind: 'message', text: 'No endpoints yet: deploy a model version with MLOps: Deploy.' }];
      return this.cache.map((endpoint) => ({ kind: 'endpoint', endpoint }));
    }
    if (parent.kind !== 'endpoint') return [];
    return parent.endpoint.variants.map((variant) => ({ kind: 'variant', endpoint: parent.endpoint.name, variant }));
  }

  invalidate(topics: readonly EventTopic[]): void {
    if (!topics.includes('endpoints')) return;
    this.cache = undefined;
    this.changed.fire(undefined);
  }

  loaded(): EndpointView[] {
    return this.cache ?? [];
  }

  view(n: EndpointNode): ItemView {
    switch (n.kind) {
      case 'endpoint':
        return {
          id: `endpoint:${n.endpoint.name}`,
          label: n.endpoint.name,
          description: `${n.endpoint.status} · ${n.endpoint.health}`,
          tooltip: `Endpoint ${n.endpoint.name}\nStrategy ${n.endpoint.strategy}\nHealth ${n.endpoint.health}${n.endpoint.last_rollback ? `\nLast rollback: ${n.endpoint.last_rollback.reason}` : ''}`,
          icon: HEALTH_ICON[n.endpoint.health] ?? { id: 'circle-outline' },
          contextValue: 'endpoint',
          collapsible: 'expanded',
        };
      case 'variant': {
        const v = n.variant;
        const err = v.requests_total ? ` · ${((100 * v.errors_total) / v.requests_total).toFixed(1)}% errors` : '';
        return {
          id: `variant:${n.endpoint}:${v.id}`,
          label: `${v.model_name}/${v.model_version}`,
          description: `${v.role} · ${v.weight}%${err}`,
          tooltip: `${v.id}: ${v.model_name} version ${v.model_version}\nRole ${v.role}, weight ${v.weight}%\nRequests ${v.requests_total}, errors ${v.errors_total}`,
          icon: { id: v.role === 'shadow' ? 'eye' : v.role === 'previous' ? 'history' : 'server-process' },
          contextValue: 'variant',
          collapsible: 'none',
        };
      }
      case 'message':
        return messageView(n);
    }
  }
}
