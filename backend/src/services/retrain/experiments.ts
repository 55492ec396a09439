import type { CoreContext } from '../../context';
import type { Clock } from '../../util/clock';
import { ApiError, invalid, notFound } from '../../util/errors';
import type { Logger } from '../../util/logger';
import type { Scheduler } from '../scheduler';
import type { ServingEngine, ServingHook } from '../serving/engine';
import type { ServingRepository } from '../serving/repository';
import { championRefusal, moveChampion } from './champion';
import { analyseExperiment, normalizeExperiment, type ExperimentAnalysis, type ExperimentConfig } from './online';

export type ExperimentStatus = 'running' | 'promoted' | 'rejected' | 'inconclusive' | 'stopped';

export interface ExperimentRecord {
  id: number;
  endpoint: string;
  /** The registered model whose @champion a promotion moves. */
  model: string;
  /** The champion's variant (stable) and the challenger's (candidate), as NAME/VERSION. */
  control: string;
  treatment: string;
  retrain_id: number | null;
  config: ExperimentConfig;
  status: ExperimentStatus;
  reason: string;
  /** The latest look. */
  analysis: ExperimentAnalysis | null;
  started_at: number;
  deadline: number;
  ended_at: number | null;
  created_by: string;
}

/** One look of the sequential test: what the confidence sequence was at that moment. */
export interface ExperimentLook {
  at: number;
  n_control: number;
  n_treatment: number;
  difference: number;
  low: number | null;
  high: number | null;
  p_value: number;
}

type Row = Omit<ExperimentRecord, 'config' | 'analysis'> & { config: string; analysis: string | null; log_since: number };

/** How often running experiments are looked at. */
export const EXPERIMENT_TICK_MS = 60_000;
/** Rows of the prediction log one look reads at most (the newest). */
const MAX_ROWS = 400_000;
const AUTOMATION = 'mlops:experiment';

/**
 * Online A/B experiments (issue 13): the champion (the endpoint's stable) against a challenger (its A/B candidate),
 * looked at every minute with the always-valid sequential test over live feedback labels. A verdict acts at once:
 * promote (the challenger becomes stable and @champion moves, in the one store transaction that saves the endpoint),
 * reject (the challenger is rolled back), or at the deadline inconclusive (the configured default: keep the
 * champion). Guardrail rollbacks and hand-made changes end a running experiment as stopped, naming why.
 */
export class AbExperiments {
  /** The verdict being acted on, read by the hook inside the engine's transaction. */
  private acting: { id: number; status: ExperimentStatus; reason: string } | null = null;

  constructor(
    private readonly o: { core: CoreContext; clock: Clock; log: Logger; engine: ServingEngine; serving: ServingRepository },
  ) {
    o.engine.addHook(this.hook);
  }

  schedule(s: Scheduler): void {
    s.add({ name: 'experiments: sequential looks', intervalMs: EXPERIMENT_TICK_MS, run: () => this.tick() });
  }

  /** Starts an experiment on an endpoint that runs an A/B split (stable and a candidate with traffic). */
  start(endpoint: string, input: Partial<ExperimentConfig>, actor: string, retrainId: number | null = null): ExperimentRecord {
    const config = normalizeExperiment(input);
    const { arms } = this.o.engine.abArms(endpoint);
    const control = arms.find((a) => a.role === 'stable');
    const treatment = arms.find((a) => a.role === 'candidate');
    if (!control || !treatment || !(treatment.weight > 0 && treatment.weight < 100)) {
      throw invalid(`Endpoint '${endpoint}' runs no A/B split: deploy the challenger with strategy ab (and a weight) first`);
    }
    if (this.running(endpoint)) throw new ApiError('RESOURCE_CONFLICT', `Endpoint '${endpoint}' already runs experiment ${this.running(endpoint)!.id}`);
    const now = this.o.clock.now();
    const model = treatment.model.split('/')[0]!;
    const reason = `${treatment.id} (${treatment.weight}%) against ${control.id} (${control.weight}%) on ${config.metric}: ${config.require}${config.require === 'non_inferior' ? ` within ${config.margin}` : ''}, α = ${config.alpha}, at least ${config.min_samples} labelled predictions per arm, until ${new Date(now + config.max_duration_s * 1000).toISOString()}`;
    const id = Number(
      this.o.core.db
        .prepare(
          `INSERT INTO ab_experiments (endpoint, model, control, treatment, retrain_id, config, status, reason, started_at, log_since, deadline, created_by)
           VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
        )
        // The prediction log is stamped with the wall clock; deadlines and looks go by the runtime's clock.
        .run(endpoint, model, control.id, treatment.id, retrainId, JSON.stringify(config), reason, now, Date.now(), now + config.max_duration_s * 1000, actor).lastInsertRowid,
    );
    this.o.core.audit.append({ actor, action: 'experiment.start', objectType: 'experiment', objectId: String(id), after: { endpoint, control: control.id, treatment: treatment.id, config }, reason });
    return this.get(id);
  }

  get(id: number): ExperimentRecord {
    return recordOf(this.row(id));
  }

  private row(id: number): Row {
    const r = this.o.core.db.prepare('SELECT * FROM ab_experiments WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw notFound(`Experiment ${id} not found`);
    return r;
  }

  list(o: { endpoint?: string; status?: string; limit?: number } = {}): ExperimentRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const k of ['endpoint', 'status'] as const) {
      if (!o[k]) continue;
      where.push(`${k} = ?`);
      args.push(o[k]);
    }
    const rows = this.o.core.db.prepare(`SELECT * FROM ab_experiments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args, o.limit ?? 100) as Row[];
    return rows.map(recordOf);
  }

  /** The confidence sequence over time (at most `limit` looks, evenly thinned). */
  looks(id: number, limit = 500): ExperimentLook[] {
    this.get(id);
    const all = this.o.core.db.prepare('SELECT at, n_control, n_treatment, difference, low, high, p_value FROM ab_looks WHERE experiment_id = ? ORDER BY id').all(id) as ExperimentLook[];
    if (all.length <= limit) return all;
    const step = all.length / limit;
    return Array.from({ length: limit }, (_, i) => all[Math.min(all.length - 1, Math.round(i * step))]!);
  }

  running(endpoint: string): ExperimentRecord | null {
    const r = this.o.core.db.prepare("SELECT * FROM ab_experiments WHERE endpoint = ? AND status = 'running'").get(endpoint) as Row | undefined;
    return r ? recordOf(r) : null;
  }

  /** Ends the analysis; the traffic stays as it is. */
  stop(id: number, actor: string, reason?: string): ExperimentRecord {
    const e = this.get(id);
    if (e.status !== 'running') throw new ApiError('INVALID_STATE', `Experiment ${id} already ended (${e.status})`);
    this.end(e, 'stopped', `stopped by ${actor}${reason ? `: ${reason}` : ''}`, actor);
    return this.get(id);
  }

  /** One look at every running experiment; a verdict acts at once. */
  tick(): void {
    const running = this.o.core.db.prepare("SELECT id FROM ab_experiments WHERE status = 'running' ORDER BY id").pluck().all() as number[];
    for (const id of running) {
      try {
        this.look(id);
      } catch (err) {
        this.o.log.error({ err }, `experiments: the look at experiment ${id} failed`);
      }
    }
  }

  look(id: number): ExperimentRecord {
    const row = this.row(id);
    const e = recordOf(row);
    if (e.status !== 'running') return e;
    const arms = this.o.engine.abArms(e.endpoint).arms;
    const c = arms.find((a) => a.id === e.control && a.role === 'stable');
    const t = arms.find((a) => a.id === e.treatment && a.role === 'candidate');
    if (!c || !t || t.weight <= 0) {
      this.end(e, 'stopped', `the endpoint no longer splits traffic between ${e.control} and ${e.treatment}`);
      return this.get(id);
    }
    const rows = this.o.serving.abRows(e.endpoint, [e.control, e.treatment], row.log_since, MAX_ROWS);
    const a = analyseExperiment(rows, e.control, e.treatment, { control: c.weight, treatment: t.weight }, e.config);
    const now = this.o.clock.now();
    this.o.core.db.transaction(() => {
      this.o.core.db.prepare('UPDATE ab_experiments SET analysis = ?, reason = ? WHERE id = ?').run(JSON.stringify(a), a.reason, id);
      const last = this.o.core.db.prepare('SELECT n_control, n_treatment FROM ab_looks WHERE experiment_id = ? ORDER BY id DESC LIMIT 1').get(id) as { n_control: number; n_treatment: number } | undefined;
      if (!last || last.n_control !== a.control.labelled || last.n_treatment !== a.treatment.labelled) {
        const [low, high] = a.running_interval ?? [null, null];
        this.o.core.db.prepare('INSERT INTO ab_looks (experiment_id, at, n_control, n_treatment, difference, low, high, p_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(id, now, a.control.labelled, a.treatment.labelled, a.difference, low, high, a.p_value);
      }
    })();
    if (a.decision === 'promote') this.act(e, 'promoted', a.reason);
    else if (a.decision === 'reject') this.act(e, 'rejected', a.reason);
    else if (now >= e.deadline) {
      const why = `inconclusive at the deadline (${a.reason}); the policy says ${e.config.on_inconclusive === 'promote' ? 'promote' : 'keep the champion'}`;
      this.act(e, 'inconclusive', why, e.config.on_inconclusive === 'promote');
    }
    return this.get(id);
  }

  /** Acts on a verdict through the engine: its hook (below) records the end inside the engine's own transaction. */
  private act(e: ExperimentRecord, status: ExperimentStatus, reason: string, promote = status === 'promoted'): void {
    this.acting = { id: e.id, status, reason };
    try {
      if (promote) this.o.engine.promote(e.endpoint, AUTOMATION, `experiment ${e.id}: ${reason}`, e.treatment);
      else this.o.engine.rollback(e.endpoint, AUTOMATION, 'experiment', `experiment ${e.id}: ${reason}`);
    } catch (err) {
      // A refused promotion (the champion's gate): the challenger goes instead.
      if (!promote || !(err instanceof ApiError) || err.code !== 'RESOURCE_CONFLICT') throw err;
      this.acting = { id: e.id, status: 'rejected', reason: `${reason}; but ${err.message}` };
      this.o.engine.rollback(e.endpoint, AUTOMATION, 'experiment', `experiment ${e.id}: ${this.acting.reason}`);
    } finally {
      this.acting = null;
    }
  }

  private end(e: ExperimentRecord, status: ExperimentStatus, reason: string, actor = AUTOMATION): void {
    const now = this.o.clock.now();
    this.o.core.db.prepare("UPDATE ab_experiments SET status = ?, reason = ?, ended_at = ? WHERE id = ? AND status = 'running'").run(status, reason, now, e.id);
    this.o.core.audit.append({ actor, action: `experiment.${status}`, objectType: 'experiment', objectId: String(e.id), before: { status: 'running' }, after: { status }, reason });
  }

  /** Promotions and rollbacks, whoever made them, end the endpoint's running experiment in the same transaction. */
  private readonly hook: ServingHook = {
    check: (endpoint, variant) => (this.running(endpoint)?.treatment === variant ? championRefusal(this.o.core, variant) : null),
    promoted: (p) => {
      const e = this.running(p.endpoint);
      if (!e) return;
      const mine = this.acting?.id === e.id ? this.acting : null;
      if (p.to === e.treatment) {
        // The endpoint's stable and @champion move together: this runs in the transaction that saves the endpoint.
        moveChampion(this.o.core, e.treatment, mine ? AUTOMATION : p.actor, `experiment ${e.id}: ${mine?.reason ?? p.reason}`);
        this.end(e, mine?.status ?? 'promoted', mine?.reason ?? `${e.treatment} promoted by ${p.actor}: ${p.reason}`, mine ? AUTOMATION : p.actor);
      } else this.end(e, 'stopped', `${p.to} was promoted by ${p.actor} instead (${p.reason})`, p.actor);
    },
    rolledBack: (r) => {
      const e = this.running(r.endpoint);
      if (!e || !(r.removed.includes(e.treatment) || r.removed.includes(e.control))) return;
      const mine = this.acting?.id === e.id ? this.acting : null;
      this.end(e, mine?.status ?? 'stopped', mine?.reason ?? `rolled back by ${r.actor}: ${r.reason}`, mine ? AUTOMATION : r.actor);
    },
  };
}

function recordOf(r: Row): ExperimentRecord {
  const { log_since: _, ...rest } = r;
  return { ...rest, config: JSON.parse(r.config) as ExperimentConfig, analysis: r.analysis ? (JSON.parse(r.analysis) as ExperimentAnalysis) : null };
}
