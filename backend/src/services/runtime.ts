import type { CoreContext } from '../context';
import { openCore } from '../core';
import { systemClock, type Clock } from '../util/clock';
import { silentLogger, type Logger } from '../util/logger';
import { DriftService } from './drift/service';
import { JobService, type JobServiceOptions } from './jobs/service';
import { PipelineService } from './pipelines/service';
import { ServingEngine } from './serving/engine';
import { RegistryResolver, type ModelResolver } from './serving/resolver';
import { Scheduler } from './scheduler';
import { ServingRepository } from './serving/repository';
import { KnownSecrets } from './secrets';
import { AlertHub } from './monitors/alerts';
import { CheckWorker } from './monitors/checkworker';
import { MonitorService } from './monitors/service';
import { WebhookChannel } from './monitors/webhooks';
import { RetrainService } from './retrain/service';
import { AbExperiments } from './retrain/experiments';

export interface RuntimeOptions {
  /** Folder holding mlops.db and artifacts/. */
  home: string;
  /** ':memory:' for tests; defaults to <home>/mlops.db. */
  dbFile?: string;
  clock?: Clock;
  logger?: Logger;
  /** Where jobs send their MLflow calls (the listening backend); null while it does not listen. Jobs get tokens of their own. */
  endpoint?: () => { url: string } | null;
  /** The backend's own bearer token: a secret masked wherever it could show (job logs, lineage, API answers). */
  token?: string;
  serving?: {
    /** Defaults to the registry. */
    resolver?: ModelResolver;
    /** How often canary steps and guardrails are checked. */
    tickMs?: number;
  };
  jobs?: Omit<JobServiceOptions, 'endpoint' | 'secrets'>;
}

/**
 * The composition root: every service of a running backend, built once with its dependencies, handed to the routes,
 * and closed in the reverse order of construction. The CLI's direct path opens only the core (core.ts).
 */
export class Runtime {
  readonly core: CoreContext;
  readonly clock: Clock;
  readonly log: Logger;
  readonly servingRepo: ServingRepository;
  readonly drift: DriftService;
  readonly engine: ServingEngine;
  readonly jobs: JobService;
  readonly pipelines: PipelineService;
  /** The tick loop for background work (monitors and other periodic tasks add themselves here). */
  readonly scheduler: Scheduler;
  /** Incident changes fan out from here to the alert channels (webhooks, editor notifications, audit). */
  readonly alerts: AlertHub;
  /** Scheduled checks of the endpoints (drift, concept drift, SLOs) and their incidents. */
  readonly monitors: MonitorService;
  /** Alertmanager-style webhooks: one of the alert channels. */
  readonly webhooks: WebhookChannel;
  /** The retraining loop: policies, triggers (schedule, incidents, manual) and the ledger. */
  readonly retrain: RetrainService;
  /** Online A/B experiments: champion vs challenger under the always-valid sequential test. */
  readonly experiments: AbExperiments;
  /** Every secret value the backend knows, for masking by value. */
  readonly secrets: KnownSecrets;
  /** Background work that must end before the store closes, in construction order (stop() runs it backwards). */
  private readonly stoppers: [string, () => unknown][] = [];
  /** Resources, in construction order (close() runs it backwards). */
  private readonly closers: [string, () => unknown][] = [];
  private started = false;
  private stopped: Promise<void> | null = null;
  private closed: Promise<void> | null = null;

  private constructor(o: RuntimeOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.scheduler = new Scheduler({ clock: this.clock, log: this.log });
    const core = (this.core = openCore(o.home, o.dbFile));
    this.closers.push(['store', () => core.db.close()]);
    this.secrets = new KnownSecrets(core.db, o.token ?? null, process.env, () => this.webhooks.secretValues());
    this.alerts = new AlertHub(this.log);
    this.webhooks = new WebhookChannel({ db: core.db, clock: this.clock, log: this.log, externalURL: () => o.endpoint?.()?.url ?? '', secretsChanged: () => this.secrets.invalidate() });
    this.alerts.add(this.webhooks);
    this.webhooks.schedule(this.scheduler);
    try {
      this.servingRepo = new ServingRepository(core.db);
      const repo = this.servingRepo;
      // A drift check reads the newest predictions: the ones still queued for the log are committed first.
      this.drift = new DriftService(core, { flushLog: () => repo.flushed() });
      this.stoppers.push(['drift profiler', () => this.drift.profiler.stop()]);
      this.engine = new ServingEngine({
        resolver: o.serving?.resolver ?? new RegistryResolver(core),
        audit: core.audit,
        repo,
        // ml_drift_score: each endpoint's latest stored data-drift check (computed only where none is stored yet).
        driftSamples: () => this.drift.metricSamples((name) => this.monitors.storedDrift(name)),
        // ml_model_accuracy: each version's latest stored performance check (the log's computation where none is).
        accuracy: (live) => this.monitors.accuracyRows(live),
        clock: this.clock,
        scheduler: this.scheduler,
        log: (m) => this.log.error(m),
        // An endpoint's first deploy creates its default monitors.
        onDeployed: (name) => this.monitors.ensure(name),
        ...(o.serving?.tickMs ? { tickMs: o.serving.tickMs } : {}),
      });
      // The engine closes the serving repository (its log writer) with its models.
      this.closers.push(['serving engine', () => this.engine.close()]);
      // The monitors' window reads (its own read-only connection) and statistics run in a worker thread, off the
      // serving event loop; closed (connection first) before the store.
      const checks = new CheckWorker(this.log, core.db);
      this.closers.push(['checks worker', () => checks.close()]);
      this.monitors = new MonitorService({ core, clock: this.clock, log: this.log, drift: this.drift, engine: this.engine, flushLog: () => repo.flushed(), alerts: this.alerts, compute: checks });
      this.monitors.schedule(this.scheduler);
      this.jobs = new JobService(core, { clock: this.clock, ...o.jobs, endpoint: o.endpoint ?? (() => null), secrets: () => this.secrets.values() });
      this.stoppers.push(['jobs', () => this.jobs.close()]);
      this.pipelines = new PipelineService(core, this.jobs);
      this.stoppers.push(['pipelines', () => this.pipelines.close()]);
      this.experiments = new AbExperiments({ core, clock: this.clock, log: this.log, engine: this.engine, serving: repo });
      this.experiments.schedule(this.scheduler);
      this.retrain = new RetrainService({ core, clock: this.clock, log: this.log, pipelines: this.pipelines, engine: this.engine, experiments: this.experiments, alerts: this.alerts, flushLog: () => repo.flushed() });
      this.retrain.schedule(this.scheduler);
      this.stoppers.push(['retrain', () => this.retrain.close()]);
      this.stoppers.push(['alert channels', () => this.alerts.close()]);
      // Stopped first (pushed last): its tasks use the services above.
      this.stoppers.push(['scheduler', () => this.scheduler.stop()]);
    } catch (err) {
      core.db.close();
      throw err;
    }
  }

  /** Builds every service and restores what the store says was serving; background work starts with start(). */
  static async open(o: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(o);
    try {
      const problems = await rt.engine.restore(rt.core.defaultActor);
      for (const p of problems) rt.log.warn(`serving: could not restore ${p}`);
      // Versions registered while no backend ran (the CLI, a sync pull) are profiled at start.
      rt.drift.profiler.kick();
    } catch (err) {
      await rt.close();
      throw err;
    }
    return rt;
  }

  /** Starts the background work: the job queue (reattaching jobs that ran before a restart), then the tick loop. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.jobs.init();
    this.scheduler.start();
  }

  /** Ends the background work (the store stays open for requests still in flight). */
  stop(): Promise<void> {
    this.stopped ??= this.runBackwards(this.stoppers);
    return this.stopped;
  }

  /** Stops the background work, then closes every resource in the reverse order of construction. */
  close(): Promise<void> {
    this.closed ??= this.stop().then(() => this.runBackwards(this.closers));
    return this.closed;
  }

  /** Runs each step even when an earlier one throws (a failed close must not leave the store open), then rethrows. */
  private async runBackwards(steps: readonly [string, () => unknown][]): Promise<void> {
    let first: unknown = null;
    for (const [name, step] of [...steps].reverse()) {
      try {
        await step();
      } catch (err) {
        this.log.error({ err }, `closing ${name} failed`);
        first ??= err;
      }
    }
    if (first) throw first;
  }
}
