import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AuditLog } from '../../store/audit';
import { systemClock, type Clock } from '../../util/clock';
import type { Scheduler } from '../scheduler';
import type { AbArm } from './ab';
import { ApiError, invalid, notFound } from '../../util/errors';
import { DEFAULT_GUARDRAILS, Endpoint, type EndpointView, type RollbackRecord, type Variant } from './endpoint';
import { FeatureWindows } from './features';
import { guardrailBreach, samePredictions } from './guardrails';
import { ServingMetrics, type AccuracyRow, type DriftSample } from './metrics';
import { InferenceError, LoadedModel, type Prediction } from './model';
import { parsePayload, type Frame } from './payload';
import { parseModelRef, type ModelRef } from './ref';
import type { ModelResolver } from './resolver';
import type { ServingRepository } from './repository';
import { checkWeights, pickArm } from './router';
import { normalizeDeploy, type DeployRequest, type DeploySettings, type PersistedEndpoint, snapshot, validateEndpointName } from './settings';
import { RollingWindow } from './window';
import { crashPoint } from '../../util/crash';

/**
 * What else must move with an endpoint's promotion or rollback (the champion alias, the retrain ledger, an A/B
 * experiment's verdict). `check` may refuse a promotion before anything changes; `promoted` and `rolledBack` run inside
 * the store transaction that saves the endpoint, so the endpoint and what they write commit together or not at all.
 */
export interface ServingHook {
  check?(endpoint: string, variant: string): string | null;
  promoted?(e: { endpoint: string; from: string | null; to: string; actor: string; reason: string }): void;
  rolledBack?(e: { endpoint: string; removed: string[]; to: string; actor: string; reason: string }): void;
}

export interface EngineOptions {
  resolver: ModelResolver;
  audit: AuditLog;
  repo: ServingRepository;
  /** Models larger than this are refused (bytes of the ONNX file). */
  maxModelBytes?: number;
  /** How often canary steps and guardrails are checked. */
  tickMs?: number;
  /** The backend's tick loop; without one (a bare engine) the engine keeps its own timer. */
  scheduler?: Pick<Scheduler, 'add'>;
  random?: () => number;
  /** Where failures of the background loop (canary steps, guardrails) are reported. */
  log?: (message: string) => void;
  /** Canary ramp times (the runtime's clock). */
  clock?: Clock;
  /** ml_drift_score's samples (the drift service). */
  driftSamples?: () => Promise<readonly DriftSample[]>;
  /**
   * ml_model_accuracy's rows: given the log's live computation, what to show (the runtime puts each version's latest
   * stored performance check in front of it).
   */
  accuracy?: (live: () => AccuracyRow[]) => AccuracyRow[];
  /** Called after every successful deploy (the monitors create an endpoint's defaults at its first). */
  onDeployed?: (endpoint: string) => void;
}

export interface PredictResult {
  predictions: unknown[];
  variant: string;
  requestId: string;
  fallback: boolean;
  /** The model that answered (its output type and shape describe `predictions`). */
  model: LoadedModel;
}

/** Rows of features and predictions kept per logged request. */
const LOG_ROWS = 20;

/**
 * Named endpoints serving registered model versions on onnxruntime-node, with replace, A/B, canary and shadow
 * rollouts, guardrail rollbacks, a prediction log and Prometheus metrics.
 */
export class ServingEngine {
  readonly metrics: ServingMetrics;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly draining = new Set<Promise<void>>();
  private readonly stopTicking: () => void;
  private readonly random: () => number;
  private closed = false;
  private readonly clock: Clock;

  constructor(private readonly o: EngineOptions) {
    this.clock = o.clock ?? systemClock;
    this.metrics = new ServingMetrics(() => (o.accuracy ? o.accuracy(() => o.repo.accuracy()) : o.repo.accuracy()), o.driftSamples);
    this.random = o.random ?? Math.random;
    const tickMs = o.tickMs ?? 200;
    if (o.scheduler) {
      this.stopTicking = o.scheduler.add({ name: 'serving: canary steps and guardrails', intervalMs: tickMs, run: () => this.tick() });
    } else {
      const timer = setInterval(() => this.tick(), tickMs);
      timer.unref();
      this.stopTicking = () => clearInterval(timer);
    }
  }

  /** The endpoints' names (no views built: background work asks this every few seconds). */
  names(): string[] {
    return [...this.endpoints.keys()];
  }

  /** The endpoint as served now, or null when there is none of that name. */
  find(name: string): EndpointView | null {
    return this.endpoints.get(name)?.summary() ?? null;
  }

  list(): EndpointView[] {
    return [...this.endpoints.values()].sort((a, b) => a.name.localeCompare(b.name)).map((e) => e.summary());
  }

  get(name: string): EndpointView {
    return this.endpoint(name).summary();
  }

  /** The models answering an endpoint's live traffic, stable first; empty while none is deployed. */
  servingModels(name: string): LoadedModel[] {
    const arms = this.endpoint(name).arms;
    return [...arms.filter((v) => v.role === 'stable'), ...arms.filter((v) => v.role !== 'stable')].map((v) => v.model);
  }

  private endpoint(name: string): Endpoint {
    const ep = this.endpoints.get(name);
    if (!ep) throw notFound(`Endpoint '${name}' does not exist`);
    return ep;
  }

  /** Loads and warms the model before it takes any traffic; a model that fails to load changes nothing. */
  async deploy(name: string, req: DeployRequest, actor: string): Promise<EndpointView> {
    validateEndpointName(name);
    const ref = parseModelRef(req.model);
    const settings = normalizeDeploy(req);
    let ep = this.endpoints.get(name);
    if (!ep) this.endpoints.set(name, (ep = new Endpoint(name)));
    const target = ep;
    target.pending++;
    try {
      const view = await target.exclusive(() => this.deployLocked(target, ref, settings, actor));
      this.o.onDeployed?.(name);
      return view;
    } finally {
      // A first deploy that failed leaves no empty endpoint behind (unless another deploy to it is queued).
      target.pending--;
      if (target.pending === 0 && target.variants.length === 0 && this.endpoints.get(name) === target) this.endpoints.delete(name);
    }
  }

  private async deployLocked(ep: Endpoint, ref: ModelRef, s: DeploySettings, actor: string): Promise<EndpointView> {
    const resolved = await this.o.resolver.resolve(ref);
    const limit = this.o.maxModelBytes ?? 2 * 1024 ** 3;
    if (resolved.onnxBytes > limit) throw invalid(`Model ${resolved.name}/${resolved.version} is ${resolved.onnxBytes} bytes; the serving limit is ${limit}`);
    const id = `${resolved.name}/${resolved.version}`;
    const existing = ep.find(id);
    if (existing && existing.role !== 'previous') throw invalid(`${id} is already the ${existing.role} variant of endpoint '${ep.name}'`);
    let v = existing;
    if (!v) {
      const model = await LoadedModel.load(resolved);
      try {
        await model.warm();
      } catch (err) {
        await model.dispose();
        throw err;
      }
      v = this.makeVariant(ep, model);
    }
    const before = snapshot(ep);
    const gone = this.applyStrategy(ep, v, s);
    if (s.guardrails) ep.guardrails = { ...ep.guardrails, ...s.guardrails };
    this.changed(ep, before);
    this.o.audit.append({ actor, action: 'endpoint.deploy', objectType: 'endpoint', objectId: ep.name, before, after: snapshot(ep), reason: `${s.strategy} ${id}` });
    for (const g of gone) this.retire(ep, g);
    return ep.summary();
  }

  private applyStrategy(ep: Endpoint, v: Variant, s: DeploySettings): Variant[] {
    v.window.reset();
    if (!ep.variants.includes(v)) ep.add(v);
    const stable = ep.stable;
    if (!stable || s.strategy === 'replace') {
      ep.strategy = 'replace';
      const trials = ep.variants.filter((x) => x !== v && (x.role === 'candidate' || x.role === 'shadow'));
      for (const x of trials) ep.remove(x);
      return [...trials, ...ep.promote(v)];
    }
    ep.strategy = s.strategy;
    if (s.strategy === 'shadow') {
      const old = ep.byRole('shadow');
      if (old) ep.remove(old);
      v.role = 'shadow';
      v.weight = s.weight;
      return old ? [old] : [];
    }
    const gone = ep.variants.filter((x) => x !== v && (x.role === 'candidate' || x.role === 'shadow'));
    for (const g of gone) ep.remove(g);
    const first = s.strategy === 'canary' ? s.steps[0]! : s.weight;
    v.role = 'candidate';
    v.weight = first;
    stable.weight = 100 - first;
    ep.canary = s.strategy === 'canary' ? { steps: s.steps, index: 0, intervalMs: s.intervalMs, nextAt: this.clock.now() + s.intervalMs } : null;
    if (first >= 100) gone.push(...ep.promote(v));
    return gone;
  }

  private makeVariant(ep: Endpoint, model: LoadedModel): Variant {
    const features = new FeatureWindows(model.plan.mode === 'tensors' ? [] : model.featureNames);
    return {
      id: model.id,
      model,
      role: 'candidate',
      weight: 0,
      window: new RollingWindow(),
      since: Date.now(),
      features,
      shadow: { compared: 0, disagreed: 0, shadowMsSum: 0, primaryMsSum: 0, failed: 0 },
      recorder: this.metrics.track(`${ep.name}\u0000${model.id}`, {
        modelName: model.resolved.name,
        modelVersion: String(model.resolved.version),
        features,
        endpoint: ep.name,
        variant: model.id,
      }),
    };
  }

  /** After any change of roles or weights: routing table, weight gauges, the stored configuration. */
  private changed(ep: Endpoint, before: PersistedEndpoint): void {
    ep.commit();
    if (liveSplit(before.variants) !== liveSplit(ep.variants)) ep.splitSince = Date.now();
    this.metrics.weights(ep.name, ep.variants, before.variants.map((b) => ({ id: b.id, role: b.role })));
    this.o.repo.saveEndpoint(ep.name, snapshot(ep));
    for (const f of this.changeListeners) {
      try {
        f(ep.name);
      } catch (err) {
        this.o.log?.(`serving: a change listener failed for endpoint '${ep.name}': ${(err as Error).message}`);
      }
    }
  }

  private readonly changeListeners = new Set<(endpoint: string) => void>();
  private readonly hooks = new Set<ServingHook>();

  /** Adds a hook that moves with every promotion and rollback (see ServingHook). */
  addHook(h: ServingHook): () => void {
    this.hooks.add(h);
    return () => this.hooks.delete(h);
  }

  /**
   * Calls `f` after every stored change of an endpoint: deploys and rollbacks through the API, and the engine's own
   * background work (canary steps, guardrail rollbacks, a completed ramp), which passes through no HTTP route.
   */
  onChanged(f: (endpoint: string) => void): () => void {
    this.changeListeners.add(f);
    return () => this.changeListeners.delete(f);
  }

  /** Out of routing already; the session is freed once its requests in flight are done. */
  private retire(ep: Endpoint, v: Variant): void {
    this.metrics.untrack(`${ep.name}\u0000${v.id}`);
    const p = v.model.dispose().finally(() => this.draining.delete(p));
    this.draining.add(p);
  }

  /** Manual or guardrail rollback: one routing change, no model load. */
  rollback(name: string, actor: string, reason = 'manual', detail?: string): { endpoint: EndpointView; rollback: RollbackRecord } {
    const ep = this.endpoint(name);
    const t0 = performance.now();
    const before = snapshot(ep);
    const stable = ep.stable;
    if (!stable) throw invalid(`Endpoint '${name}' serves nothing yet`);
    const trials = ep.variants.filter((v) => v.role === 'candidate' || v.role === 'shadow');
    let gone: Variant[] = [];
    let from: string;
    let to: string;
    if (trials.length > 0) {
      gone = ep.dropTrials();
      from = trials.map((t) => t.id).join(', ');
      to = stable.id;
    } else {
      const prev = ep.byRole('previous');
      if (!prev) throw invalid(`Endpoint '${name}' has nothing to roll back to: it serves only ${stable.id}`);
      prev.role = 'stable';
      prev.weight = 100;
      stable.role = 'previous';
      stable.weight = 0;
      from = stable.id;
      to = prev.id;
    }
    ep.strategy = 'replace';
    ep.commit();
    const durationMs = performance.now() - t0;
    ep.lastRollback = { at: Date.now(), reason: detail ?? reason, actor, from, to, durationMs };
    const removed = trials.length > 0 ? trials.map((t) => t.id) : [from];
    this.o.repo.transaction(() => {
      this.changed(ep, before);
      this.o.audit.append({ actor, action: 'endpoint.rollback', objectType: 'endpoint', objectId: name, before, after: snapshot(ep), reason: detail ?? reason });
      for (const h of this.hooks) h.rolledBack?.({ endpoint: name, removed, to, actor, reason: detail ?? reason });
    });
    this.metrics.rollback(name, reason);
    for (const g of gone) this.retire(ep, g);
    return { endpoint: ep.summary(), rollback: ep.lastRollback };
  }

  /** Sets A/B weights by hand (stops a canary ramp where it stands). */
  setWeights(name: string, weights: Record<string, number>, actor: string): EndpointView {
    const ep = this.endpoint(name);
    const live = ep.variants.filter((v) => v.role === 'stable' || v.role === 'candidate');
    const problem = checkWeights(weights, live.map((v) => v.id));
    if (problem) throw invalid(problem);
    const missing = live.filter((v) => weights[v.id] === undefined);
    if (missing.length) throw invalid(`Weights must name every live variant; missing ${missing.map((m) => m.id).join(', ')}`);
    const before = snapshot(ep);
    for (const v of live) v.weight = weights[v.id]!;
    ep.canary = null;
    if (live.length > 1) ep.strategy = 'ab';
    this.changed(ep, before);
    this.o.audit.append({ actor, action: 'endpoint.weights', objectType: 'endpoint', objectId: name, before, after: snapshot(ep) });
    return ep.summary();
  }

  /** The live arms with the weights set, and when that split began: what an A/B analysis compares. */
  abArms(name: string): { arms: AbArm[]; since: number } {
    const ep = this.endpoint(name);
    const arms = ep.variants
      .filter((v): v is Variant & { role: 'stable' | 'candidate' } => v.role === 'stable' || v.role === 'candidate')
      .sort((a, b) => (a.role === b.role ? 0 : a.role === 'stable' ? -1 : 1))
      .map((v) => ({ id: v.id, model: `${v.model.resolved.name}/${v.model.resolved.version}`, role: v.role, weight: v.weight }));
    return { arms, since: ep.splitSince };
  }

  /**
   * The candidate (or shadow) becomes stable at 100 % now; the old stable stays warm as previous. A caller that names
   * the variant it means (`expected`) is refused when that is not the one that would be promoted, so a click on
   * "Promote X" can never promote Y.
   */
  promote(name: string, actor: string, reason = 'manual', expected?: string): EndpointView {
    const ep = this.endpoint(name);
    const next = ep.byRole('candidate') ?? ep.byRole('shadow');
    if (expected !== undefined && expected !== next?.id) {
      const named = ep.find(expected);
      const what = !named ? 'it is not a variant of this endpoint' : named.role === 'stable' ? 'it is the stable variant already' : `it is the ${named.role} variant`;
      const instead = next ? `the variant that can be promoted is ${next.id}` : 'there is no candidate or shadow to promote';
      throw new ApiError('RESOURCE_CONFLICT', `Cannot promote ${expected} on endpoint '${name}': ${what}; ${instead}`);
    }
    if (!next) throw invalid(`Endpoint '${name}' has no candidate or shadow to promote`);
    for (const h of this.hooks) {
      const refused = h.check?.(name, next.id);
      if (refused) throw new ApiError('RESOURCE_CONFLICT', `Cannot promote ${next.id} on endpoint '${name}': ${refused}`);
    }
    const before = snapshot(ep);
    const from = ep.stable?.id ?? null;
    const gone = [...ep.variants.filter((v) => v !== next && (v.role === 'candidate' || v.role === 'shadow'))];
    for (const g of gone) ep.remove(g);
    gone.push(...ep.promote(next));
    ep.strategy = 'replace';
    this.o.repo.transaction(() => {
      this.changed(ep, before);
      this.o.audit.append({ actor, action: 'endpoint.promote', objectType: 'endpoint', objectId: name, before, after: snapshot(ep), reason });
      for (const h of this.hooks) h.promoted?.({ endpoint: name, from, to: next.id, actor, reason });
      // The kill -9 test stops the process here: nothing of this promotion may survive.
      crashPoint('promotion');
    });
    for (const g of gone) this.retire(ep, g);
    return ep.summary();
  }

  async remove(name: string, actor: string): Promise<void> {
    const ep = this.endpoint(name);
    const before = snapshot(ep);
    this.endpoints.delete(name);
    ep.arms = [];
    this.metrics.weights(name, [], before.variants.map((b) => ({ id: b.id, role: b.role })));
    for (const v of [...ep.variants]) this.retire(ep, v);
    this.o.repo.deleteEndpoint(name);
    this.o.audit.append({ actor, action: 'endpoint.delete', objectType: 'endpoint', objectId: name, before });
    await Promise.all(this.draining);
  }

  async predict(name: string, body: unknown, key: string | null, requestId: string = randomUUID()): Promise<PredictResult> {
    const ep = this.endpoint(name);
    const arms = ep.arms;
    if (arms.length === 0) throw new ApiError('TEMPORARILY_UNAVAILABLE', `Endpoint '${name}' has no model deployed`);
    const frame = parsePayload(body);
    const arm = arms.length === 1 ? arms[0]! : pickArm(arms, key, this.random);
    const t0 = performance.now();
    let served = arm;
    let result: Prediction;
    let fallback = false;
    try {
      result = await arm.model.predict(frame);
    } catch (err) {
      if (!(err instanceof InferenceError)) throw err;
      arm.window.record(performance.now() - t0, false);
      arm.recorder.outcome('error');
      const stable = ep.stable;
      if (!stable || stable === arm) throw new ApiError('INTERNAL_ERROR', err.message);
      // The candidate failed: the caller gets the stable's answer; the failure counts against the candidate.
      served = stable;
      fallback = true;
      result = await stable.model.predict(frame).catch((e: unknown) => {
        throw e instanceof InferenceError ? new ApiError('INTERNAL_ERROR', e.message) : e;
      });
    }
    const ms = performance.now() - t0;
    if (!fallback) arm.window.record(ms, true);
    served.recorder.outcome(fallback ? 'fallback' : 'ok');
    served.recorder.observe(ms / 1000, result.predictions);
    if (result.values) served.features.add(result.values);
    const shadow = ep.shadowArm;
    if (shadow && this.random() * 100 < shadow.weight) void this.mirror(name, shadow, frame, result.predictions, ms);
    this.o.repo.log({
      requestId,
      endpoint: name,
      variant: served.id,
      modelName: served.model.resolved.name,
      modelVersion: served.model.resolved.version,
      features: logFeatures(served, result),
      prediction: result.predictions.length > LOG_ROWS ? result.predictions.slice(0, LOG_ROWS) : result.predictions,
      latencyMs: ms,
      ts: Date.now(),
    });
    return { predictions: result.predictions, variant: served.id, requestId, fallback, model: served.model };
  }

  /** Runs the shadow on the same input after the caller was answered; only statistics come out of it. */
  private async mirror(endpoint: string, shadow: Variant, frame: Frame, primary: readonly unknown[], primaryMs: number): Promise<void> {
    const t0 = performance.now();
    try {
      const r = await shadow.model.predict(frame);
      const ms = performance.now() - t0;
      shadow.window.record(ms, true);
      shadow.recorder.observe(ms / 1000, r.predictions);
      const s = shadow.shadow;
      s.compared++;
      s.shadowMsSum += ms;
      s.primaryMsSum += primaryMs;
      const differs = !samePredictions(primary, r.predictions);
      if (differs) s.disagreed++;
      this.metrics.shadow(endpoint, shadow.id, differs);
    } catch {
      shadow.window.record(performance.now() - t0, false);
      shadow.shadow.failed++;
    }
  }

  feedback(name: string, items: readonly { requestId: string; label: unknown }[]): { matched: number; unmatched: string[] } {
    this.endpoint(name);
    const matched = new Set(this.o.repo.feedback(name, items));
    return { matched: matched.size, unmatched: items.map((i) => i.requestId).filter((id) => !matched.has(id)) };
  }

  recentPredictions(name: string, limit: number): ReturnType<ServingRepository['recent']> {
    return this.o.repo.recent(name, limit);
  }

  /** Canary steps and guardrails. One endpoint's failure (a store write that throws) is logged and counted; the loop goes on. */
  private tick(): void {
    const now = this.clock.now();
    for (const ep of [...this.endpoints.values()]) {
      try {
        this.step(ep, now);
      } catch (err) {
        this.metrics.tickError();
        this.o.log?.(`serving: tick failed for endpoint '${ep.name}': ${(err as Error).message}`);
      }
    }
  }

  private step(ep: Endpoint, now: number): void {
    const cand = ep.byRole('candidate');
    if (!cand) return;
    const breach = guardrailBreach(cand, ep.stable, ep.guardrails, now);
    if (breach) {
      this.rollback(ep.name, 'guardrail', breach.code, breach.message);
      return;
    }
    const c = ep.canary;
    if (!c || now < c.nextAt) return;
    const before = snapshot(ep);
    c.index++;
    const pct = c.steps[c.index] ?? 100;
    if (pct >= 100) {
      try {
        this.promote(ep.name, 'canary', `canary ramp complete (${c.steps.join(' → ')} %)`);
      } catch (err) {
        // A hook refused the promotion (e.g. the champion's promotion gate): the candidate goes, not a retry every tick.
        if (!(err instanceof ApiError) || err.code !== 'RESOURCE_CONFLICT') throw err;
        this.rollback(ep.name, 'canary', 'promotion_refused', err.message);
      }
      return;
    }
    cand.weight = pct;
    ep.stable!.weight = 100 - pct;
    c.nextAt = now + c.intervalMs;
    this.changed(ep, before);
    this.o.audit.append({ actor: 'canary', action: 'endpoint.canary_step', objectType: 'endpoint', objectId: ep.name, before, after: snapshot(ep), reason: `${cand.id} at ${pct} %` });
  }

  /**
   * Re-creates the endpoints stored by an earlier backend: stable and previous come back, a canary ramp resumes at
   * the step it was on (its next step when it was due), and an A/B arm with its weight; shadows do not.
   */
  async restore(actor: string): Promise<string[]> {
    const problems: string[] = [];
    for (const { name, config } of this.o.repo.endpoints()) {
      const cfg = config as PersistedEndpoint;
      const order = ['previous', 'stable'] as const;
      for (const role of order) {
        const v = cfg.variants.find((x) => x.role === role);
        if (!v) continue;
        try {
          await this.deploy(name, { model: v.id, strategy: 'replace' }, actor);
        } catch (err) {
          problems.push(`${name}: ${v.id}: ${(err as Error).message}`);
        }
      }
      const ep = this.endpoints.get(name);
      if (ep && cfg.guardrails) ep.guardrails = { ...DEFAULT_GUARDRAILS, ...cfg.guardrails };
      if (ep?.stable && cfg.canary) await this.resumeCanary(ep, cfg, actor, problems);
      else if (ep?.stable && cfg.strategy === 'ab') await this.resumeAb(ep, cfg, actor, problems);
    }
    return problems;
  }

  private async resumeCanary(ep: Endpoint, cfg: PersistedEndpoint, actor: string, problems: string[]): Promise<void> {
    const c = cfg.canary!;
    const cand = cfg.variants.find((x) => x.role === 'candidate');
    if (!cand) return;
    try {
      await this.deploy(ep.name, { model: cand.id, strategy: 'canary', steps: c.steps, step_interval_s: c.interval_ms / 1000 }, actor);
    } catch (err) {
      problems.push(`${ep.name}: canary ${cand.id}: ${(err as Error).message}`);
      return;
    }
    const live = ep.canary;
    const v = ep.byRole('candidate');
    if (!live || !v || !ep.stable) return;
    const before = snapshot(ep);
    live.index = Math.min(c.step, c.steps.length - 1);
    v.weight = c.steps[live.index]!;
    ep.stable.weight = 100 - v.weight;
    live.nextAt = c.next_at ?? this.clock.now() + c.interval_ms;
    this.changed(ep, before);
  }

  /** An A/B split comes back with its weights (a running experiment analyses it across restarts). */
  private async resumeAb(ep: Endpoint, cfg: PersistedEndpoint, actor: string, problems: string[]): Promise<void> {
    const cand = cfg.variants.find((x) => x.role === 'candidate' && x.weight > 0 && x.weight < 100);
    if (!cand) return;
    try {
      await this.deploy(ep.name, { model: cand.id, strategy: 'ab', weight: cand.weight }, actor);
    } catch (err) {
      problems.push(`${ep.name}: A/B arm ${cand.id}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTicking();
    this.o.repo.close();
    for (const ep of this.endpoints.values()) for (const v of ep.variants) this.retire(ep, v);
    this.endpoints.clear();
    await Promise.all(this.draining);
  }
}

/** The live arms and their weights, as one comparable string. */
function liveSplit(vs: readonly { id: string; role: string; weight: number }[]): string {
  return vs
    .filter((v) => v.role === 'stable' || v.role === 'candidate')
    .map((v) => `${v.id}:${v.role}:${v.weight}`)
    .sort()
    .join(',');
}

function logFeatures(v: Variant, r: Prediction): unknown {
  if (!r.values) return null;
  const names = v.model.featureNames;
  const k = names.length;
  const n = Math.min(r.rows, LOG_ROWS);
  const rows: number[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: number[] = new Array(k);
    for (let c = 0; c < k; c++) row[c] = r.values[i * k + c]!;
    rows[i] = row;
  }
  return { columns: names, rows };
}
