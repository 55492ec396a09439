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

  /** While a canary ramps, the tree re-renders every few seconds so "next in 40 s" counts down (no refetch). */
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly source: () => Promise<EndpointsSource>,
    private readonly now: () => number = Date.now,
    private readonly tickMs = 5000,
  ) {}

  private tick(): void {
    const ramping = this.cache?.some((e) => e.canary) ?? false;
    if (ramping && !this.ticker) {
      this.ticker = setInterval(() => this.changed.fire(undefined), this.tickMs);
      this.ticker.unref?.();
    } else if (!ramping && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  async children(parent: EndpointNode | undefined): Promise<EndpointNode[]> {
    if (!parent) {
      try {
        this.cache ??= await (await this.source()).endpoints();
      } catch (e) {
        return [messageFor(e, 'Serving')];
      }
      this.tick();
      // No items: the view's welcome (package.json viewsWelcome) says what to do, with a button.
      if (this.cache.length === 0) return [];
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
          description: endpointDescription(n.endpoint, this.now()),
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

/** The live split, e.g. `iris/1 90% · iris/2 10%` (stable first). */
export function liveSplit(e: Pick<EndpointView, 'variants'>): string {
  const live = e.variants.filter((v) => v.role === 'stable' || v.role === 'candidate').sort((a, b) => (a.role === 'stable' ? -1 : b.role === 'stable' ? 1 : 0));
  return live.map((v) => `${v.model_name}/${v.model_version} ${v.weight}%`).join(' · ');
}

/** `canary step 2/6 · next in 40 s · iris/1 95% · iris/2 5% · ok`; other states: status, split, health. */
export function endpointDescription(e: EndpointView, now: number): string {
  const parts: string[] = [e.status];
  const c = e.canary;
  if (c) {
    const left = Math.ceil((c.next_step_at - now) / 1000);
    parts[0] = `canary step ${c.step + 1}/${c.steps.length}`;
    parts.push(left > 0 ? `next in ${left} s` : 'next step due');
  }
  const split = liveSplit(e);
  if (split) parts.push(split);
  parts.push(e.health);
  return parts.join(' · ');
}
