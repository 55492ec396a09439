import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CoreContext } from '../../context';
import { invalid } from '../../util/errors';
import type { JobService } from '../jobs/service';
import { buildImage } from '../jobs/images';
import { createJobRun, latestMetrics, runArtifactDir, setRunStatus } from '../jobs/runs';
import type { JobSpec } from '../jobs/types';
import { DEFAULT_TIMEOUT_MS, parseDuration, parseMemory } from '../jobs/spec';
import { ExprError, evaluate, renderTemplate, truthy, type Scope } from './expr';
import { PipelineRepo, type PipelineRun, type StepStatus } from './repository';
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

const CONTAINER_OUT = '/mlops/outputs';
const WORKSPACE = '/workspace';

/**
 * Runs mlops.yaml pipelines: steps in dependency order as jobs (or the built-in data validation), `when` gates,
 * outputs passed on through folders and outputs.json, and a cache keyed by each step's inputs, code and image.
 * A pipeline run is an MLflow run; each step's run is nested under it.
 */
export class PipelineService {
  readonly repo: PipelineRepo;
  private readonly active = new Map<string, Promise<void>>();
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

  async start(file: string, o: { params: Record<string, Param>; launcher?: 'docker' | 'local' }): Promise<PipelineRun> {
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
    const done = this.execute(id, def, params, run.runId).catch((err: unknown) => {
      if (!this.closed) this.end(id, run.runId, 'failed', `Internal error: ${String(err)}`);
    });
    this.active.set(id, done);
    void done.finally(() => this.active.delete(id));
    return this.repo.get(id);
  }

  /** Resolves once the pipeline run has ended. */
  async waitFor(id: string): Promise<PipelineRun> {
    await this.active.get(id);
    return this.repo.get(id);
  }

  get(id: string): PipelineRun {
    return this.repo.get(id);
  }

  list(): PipelineRun[] {
    return this.repo.list();
  }

  close(): void {
    this.closed = true;
  }

  private end(id: string, runId: string, status: 'finished' | 'failed', message: string): void {
    this.repo.finish(id, status, message);
    try {
      setRunStatus(this.ctx, runId, status === 'finished' ? 'FINISHED' : 'FAILED', true);
    } catch {
      // The run was deleted; the pipeline record still holds the outcome.
    }
  }

  private async execute(id: string, def: PipelineDef, params: Record<string, Param>, parentRun: string): Promise<void> {
    const root = join(this.ctx.home, 'pipelines', id);
    const code = await folderDigest(def.dir);
    let builtImage: string | undefined;
    if (def.build && def.steps.some((s) => s.launcher === 'docker' && !s.image)) {
      builtImage = (await buildImage(this.jobs.docker, def.build)).tag;
    }
    const states = new Map<string, StepState>();
    let failed: string | null = null;
    for (const step of def.steps) {
      if (this.closed) return;
      const st: StepState = { status: 'pending', outputs: {}, metrics: {}, dir: null, cacheKey: null };
      states.set(step.name, st);
      const skip = (message: string) => {
        st.status = 'skipped';
        this.repo.updateStep(id, step.name, { status: 'skipped', message });
      };
      if (failed) {
        skip(`not run: step '${failed}' failed`);
        continue;
      }
      const blocked = step.needs.find((n) => states.get(n)?.status === 'skipped');
      if (blocked) {
        skip(`not run: it needs '${blocked}', which was skipped`);
        continue;
      }
      const scope: Scope = { params, steps: Object.fromEntries([...states].map(([n, s]) => [n, { status: s.status, outputs: s.outputs, metrics: s.metrics }])) };
      if (step.when) {
        let open: boolean;
        try {
          open = truthy(evaluate(step.when.expr, scope));
        } catch (err) {
          if (!(err instanceof ExprError)) throw err;
          this.repo.updateStep(id, step.name, { status: 'failed', message: `when '${step.when.src}': ${err.message}` });
          st.status = 'failed';
          failed = step.name;
          continue;
        }
        if (!open) {
          skip(`gate closed: when '${step.when.src}' is false`);
          continue;
        }
      }
      const ok = step.validate
        ? this.runValidation(id, def, step, st, root, parentRun)
        : await this.runStep(id, def, step, st, { root, code, parentRun, scope, states, params, image: step.image ?? builtImage });
      if (!ok) failed = step.name;
    }
    this.end(id, parentRun, failed ? 'failed' : 'finished', failed ? `step '${failed}' failed` : `${def.steps.length} step(s) done`);
  }

  private runValidation(id: string, def: PipelineDef, step: StepDef, st: StepState, root: string, parentRun: string): boolean {
    const v = step.validate!;
    const started = Date.now();
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
    c: { root: string; code: string; parentRun: string; scope: Scope; states: Map<string, StepState>; params: Record<string, Param>; image: string | undefined },
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
      env = Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, renderTemplate(v, scope)]));
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
    const started = Date.now();
    let job = await this.jobs.submit(step.launcher, spec, { pipelineRunId: id });
    this.repo.updateStep(id, step.name, { status: 'running', job_id: job.job_id, run_id: job.run_id, cache_key: st.cacheKey, output_dir: outDir, started_at: started });
    job = await this.jobs.waitFor(job.job_id);
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
    st.status = ok ? 'finished' : 'failed';
    this.repo.updateStep(id, step.name, { status: st.status, outputs: st.outputs, message: ok ? message : `job ${job.job_id} ${job.status}: ${message}`, ended_at: Date.now() });
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
