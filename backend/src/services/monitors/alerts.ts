import type { Logger } from '../../util/logger';

/** What a monitor checks (issue 12). */
export type MonitorKind = 'data_drift' | 'prediction_drift' | 'concept_drift' | 'performance';
export type IncidentSeverity = 'critical' | 'warning' | 'info';

/**
 * One incident's state change, as every alert channel receives it: the monitors open and resolve incidents and
 * publish here; channels (webhooks in Alertmanager's format, the editor's notifications through the events stream,
 * the audit log) turn it into their own shape. Times are milliseconds since the epoch on the runtime's clock.
 */
export interface IncidentAlert {
  incidentId: string;
  monitorId: string;
  /** The endpoint the monitor watches. */
  endpoint: string;
  kind: MonitorKind;
  severity: IncidentSeverity;
  status: 'firing' | 'resolved';
  /** One line: what failed ("data drift on 3 of 4 features of churn/2"). */
  summary: string;
  /** The evidence in words: window, features, statistics, thresholds. */
  description: string;
  startsAt: number;
  /** Null while firing. */
  endsAt: number | null;
  /** Extra labels (model, version, feature…); alertname/endpoint/kind/severity are added by channels. */
  labels: Record<string, string>;
  /** Where the stored report or result that opened the incident can be read (a path of our HTTP API). */
  evidencePath: string | null;
}

/** An alert channel. publish() must not throw or block: a channel queues its own delivery and retries. */
export interface AlertSink {
  readonly name: string;
  publish(alert: IncidentAlert): void;
  /** Waits for deliveries in flight (called when the runtime stops). */
  close?(): Promise<void> | void;
}

/** Fans incident changes out to every registered channel; a channel that throws is logged and the others still get it. */
export class AlertHub {
  private readonly sinks: AlertSink[] = [];

  constructor(private readonly log: Logger) {}

  add(sink: AlertSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  publish(alert: IncidentAlert): void {
    for (const s of this.sinks) {
      try {
        s.publish(alert);
      } catch (err) {
        this.log.error({ err, sink: s.name }, `alert channel '${s.name}' failed`);
      }
    }
  }

  async close(): Promise<void> {
    for (const s of [...this.sinks].reverse()) await s.close?.();
  }
}
