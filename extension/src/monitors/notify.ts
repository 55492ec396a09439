import * as vscode from 'vscode';
import type { IncidentView } from '../../../backend/src/api/v1/contract-monitors';
import type { ApiClient } from '../backend/client';
import * as api from '../backend/features';

const SEEN_KEY = 'mlops.incidents.notified';
const KIND: Record<IncidentView['kind'], string> = {
  data_drift: 'Data drift',
  prediction_drift: 'Prediction drift',
  concept_drift: 'Concept drift',
  performance: 'Performance SLO breach',
};

/**
 * A notification for each incident the monitors open, once (remembered per workspace, so a reload or an incident
 * opened while the editor was closed notifies once), with Open Report, Acknowledge and Retrain Now. Checked when the backend
 * announces a change of the drift topic (the monitors' results and incidents) and when it starts.
 */
export class IncidentNotifier {
  private readonly seen: Set<number>;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly client: () => Promise<ApiClient>,
    private readonly state: vscode.Memento,
  ) {
    this.seen = new Set(state.get<number[]>(SEEN_KEY, []));
  }

  /** Looks for new open incidents (one look at a time; a call during one runs another after it). */
  check(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.look()
      .catch(() => undefined)
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.check();
        }
      });
  }

  private async look(): Promise<void> {
    const open = (await api.incidents(await this.client())).filter((i) => i.status === 'open' && !this.seen.has(i.id));
    if (open.length === 0) return;
    for (const i of open) this.seen.add(i.id);
    // Bounded: the newest 500 ids are enough to never repeat one.
    await this.state.update(SEEN_KEY, [...this.seen].sort((a, b) => b - a).slice(0, 500));
    for (const i of open) void this.show(i);
  }

  private async show(i: IncidentView): Promise<void> {
    const text = `MLOps: ${KIND[i.kind]} on ${i.endpoint} (incident #${i.id}, ${i.severity}): ${i.summary}`;
    const show = i.severity === 'critical' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    const pick = await show(text, 'Open Report', 'Acknowledge', 'Retrain Now');
    const node = { kind: 'incident', incident: i };
    if (pick === 'Open Report') await vscode.commands.executeCommand('mlops.showIncident', node);
    if (pick === 'Acknowledge') await vscode.commands.executeCommand('mlops.acknowledgeIncident', node);
    if (pick === 'Retrain Now') await vscode.commands.executeCommand('mlops.retrainNow', node);
  }
}
