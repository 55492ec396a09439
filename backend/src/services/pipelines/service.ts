import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CoreContext } from '../../context';
import { ApiError, invalid } from '../../util/errors';
import type { JobService } from '../jobs/service';
import { buildImage } from '../jobs/images';
import { createJobRun, latestMetrics, runArtifactDir, setRunStatus } from '../jobs/runs';
import type { JobSpec } from '../jobs/types';
import { DEFAULT_TIMEOUT_MS, parseDuration, parseMemory } from '../jobs/spec';
import { ExprError, evaluate, renderTemplate, truthy, type Scope } from './expr';
import { outcome, PipelineRepo, type PipelineRun, type StepStatus } from './repository';
import { parsePipeline, PipelineError, type Param, type PipelineDef, type StepDef } from './spec';
import { validateCsv } from './validate';
import { folderDigest } from './digest';

interface StepState {
  status: StepStatus;
  outputs: Record<string, unknown>;
  metrics: Record<string, number>;
  dir: string | null;
  cacheKey: string | null;
}

/** A pipeline run in progress: the jobs of its running steps, and why it is being cancelled (null: it is not). */
interface Execution {
  done: Promise<void>;
  cancelled: string | null;
  jobs: Set<string>;
  submitting: Promise<void>;
}

const RUN_STATUS = { finished: 'FINISHED', failed: 'FAILED', cancelled: 'KILLED' } as const;
const CONTAINER_OUT = '/mlops/outputs';
const WORKSPACE = '/workspace';

/**
 * Runs mlops.yaml pipelines: independent steps at once, each after what it needs, as jobs (or the built-in data validation), `when` gates,
 * outputs passed on through folders and outputs.json, and a cache keyed by each step's inputs, code and image.
 * A pipeline run is an MLflow run; each step's run is nested under it.
 */
export class PipelineService {
  readonly repo: PipelineRepo;
  private readonly active = new Map<string, Execution>();
  private closed = false;

  constructor(
    private readonly ctx: CoreContext,
    private readonly jobs: JobService,
  ) {
    this.repo = new PipelineRepo(ctx.db);
    this.repo.abandonRunning('The backend restarted while the pipeline ran; run it again (finished steps are cached)');
  }

  load(file: string): PipelineDef {
    const abs = resolve(file);
    if (!existsSync(abs)) throw invalid(`Pipeline file '${file}' does not exist`);
    try {
      return parsePipeline(readFileSync(abs, 'utf8'), abs);
    } catch (err) {
      if (err instanceof PipelineError) throw invalid(err.message);
      throw err;
    }
  }

  async start(file: string, o: { params: Record<string, Param>; launcher?: 'docker' | 'local' | 'ray' }): Promise<PipelineRun> {
    const def = this.load(file);
    const unknown = Object.keys(o.params).filter((k) => !(k in def.params));
    if (unknown.length) throw invalid(`Unknown parameter(s) ${unknown.join(', ')}; ${def.file} declares ${Object.keys(def.params).join(', ') || 'none'}`);
    if (o.launcher) for (const s of def.steps) s.launcher = o.launcher;
    const params = { ...def.params, ...o.params };
    const id = randomBytes(8).toString('hex');
    const run = createJobRun(this.ctx, {
      experiment: def.experiment,
      runName: `${def.name}-${id.slice(0, 6)}`,
      tags: { 'mlops.pipeline': def.name, 'mlops.pipeline_file': def.file, 'mlops.pipeline_run_id': id },
      params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    });
    setRunStatus(this.ctx, run.runId, 'RUNNING', false);
    this.repo.insert({ id, name: def.name, file: def.file, runId: run.runId, params, steps: def.steps.map((s) => s.name) });
    const ex: Execution = { done: Promise.resolve(), cancelled: null, jobs: new Set(), submitting: Promise.resolve() };
    ex.done = this.execute(id, def, params, run.runId, ex).catch((err: unknown) => {
      if (!this.closed) this.end(id, run.runId, 'failed', `Internal error: ${String(err)}`);
    });
    this.active.set(id, ex);
    void ex.done.finally(() => this.active.delete(id));
    return this.repo.get(id);
  }

  /** Resolves once the pipeline run has ended. */
  async waitFor(id: string): Promise<PipelineRun> {
    await this.active.get(id)?.done;
    return this.repo.get(id);
  }

  get(id: string): PipelineRun {
    return this.repo.get(id);
  }

  list(): PipelineRun[] {
    return this.repo.list();
  }

  /**
   * Cancels a running pipeline: steps not started yet end `cancelled` at once, running steps' jobs are cancelled
   * (SIGTERM, then SIGKILL after the grace period; queued jobs never start). The run ends `cancelled` once they have.
   */
  async cancel(idOrPrefix: string, reason: string | undefined, actor: string): Promise<PipelineRun> {
    const run = this.repo.find(idOrPrefix);
    const ex = this.active.get(run.pipeline_run_id);
    if (run.status !== 'running' || !ex) throw new ApiError('INVALID_STATE', `Pipeline run ${run.pipeline_run_id} already ended (${outcome(run)})`);
    if (ex.cancelled !== null) return run;
    ex.cancelled = reason?.trim() || `cancelled by ${actor}`;
    this.ctx.audit.append({
      actor,
      action: 'pipeline.cancel',
      objectType: 'pipeline_run',
      objectId: run.pipeline_run_id,
      before: { status: run.status, steps: Object.fromEntries(run.steps.map((s) => [s.step, s.status])) },
      after: { status: 'cancelled' },
      reason: ex.cancelled,
    });
    this.repo.setMessage(run.pipeline_run_id, `cancelling: ${ex.cancelled}`);
    for (const s of run.steps) if (s.status === 'pending') this.repo.updateStep(run.pipeline_run_id, s.step, { status: 'cancelled', message: `not started: pipeline cancelled (${ex.cancelled})` });
    await Promise.all([...ex.jobs].map((j) => this.jobs.cancel(j, { actor, reason: `pipeline run ${run.pipeline_run_id} cancelled: ${ex.cancelled}` }).catch(() => undefined)));
    return this.repo.get(run.pipeline_run_id);
  }

  close(): void {
    this.closed = true;
  }

  private end(id: string, runId: string, status: 'finished' | 'failed' | 'cancelled', message: string): void {
    this.repo.finish(id, status, message);
    try {
      setRunStatus(this.ctx, runId, RUN_STATUS[status], true);
    } catch {
      // The run was deleted; the pipeline record still holds the outcome.
    }
  }

  /**
   * Starts every step whose needs have ended, up to max_parallel at once (the job queue bounds jobs too). A failed
   * step's dependants are skipped; with fail_fast (the default) no new step starts after a failure while steps
   * already running finish, as Argo's failFast does.
   */
  private async execute(id: string, def: PipelineDef, params: Record<string, Param>, parentRun: string, ex: Execution): Promise<void> {
    const root = join(this.ctx.home, 'pipelines', id);
    const code = await folderDigest(def.dir);
    let builtImage: string | undefined;
    if (def.build && def.steps.some((s) => s.launcher === 'docker' && !s.image)) {
      builtImage = (await buildImage(this.jobs.docker, def.build)).tag;
    }
    const states = new Map<string, StepState>(def.steps.map((s) => [s.name, { status: 'pending', outputs: {}, metrics: {}, dir: null, cacheKey: null }]));
    const running = new Map<string, Promise<void>>();
    let failed: string | null = null;
    const stopped = () => ex.cancelled !== null || (failed !== null && def.failFast);
    for (;;) {
      if (this.closed) return;
      for (const step of def.steps) {
        if (stopped() || running.size >= (def.maxParallel ?? Infinity)) break;
        const st = states.get(step.name)!;
        if (st.status !== 'pending' || step.needs.some((n) => ['pending', 'running'].includes(states.get(n)!.status))) continue;
        const skip = (message: string) => {
          st.status = 'skipped';
          this.repo.updateStep(id, step.name, { status: 'skipped', message });
        };
        const blocked = step.needs.find((n) => states.get(n)!.status !== 'finished' && states.get(n)!.status !== 'cached');
        if (blocked) {
          skip(`not run: it needs '${blocked}', which ${({ skipped: 'was skipped', cancelled: 'was cancelled' } as Record<string, string>)[states.get(blocked)!.status] ?? 'failed'}`);
          continue;
        }
        const ended = [...states].filter(([, s]) => s.status !== 'pending' && s.status !== 'running');
        const scope: Scope = { params, steps: Object.fromEntries(ended.map(([n, s]) => [n, { status: s.status, outputs: s.outputs, metrics: s.metrics }])) };
        if (step.when) {
          let open: boolean;
          try {
            open = truthy(evaluate(step.when.expr, scope));
          } catch (err) {
            if (!(err instanceof ExprError)) throw err;
            this.repo.updateStep(id, step.name, { status: 'failed', message: `when '${step.when.src}': ${err.message}` });
            st.status = 'failed';
            failed ??= step.name;
            continue;
          }
          if (!open) {
            skip(`gate closed: when '${step.when.src}' is false`);
            continue;
          }
        }
        if (step.validate) {
          if (!this.runValidation(id, def, step, st, root, parentRun, scope)) failed ??= step.name;
          continue;
        }
        st.status = 'running';
        const image = step.image ?? builtImage;
        const p = this.runStep(id, def, step, st, { root, code, parentRun, scope, states, params, image, ex })
          .then((ok) => {
            if (!ok && ex.cancelled === null) failed ??= step.name;
          })
          .finally(() => running.delete(step.name));
        running.set(step.name, p);
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    for (const [name, st] of states) {
      if (st.status !== 'pending') continue;
      const why = `step '${failed}' ${failed && states.get(failed)!.status === 'cancelled' ? 'was cancelled' : 'failed'}`;
      const message = ex.cancelled !== null ? `not started: pipeline cancelled (${ex.cancelled})` : `not run: ${why}`;
      this.repo.updateStep(id, name, { status: ex.cancelled !== null ? 'cancelled' : 'skipped', message });
    }
    if (ex.cancelled !== null) this.end(id, parentRun, 'cancelled', `cancelled: ${ex.cancelled}`);
    else if (failed) this.end(id, parentRun, 'failed', `step '${failed}' ${states.get(failed)!.status === 'cancelled' ? 'was cancelled' : 'failed'}`);
    else this.end(id, parentRun, 'finished', `${def.steps.length} step(s) done`);
  }

  private runValidation(id: string, def: PipelineDef, step: StepDef, st: StepState, root: string, parentRun: string, scope: Scope): boolean {
    const started = Date.now();
    let data: string;
    try {
      // `data: ${{ params.data }}`: the file a parameter names (a retrain's exported data), relative to the pipeline.
      data = resolve(def.dir, renderTemplate(step.validate!.data, scope));
    } catch (err) {
      this.repo.updateStep(id, step.name, { status: 'failed', message: `template: ${(err as Error).message}` });
      st.status = 'failed';
      return false;
    }
    const v = { ...step.validate!, data };
    const report = validateCsv(v.data, v.schema);
    const dir = join(root, step.name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), JSON.stringify(report, null, 2));
    const run = createJobRun(this.ctx, { experiment: def.experiment, runName: step.name, tags: { 'mlops.pipeline_run_id': id, 'mlops.step': step.name, 'mlops.step.kind': 'validate' }, params: { data: v.data }, parentRunId: parentRun });
    this.ctx.tracking.runs.logBatch(run.runId, [{ key: 'rows', value: report.rows, timestamp: Date.now(), step: 0 }, { key: 'failed_checks', value: report.failures.length, timestamp: Date.now(), step: 0 }], [], []);
    const artifacts = runArtifactDir(this.ctx, run.artifactUri);
    if (artifacts) {
      mkdirSync(join(artifacts, 'validation'), { recursive: true });
      writeFileSync(join(artifacts, 'validation', 'report.json'), JSON.stringify(report, null, 2));
    }
    setRunStatus(this.ctx, run.runId, report.ok ? 'FINISHED' : 'FAILED', true);
    st.status = report.ok ? 'finished' : 'failed';
    st.dir = dir;
    st.outputs = { rows: report.rows, ok: report.ok, report: join(dir, 'report.json') };
    st.metrics = { rows: report.rows, failed_checks: report.failures.length };
    const message = report.ok
      ? `${report.rows} rows passed ${Object.keys(v.schema.columns).length} column check(s)`
      : `data validation failed (${report.failures.length} problem(s)): ${report.failures.slice(0, 5).join('; ')}${report.failures.length > 5 ? '; ...' : ''}`;
    this.repo.updateStep(id, step.name, { status: st.status, run_id: run.runId, output_dir: dir, outputs: st.outputs, message, started_at: started, ended_at: Date.now() });
    return report.ok;
  }

  private async runStep(
    id: string,
    def: PipelineDef,
    step: StepDef,
    st: StepState,
    c: { root: string; code: string; parentRun: string; scope: Scope; states: Map<string, StepState>; params: Record<string, Param>; image: string | undefined; ex: Execution },
  ): Promise<boolean> {
    const docker = step.launcher === 'docker';
    const outDir = join(c.root, step.name);
    const seen = (n: string, dir: string) => (docker ? `${CONTAINER_OUT}/${n}` : dir);
    const steps = c.scope.steps as Record<string, { outputs: Record<string, unknown> }>;
    for (const n of step.needs) steps[n] = { ...steps[n]!, outputs: { ...steps[n]!.outputs, dir: seen(n, c.states.get(n)?.dir ?? '') } };
    const scope: Scope = { ...c.scope, steps };
    let command: string[];
    let env: Record<string, string>;
    let stepParams: Record<string, string>;
    try {
      command = step.command.map((a) => renderTemplate(a, scope));
      // Template values a shell script reads from variables go with the step's env (and so into the cache key).
      env = Object.fromEntries(Object.entries({ ...step.env, ...step.scriptEnv }).map(([k, v]) => [k, renderTemplate(v, scope)]));
      stepParams = Object.fromEntries(Object.entries(step.params).map(([k, v]) => [k, renderTemplate(String(v), scope)]));
    } catch (err) {
      this.repo.updateStep(id, step.name, { status: 'failed', message: `template: ${(err as Error).message}` });
      st.status = 'failed';
      return false;
    }
    const imageId = docker && c.image ? ((await this.jobs.docker.getImage(c.image).inspect().catch(() => null))?.Id ?? c.image) : 'local';
    const needKeys = step.needs.map((n) => c.states.get(n)?.cacheKey ?? n);
    st.cacheKey = createHash('sha256')
      .update(JSON.stringify({ def: def.name, step: step.name, command, env, stepParams, imageId, code: c.code, needKeys, outputs: step.outputs, launcher: step.launcher }))
      .digest('hex');
    if (step.cache) {
      const hit = this.repo.cached(st.cacheKey);
      if (hit && existsSync(hit.output_dir)) {
        Object.assign(st, { status: 'cached', outputs: hit.outputs, dir: hit.output_dir, metrics: hit.run_uuid ? safeMetrics(this.ctx, hit.run_uuid) : {} });
        this.repo.updateStep(id, step.name, { status: 'cached', run_id: hit.run_uuid, cache_key: st.cacheKey, outputs: hit.outputs, output_dir: hit.output_dir, message: 'inputs, code and image unchanged: reused the earlier outputs' });
        return true;
      }
    }
    mkdirSync(outDir, { recursive: true });
    const mounts = docker
      ? [
          { source: def.dir, target: WORKSPACE, read_only: true },
          { source: outDir, target: `${CONTAINER_OUT}/${step.name}`, read_only: false },
          ...step.needs.map((n) => ({ source: c.states.get(n)!.dir!, target: `${CONTAINER_OUT}/${n}`, read_only: true })),
          ...step.mounts,
        ].map((m) => ({ source: m.source, target: m.target, readOnly: m.read_only }))
      : [];
    const needEnv = Object.fromEntries(step.needs.map((n) => [`MLOPS_INPUT_${n.toUpperCase().replace(/-/g, '_')}`, seen(n, c.states.get(n)?.dir ?? '')]));
    const paramEnv = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [`MLOPS_PARAM_${k.toUpperCase()}`, String(v)]));
    const spec: JobSpec = {
      command,
      env: { ...paramEnv, ...needEnv, ...env, MLOPS_OUTPUT_DIR: seen(step.name, outDir), MLOPS_PIPELINE_RUN_ID: id },
      cwd: docker ? WORKSPACE : def.dir,
      mounts,
      resources: { ...(step.cpus ? { cpus: step.cpus } : {}), ...(step.memory ? { memoryBytes: parseMemory(step.memory) } : {}), ...(step.gpus ? { gpus: step.gpus } : {}) },
      timeoutMs: step.timeout ? parseDuration(step.timeout) : DEFAULT_TIMEOUT_MS,
      retries: step.retries,
      experiment: def.experiment,
      runName: step.name,
      params: { ...Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, String(v)])), ...stepParams },
      tags: { 'mlops.pipeline_run_id': id, 'mlops.step': step.name, 'mlops.cache_key': st.cacheKey },
      data: [],
      codeDir: def.dir,
      parentRunId: c.parentRun,
      stopGraceS: 10,
    };
    if (docker) spec.image = c.image!;
    // A Ray step's folder is uploaded as its working_dir; its output folder is this host's (a shared filesystem).
    if (step.launcher === 'ray' && step.rayAddress) spec.rayAddress = step.rayAddress;
    const started = Date.now();
    // One submission at a time, so the job queue (oldest first) starts ready steps in the file's order.
    const submitted = c.ex.submitting.then(() => this.jobs.submit(step.launcher, spec, { pipelineRunId: id }));
    c.ex.submitting = submitted.then(
      () => undefined,
      () => undefined,
    );
    let job = await submitted;
    c.ex.jobs.add(job.job_id);
    this.repo.updateStep(id, step.name, { status: 'running', job_id: job.job_id, run_id: job.run_id, cache_key: st.cacheKey, output_dir: outDir, started_at: started });
    // Cancelled while this step was being prepared: its job must not start.
    if (c.ex.cancelled !== null) await this.jobs.cancel(job.job_id, { reason: `pipeline run ${id} cancelled: ${c.ex.cancelled}` }).catch(() => undefined);
    job = await this.jobs.waitFor(job.job_id);
    c.ex.jobs.delete(job.job_id);
    st.dir = outDir;
    let message = job.message ?? '';
    let ok = job.status === 'finished';
    const missing = ok ? step.outputs.filter((f) => !existsSync(join(outDir, f))) : [];
    if (missing.length) {
      ok = false;
      message = `declared output(s) missing from $MLOPS_OUTPUT_DIR: ${missing.join(', ')}`;
    }
    st.outputs = ok ? readOutputs(outDir) : {};
    st.metrics = job.run_id ? safeMetrics(this.ctx, job.run_id) : {};
    st.status = ok ? 'finished' : job.status === 'cancelled' ? 'cancelled' : 'failed';
    if (st.status === 'cancelled') {
      const why = c.ex.cancelled !== null ? `pipeline cancelled (${c.ex.cancelled})` : `job ${job.job_id} was cancelled`;
      message = job.started_at ? `cancelled: ${why}; ${message}` : `not started: ${why}`;
    } else if (!ok) {
      message = `job ${job.job_id} ${job.status}: ${message}`;
    }
    this.repo.updateStep(id, step.name, { status: st.status, outputs: st.outputs, message, ended_at: Date.now() });
    if (ok && step.cache) this.repo.remember(st.cacheKey, def.name, step.name, { run_uuid: job.run_id, outputs: st.outputs, output_dir: outDir });
    return ok;
  }
}

/** Values a step published in $MLOPS_OUTPUT_DIR/outputs.json (a JSON object). */
function readOutputs(dir: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(join(dir, 'outputs.json'), 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function safeMetrics(ctx: CoreContext, runId: string): Record<string, number> {
  try {
    return latestMetrics(ctx, runId);
  } catch {
    return {};
  }
}
