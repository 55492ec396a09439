import { cpSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreContext } from '../../context';
import type { Clock } from '../../util/clock';
import { ApiError, invalid } from '../../util/errors';
import type { Logger } from '../../util/logger';
import { compareModels } from '../gates/compare';
import type { AlertHub, IncidentAlert } from '../monitors/alerts';
import type { PipelineService } from '../pipelines/service';
import type { Scheduler } from '../scheduler';
import type { ServingEngine, ServingHook } from '../serving/engine';
import { championRefusal, moveChampion } from './champion';
import type { AbExperiments } from './experiments';
import { exportTrainingData } from './data';
import { nextScheduled, normalizePolicy, scheduleKey, type PolicyInput } from './policy';
import { RetrainRepo, TERMINAL, type RetrainRecord, type RetrainStatus, type RetrainTrigger, type StoredPolicy } from './repository';

export interface RetrainServiceOptions {
  core: CoreContext;
  clock: Clock;
  log: Logger;
  pipelines: PipelineService;
  engine: ServingEngine;
  /** The online A/B experiments a challenger rolled out with strategy ab goes through. */
  experiments: AbExperiments;
  alerts: AlertHub;
  /** Commits the predictions still queued for the log before the data step reads it. */
  flushLog: () => void | Promise<void>;
}

/** How often schedules and incidents held back by the cool-down are looked at. */
export const RETRAIN_TICK_MS = 10_000;
const AUTOMATION = 'mlops:retrain';
const MAX_PIPELINE_BYTES = 1024 * 1024;

class Cancelled extends Error {}

/**
 * The retraining loop (issue 13): policies per model and endpoint, their triggers (manual, a schedule on the runtime's
 * scheduler, drift and performance incidents from the AlertHub, debounced per incident, held back by the cool-down,
 * bounded by K at once and a daily budget), and each retrain as a ledger record moving through
 * initiated → collecting → validating → training → evaluating → rolling_out → deployed | rejected | failed | cancelled,
 * every transition stored with its reason and audited.
 */
export class RetrainService {
  readonly repo: RetrainRepo;
  /** Retrains executing in this process: why each is being cancelled (null: it is not). */
  private readonly running = new Map<number, { cancelled: string | null; done: Promise<void> }>();
  private closed = false;
  /** Rolling-out retrains being cancelled: the rollback hook records them as cancelled, not rejected. */
  private readonly cancelling = new Map<number, string>();

  constructor(private readonly o: RetrainServiceOptions) {
    this.repo = new RetrainRepo(o.core.db);
    // A retrain rolling out lives on the endpoint (restored with it) and is followed again; earlier steps start over.
    this.repo.abandonRunning('the backend stopped while this retrain ran; start it again', o.clock.now());
    o.alerts.add({ name: 'retrain', publish: (a) => this.onAlert(a) });
    o.engine.addHook(this.hook);
  }

  schedule(s: Scheduler): void {
    s.add({ name: 'retrain: schedules and held-back incidents', intervalMs: RETRAIN_TICK_MS, run: () => this.tick() });
  }

  setPolicy(model: string, endpoint: string, input: PolicyInput, actor: string): StoredPolicy {
    const p = normalizePolicy(model, endpoint, input);
    // Read only a regular file of bounded size (not a folder, a device or a fifo that never ends).
    const st = statSync(p.pipeline, { throwIfNoEntry: false });
    if (!st?.isFile()) throw invalid(`pipeline '${p.pipeline}' is not a file`);
    if (st.size > MAX_PIPELINE_BYTES) throw invalid(`pipeline '${p.pipeline}' is ${st.size} bytes; at most ${MAX_PIPELINE_BYTES} are read`);
    const def = this.o.pipelines.load(p.pipeline);
    if (!(p.data.param in def.params)) throw invalid(`${def.file} declares no parameter '${p.data.param}' (data.param) to receive the training data`);
    const step = def.steps.find((s) => s.name === p.model_step);
    if (!step) throw invalid(`${def.file} has no step '${p.model_step}' (model_step)`);
    const before = this.repo.findPolicy(model, endpoint);
    // An unchanged schedule keeps its next time; a new one counts from now.
    const keep = before && scheduleKey(before.policy) === scheduleKey(p) ? before.next_scheduled_at : null;
    const next = keep ?? nextScheduled(p, this.o.clock.now());
    const sp = this.repo.upsertPolicy(p, next, actor, this.o.clock.now());
    this.o.core.audit.append({ actor, action: 'retrain.policy_set', objectType: 'retrain_policy', objectId: `${model}@${endpoint}`, before: before?.policy ?? null, after: p });
    return sp;
  }

  deletePolicy(id: number, actor: string): void {
    const sp = this.repo.policy(id);
    this.repo.deletePolicy(id);
    this.o.core.audit.append({ actor, action: 'retrain.policy_delete', objectType: 'retrain_policy', objectId: `${sp.policy.model}@${sp.policy.endpoint}`, before: sp.policy });
  }

  /** A manual retrain: bounded by the policy's concurrency and daily budget, not by the cool-down. */
  run(policyId: number, actor: string, reason?: string, incident?: { id: number; kind: string; severity: string; summary: string; endpoint: string }): RetrainRecord {
    const sp = this.repo.policy(policyId);
    if (!sp.policy.triggers.manual) throw invalid(`The retrain policy of ${sp.policy.model} on ${sp.policy.endpoint} does not allow manual retrains`);
    if (incident && incident.endpoint !== sp.policy.endpoint) throw invalid(`Incident ${incident.id} is on ${incident.endpoint}, not on ${sp.policy.endpoint}`);
    const evidence = { user: actor, ...(reason ? { reason } : {}), ...(incident ? { incident_id: String(incident.id), kind: incident.kind, severity: incident.severity, summary: incident.summary } : {}) };
    const r = this.begin(sp, 'manual', evidence, incident ? String(incident.id) : null, `started by ${actor}${incident ? ` on incident ${incident.id}` : ''}${reason ? `: ${reason}` : ''}`);
    if (typeof r === 'string') throw new ApiError('RESOURCE_CONFLICT', r);
    return r;
  }

  async cancel(id: number, actor: string, reason?: string): Promise<RetrainRecord> {
    const rec = this.repo.get(id);
    const ex = this.running.get(id);
    if (rec.status === 'rolling_out' && !ex) {
      // The challenger is on the endpoint: cancelling takes it off (the hook records the retrain as cancelled).
      const why = `cancelled by ${actor}${reason ? `: ${reason}` : ''}`;
      this.cancelling.set(id, why);
      try {
        if (this.challengerOn(rec) && this.challengerOn(rec) !== 'stable') this.o.engine.rollback(rec.endpoint, actor, 'retrain_cancelled', `retrain ${id} ${why}`);
        else this.move(id, 'cancelled', why);
      } finally {
        this.cancelling.delete(id);
      }
      return this.repo.get(id);
    }
    if (TERMINAL.includes(rec.status) || !ex) throw new ApiError('INVALID_STATE', `Retrain ${id} already ended (${rec.status})`);
    if (ex.cancelled === null) {
      ex.cancelled = `cancelled by ${actor}${reason ? `: ${reason}` : ''}`;
      if (rec.pipeline_run_id) await this.o.pipelines.cancel(rec.pipeline_run_id, ex.cancelled, actor).catch(() => undefined);
    }
    await ex.done;
    return this.repo.get(id);
  }

  /** Resolves once the retrain has ended (at once when it is not executing here). */
  async waitFor(id: number): Promise<RetrainRecord> {
    await this.running.get(id)?.done;
    return this.repo.get(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ex of this.running.values()) ex.cancelled ??= 'the backend is stopping';
    await Promise.all([...this.running.values()].map((e) => e.done));
  }

  private audit(id: number, status: RetrainStatus, reason: string, actor = AUTOMATION): void {
    this.o.core.audit.append({ actor, action: `retrain.${status}`, objectType: 'retrain', objectId: String(id), after: { status }, reason });
  }

  /** Starts a retrain, or says why the policy's bounds hold it back. */
  private begin(sp: StoredPolicy, trigger: RetrainTrigger, evidence: Record<string, unknown>, incidentId: string | null, reason: string): RetrainRecord | string {
    if (this.closed) return 'the backend is stopping';
    const p = sp.policy;
    const now = this.o.clock.now();
    if (this.repo.active(sp.id) >= p.max_concurrent) return `${p.max_concurrent} retrain(s) of ${p.model} on ${p.endpoint} already running (max_concurrent)`;
    const today = this.repo.startedSince(sp.id, now - 86_400_000);
    if (today >= p.daily_budget) return `the daily budget of ${p.daily_budget} retrain(s) is spent (${today} in the last 24 h)`;
    const rec = this.repo.insert(sp, trigger, evidence, incidentId, reason, now);
    if (!rec) return `incident ${incidentId} already started a retrain`;
    this.audit(rec.id, 'initiated', reason, trigger === 'manual' ? String(evidence.user) : AUTOMATION);
    const ex = { cancelled: null as string | null, done: Promise.resolve() };
    this.running.set(rec.id, ex);
    ex.done = this.execute(rec.id, sp, ex)
      .catch((err: unknown) => {
        const r = this.repo.get(rec.id);
        if (TERMINAL.includes(r.status)) return;
        if (err instanceof Cancelled || ex.cancelled !== null) this.move(rec.id, 'cancelled', ex.cancelled ?? 'cancelled');
        else this.move(rec.id, 'failed', err instanceof Error ? err.message : String(err));
      })
      .finally(() => this.running.delete(rec.id));
    return rec;
  }

  private move(id: number, status: RetrainStatus, reason: string, set: Parameters<RetrainRepo['transition']>[4] = {}): RetrainRecord {
    const r = this.repo.transition(id, status, reason, this.o.clock.now(), set);
    this.audit(id, status, reason);
    return r;
  }

  private async execute(id: number, sp: StoredPolicy, ex: { cancelled: string | null }): Promise<void> {
    const p = sp.policy;
    const check = () => {
      if (ex.cancelled !== null) throw new Cancelled(ex.cancelled);
    };
    // Let the caller have its answer (and a test its record) before the work starts.
    await new Promise((r) => setImmediate(r));
    check();
    this.move(id, 'collecting', `exporting the labelled prediction log of ${p.endpoint}${p.data.base_file ? ` with ${p.data.base_file}` : ''}`);
    await this.o.flushLog();
    const dir = join(this.o.core.home, 'retrains', String(id));
    // The log is stamped with the wall clock, so its window is measured on it too.
    const data = exportTrainingData(this.o.core.db, p, dir, Date.now());
    check();
    const served = this.o.engine.get(p.endpoint).variants.find((v) => v.role === 'stable') ?? null;
    const missing = served ? served.features.filter((f) => !data.features.includes(f)) : [];
    this.move(
      id,
      'validating',
      `${data.logged_rows} labelled row(s) from the log (${data.skipped} skipped) + ${data.base_rows} from the base file; ${data.holdout_rows} held out; features ${data.features.join(', ')}`,
      { data_file: data.train },
    );
    if (missing.length) throw new Error(`the exported data lacks feature(s) ${missing.join(', ')} that ${served!.model_name}/${served!.model_version} uses`);
    check();
    const def = this.o.pipelines.load(p.pipeline);
    if (!(p.data.param in def.params)) throw new Error(`${def.file} declares no parameter '${p.data.param}' for the training data`);
    const params = { ...p.params, [p.data.param]: data.train, ...('holdout' in def.params ? { holdout: data.holdout } : {}) };
    const run = await this.o.pipelines.start(p.pipeline, { params });
    this.move(id, 'training', `pipeline ${def.name} run ${run.pipeline_run_id} started`, { pipeline_run_id: run.pipeline_run_id });
    if (ex.cancelled !== null) await this.o.pipelines.cancel(run.pipeline_run_id, ex.cancelled, AUTOMATION).catch(() => undefined);
    const done = await this.o.pipelines.waitFor(run.pipeline_run_id);
    check();
    if (done.status !== 'finished') {
      const bad = done.steps.filter((s) => s.status === 'failed').map((s) => `${s.step}: ${s.message ?? ''}`);
      throw new Error(`pipeline run ${done.pipeline_run_id} ${done.status}: ${done.message ?? ''}${bad.length ? ` (${bad.join('; ')})` : ''}`);
    }
    const step = done.steps.find((s) => s.step === p.model_step);
    const folder = step?.output_dir;
    if (!step || !folder || !existsSync(join(folder, 'model.onnx'))) throw new Error(`step '${p.model_step}' of pipeline run ${done.pipeline_run_id} left no model.onnx in its output folder`);
    const rel = `retrains/${id}/model`;
    cpSync(folder, this.o.core.artifacts.resolve(rel), { recursive: true });
    const who = { actor: AUTOMATION };
    const version = Number(
      this.o.core.registry.createVersion(
        { name: p.model, source: `mlflow-artifacts:/${rel}`, ...(step.run_id ? { runId: step.run_id } : {}), tags: [{ key: 'mlops.retrain_id', value: String(id) }], description: `retrain ${id}` },
        who,
      ).version,
    );
    const champion = served?.model_name === p.model ? served.model_version : null;
    this.move(id, 'evaluating', `challenger ${p.model}/${version} registered from step '${p.model_step}'${champion ? `; comparing with ${p.model}/${champion} on ${data.holdout_rows} held-out row(s)` : ''}`, {
      challenger_version: version,
      champion_version: champion,
    });
    let decision: Record<string, unknown>;
    let accept: boolean;
    let why: string;
    if (champion === null) {
      decision = { compared: false };
      accept = true;
      why = `${p.endpoint} serves no version of ${p.model}: nothing to compare with`;
    } else {
      const c = await compareModels(this.o.core, `${p.model}/${champion}`, `${p.model}/${version}`, { data: data.holdout, label: p.data.label_column, margin: p.promotion.margin });
      const verdictOk = c.verdict === 'better' || (p.promotion.require === 'non_inferior' && c.verdict === 'non_inferior');
      accept = verdictOk && c.challenger.accuracy >= p.promotion.min_accuracy;
      decision = { compared: true, rows: c.rows, champion_accuracy: c.champion.accuracy, challenger_accuracy: c.challenger.accuracy, mcnemar: c.mcnemar, bootstrap: c.bootstrap, margin: c.margin, verdict: c.verdict, require: p.promotion.require, min_accuracy: p.promotion.min_accuracy };
      why = `${c.verdict} (challenger ${pct(c.challenger.accuracy)} vs champion ${pct(c.champion.accuracy)} on ${c.rows} rows; ${c.reason})${
        c.challenger.accuracy < p.promotion.min_accuracy ? `; below min_accuracy ${pct(p.promotion.min_accuracy)}` : ''
      }`;
    }
    check();
    const refused = accept ? championRefusal(this.o.core, `${p.model}/${version}`) : null;
    if (!accept || refused) {
      this.move(id, 'rejected', refused ? `offline comparison: ${why}; but ${refused}` : `offline comparison: ${why}; the policy requires ${p.promotion.require}`, { decision: { ...decision, accepted: false } });
      return;
    }
    this.move(id, 'rolling_out', `offline comparison: ${why}; rolling out as ${p.rollout.strategy}`, { decision: { ...decision, accepted: true } });
    const view = await this.o.engine.deploy(p.endpoint, { model: `${p.model}/${version}`, ...p.rollout }, `${AUTOMATION}:${id}`);
    const mine = view.variants.find((v) => v.model_name === p.model && v.model_version === version);
    const rollout = { strategy: p.rollout.strategy, role: mine?.role ?? null, weight: mine?.weight ?? null, experiment_id: null as number | null };
    let note = `${p.model}/${version} is ${mine?.role ?? 'deployed'} on ${p.endpoint} at ${mine?.weight ?? 0}%`;
    if (mine?.role === 'stable') {
      // The endpoint served nothing, or a ramp of one step: it serves already, so @champion moves now.
      this.o.core.db.transaction(() => {
        moveChampion(this.o.core, `${p.model}/${version}`, AUTOMATION, `retrain ${id}: deployed as the stable of ${p.endpoint}`);
        this.move(id, 'deployed', `${note} (stable); @champion moved`, { decision: { ...decision, accepted: true, rollout } });
      })();
      return;
    }
    if (ex.cancelled !== null) {
      this.cancelling.set(id, ex.cancelled);
      try {
        this.o.engine.rollback(p.endpoint, AUTOMATION, 'retrain_cancelled', `retrain ${id} ${ex.cancelled}`);
      } finally {
        this.cancelling.delete(id);
      }
      return;
    }
    if (view.canary) note += ` (canary step 1/${view.canary.steps.length}; promoted when the ramp completes, rolled back by a guardrail)`;
    if (p.rollout.strategy === 'ab') {
      const e = this.o.experiments.start(p.endpoint, p.experiment, AUTOMATION, id);
      rollout.experiment_id = e.id;
      note += `; experiment ${e.id} decides (${e.reason})`;
    }
    if (p.rollout.strategy === 'shadow') note += ' (shadow: promote or roll back by hand)';
    this.repo.annotate(id, note, { ...decision, accepted: true, rollout }, this.o.clock.now());
  }

  /** The role of a rolling-out retrain's challenger on its endpoint, or null when it is not there. */
  private challengerOn(r: RetrainRecord): string | null {
    const ep = this.o.engine.list().find((e) => e.name === r.endpoint);
    return ep?.variants.find((v) => v.model_name === r.model && v.model_version === r.challenger_version)?.role ?? null;
  }

  private rollingOut(endpoint: string): RetrainRecord[] {
    return this.repo.list({ endpoint, status: 'rolling_out', limit: 1_000 });
  }

  /**
   * A challenger's promotion (the canary's last step, an experiment's verdict, a hand) moves @champion and ends its
   * retrain as deployed; its rollback (a guardrail, an experiment, a hand) ends it as rejected. Both run inside the
   * engine's transaction that saves the endpoint, so the endpoint, the alias and the ledger never disagree.
   */
  private readonly hook: ServingHook = {
    check: (endpoint, variant) => (this.rollingOut(endpoint).some((r) => `${r.model}/${r.challenger_version}` === variant) ? championRefusal(this.o.core, variant) : null),
    promoted: (p) => {
      for (const r of this.rollingOut(p.endpoint)) {
        const mine = `${r.model}/${r.challenger_version}`;
        if (mine !== p.to) {
          this.move(r.id, 'rejected', `${p.to} was promoted on ${p.endpoint} by ${p.actor} instead (${p.reason})`);
          continue;
        }
        moveChampion(this.o.core, mine, p.actor, `retrain ${r.id}: ${p.reason}`);
        this.move(r.id, 'deployed', `${mine} is the stable of ${p.endpoint} and @champion (${p.actor}: ${p.reason})`);
      }
    },
    rolledBack: (b) => {
      for (const r of this.rollingOut(b.endpoint)) {
        if (!b.removed.includes(`${r.model}/${r.challenger_version}`)) continue;
        const cancelled = this.cancelling.get(r.id);
        if (cancelled) this.move(r.id, 'cancelled', `${cancelled}; ${r.model}/${r.challenger_version} rolled back to ${b.to}`);
        else this.move(r.id, 'rejected', `${r.model}/${r.challenger_version} rolled back to ${b.to} by ${b.actor}: ${b.reason}`);
      }
    },
  };

  /** Rolling-out retrains whose challenger left the endpoint some other way (a restore that failed, a delete, a replace). */
  private follow(): void {
    for (const r of this.repo.list({ status: 'rolling_out', limit: 1_000 })) {
      if (this.running.has(r.id)) continue;
      const role = this.challengerOn(r);
      if (role === 'stable') {
        moveChampion(this.o.core, `${r.model}/${r.challenger_version}`, AUTOMATION, `retrain ${r.id}: it serves as stable`);
        this.move(r.id, 'deployed', `${r.model}/${r.challenger_version} serves as the stable of ${r.endpoint}; @champion moved`);
      } else if (role === null || role === 'previous') {
        this.move(r.id, 'rejected', `${r.model}/${r.challenger_version} is no longer on ${r.endpoint}`);
      }
    }
  }

  /** A firing drift or performance incident starts one retrain per policy of its endpoint (debounced by incident id). */
  private onAlert(a: IncidentAlert): void {
    try {
      for (const sp of this.repo.policies(a.endpoint)) {
        if (a.status === 'resolved') {
          if (sp.deferred?.incident_id === a.incidentId) this.repo.setDeferred(sp.id, null);
          continue;
        }
        const trigger: RetrainTrigger | null = a.kind === 'performance' ? 'performance' : a.kind === 'data_drift' || a.kind === 'prediction_drift' || a.kind === 'concept_drift' ? 'drift' : null;
        if (!trigger || !(trigger === 'drift' ? sp.policy.triggers.on_drift : sp.policy.triggers.on_performance)) continue;
        if (this.repo.list({ model: sp.policy.model, endpoint: sp.policy.endpoint, limit: 1_000 }).some((r) => r.incident_id === a.incidentId)) continue;
        const evidence = { incident_id: a.incidentId, kind: a.kind, severity: a.severity, summary: a.summary, evidence_path: a.evidencePath, starts_at: a.startsAt };
        this.incident(sp, trigger, evidence, a.incidentId);
      }
    } catch (err) {
      this.o.log.error({ err }, 'retrain: could not handle an incident');
    }
  }

  private incident(sp: StoredPolicy, trigger: RetrainTrigger, evidence: Record<string, unknown>, incidentId: string): void {
    const now = this.o.clock.now();
    const last = this.repo.lastAutomated(sp.id);
    const until = last === null ? 0 : last + sp.policy.cooldown_s * 1000;
    const held = now < until ? `cool-down until ${new Date(until).toISOString()}` : null;
    const r = held ?? this.begin(sp, trigger, evidence, incidentId, `${trigger} incident ${incidentId}: ${String(evidence.summary)}`);
    if (typeof r !== 'string') {
      if (sp.deferred?.incident_id === incidentId) this.repo.setDeferred(sp.id, null);
      return;
    }
    if (sp.deferred?.incident_id !== incidentId) {
      this.repo.setDeferred(sp.id, { incident_id: incidentId, trigger, evidence });
      this.o.core.audit.append({ actor: AUTOMATION, action: 'retrain.held', objectType: 'retrain_policy', objectId: `${sp.policy.model}@${sp.policy.endpoint}`, after: { incident_id: incidentId }, reason: r });
    }
  }

  /** Due schedules start their retrain; an incident held back by the cool-down starts once it has passed. */
  private tick(): void {
    this.follow();
    const now = this.o.clock.now();
    for (const sp of this.repo.policies()) {
      if (sp.deferred) this.incident(sp, sp.deferred.trigger, sp.deferred.evidence, sp.deferred.incident_id);
      const due = sp.next_scheduled_at;
      const t = sp.policy.triggers;
      if (due === null || due > now || (t.schedule_every_s === null && !t.schedule_cron)) continue;
      // A backend down for several runs does one catch-up retrain, not one per missed run.
      const following = nextScheduled(sp.policy, due);
      this.repo.setNextScheduled(sp.id, following !== null && following > now ? following : nextScheduled(sp.policy, now));
      const what = t.schedule_cron ? `cron '${t.schedule_cron}' (${t.schedule_tz})` : `every ${t.schedule_every_s} s`;
      const evidence = t.schedule_cron ? { due_at: due, cron: t.schedule_cron, tz: t.schedule_tz } : { due_at: due, every_s: t.schedule_every_s };
      const r = this.begin(this.repo.policy(sp.id), 'schedule', evidence, null, `scheduled ${what} (due ${new Date(due).toISOString()})`);
      if (typeof r === 'string') this.o.core.audit.append({ actor: AUTOMATION, action: 'retrain.skipped', objectType: 'retrain_policy', objectId: `${sp.policy.model}@${sp.policy.endpoint}`, reason: r });
    }
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
