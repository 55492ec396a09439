import { dirname, resolve } from 'node:path';
import type { YAMLParseError } from 'yaml';
import { parse as parseYaml } from 'yaml';
import { ExprError, parseExpr, refsOf, templateExprs, type Expr } from './expr';
import type { DataSchema } from './validate';
import { parseSchema } from './validate';
import { shellScriptIndex, templatesToEnv } from './shell';
import { rayAddress } from '../jobs/launchers/ray-api';

export type Param = string | number | boolean;

export interface StepDef {
  name: string;
  needs: string[];
  /**
   * argv, `${{ }}` templates still in it; a string in the file becomes `sh -c STRING`. In a shell script the
   * templates are already references to the variables of `scriptEnv` (see shell.ts).
   */
  command: string[];
  /** MLOPS_TEMPLATE_n → the template whose rendered value the script reads from that variable. */
  scriptEnv: Record<string, string>;
  launcher: 'docker' | 'local' | 'ray';
  /** Ray steps: the dashboard URL (step or top-level `ray_address`; default env MLOPS_RAY_ADDRESS, else 127.0.0.1:8265). */
  rayAddress?: string;
  image?: string;
  env: Record<string, string>;
  params: Record<string, Param>;
  when?: { src: string; expr: Expr };
  /** Files the step must leave in its output folder. */
  outputs: string[];
  retries: number;
  cache: boolean;
  timeout?: string;
  memory?: string;
  cpus?: number;
  gpus?: number;
  /** Extra bind mounts for Docker steps: "SRC:DEST[:ro]", SRC relative to the pipeline folder. */
  mounts: { source: string; target: string; read_only: boolean }[];
  /**
   * The built-in data-validation step. `data` is an absolute path, or, when it holds `${{ params.X }}` templates,
   * the text as written (rendered and resolved against the pipeline folder when the step runs).
   */
  validate?: { data: string; schema: DataSchema };
}

export interface PipelineDef {
  name: string;
  file: string;
  dir: string;
  experiment: string;
  params: Record<string, Param>;
  /** Topological order: every step after the steps it needs. */
  steps: StepDef[];
  /** Folder whose Dockerfile is built once per pipeline run (its image is the default for docker steps). */
  build?: string;
  /** Steps running at once (the job queue's concurrency bounds it too); absent: no pipeline-level bound. */
  maxParallel?: number;
  /** After a failure start no new step (the default, like Argo's failFast); false: only its dependants are skipped. */
  failFast: boolean;
}

export class PipelineError extends Error {}

const STEP_KEYS = new Set(['mounts', 'needs', 'command', 'run', 'launcher', 'image', 'env', 'params', 'when', 'outputs', 'retries', 'cache', 'timeout', 'memory', 'cpus', 'gpus', 'validate', 'ray_address']);
// monitoring: is the endpoints' monitor settings (mlops monitor apply) and retrain: the retraining policies (mlops retrain
// policy set), not part of the pipeline.
const TOP_KEYS = new Set(['name', 'experiment', 'params', 'steps', 'image', 'build', 'launcher', 'max_parallel', 'fail_fast', 'monitoring', 'retrain', 'ray_address']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => !['string', 'number', 'boolean'].includes(typeof x))) throw new PipelineError(`${what} must be a list of strings`);
  return v.map(String);
}

function params(v: unknown, what: string): Record<string, Param> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new PipelineError(`${what} must be a map of names to values`);
  for (const [k, x] of Object.entries(v)) {
    if (!['string', 'number', 'boolean'].includes(typeof x)) throw new PipelineError(`${what}.${k} must be a string, number or boolean`);
  }
  return v as Record<string, Param>;
}

/** Each reference must name a pipeline parameter or a step that runs before (is needed, directly or not). */
function checkRefs(e: Expr, step: string, upstream: Set<string>, known: Set<string>, pipelineParams: Record<string, Param>, where: string): void {
  for (const path of refsOf(e)) {
    const [root, name, field] = path;
    if (root === 'params') {
      if (!name || !(name in pipelineParams)) throw new PipelineError(`step '${step}': ${where} uses unknown parameter '${path.join('.')}'`);
    } else if (root === 'steps') {
      if (!name || !known.has(name)) throw new PipelineError(`step '${step}': ${where} refers to unknown step '${name ?? ''}'`);
      if (!upstream.has(name)) throw new PipelineError(`step '${step}': ${where} reads step '${name}', which it does not need (add it to needs)`);
      if (!['outputs', 'metrics', 'status'].includes(field ?? '')) throw new PipelineError(`step '${step}': ${where}: use steps.${name}.outputs.X, steps.${name}.metrics.X or steps.${name}.status`);
    } else {
      throw new PipelineError(`step '${step}': ${where}: '${path.join('.')}' is not params.X or steps.NAME...`);
    }
  }
}

function parseStep(name: string, raw: unknown, top: Obj, dir: string): StepDef {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) throw new PipelineError(`step name '${name}' must start with a letter and use letters, digits, - and _`);
  if (!isObj(raw)) throw new PipelineError(`step '${name}' must be a map`);
  const unknown = Object.keys(raw).filter((k) => !STEP_KEYS.has(k));
  if (unknown.length) throw new PipelineError(`step '${name}': unknown key(s) ${unknown.join(', ')}`);
  const cmdRaw = raw.command ?? raw.run;
  const command = typeof cmdRaw === 'string' ? ['sh', '-c', cmdRaw] : strings(cmdRaw, `step '${name}': command`);
  const scriptEnv: Record<string, string> = {};
  const script = shellScriptIndex(command);
  if (script >= 0) command[script] = templatesToEnv(command[script]!, scriptEnv);
  const image = (raw.image ?? top.image) as string | undefined;
  const launcher = (raw.launcher ?? top.launcher ?? (image || top.build ? 'docker' : 'local')) as string;
  if (launcher !== 'docker' && launcher !== 'local' && launcher !== 'ray') throw new PipelineError(`step '${name}': launcher must be docker, local or ray`);
  const step: StepDef = {
    name,
    needs: strings(raw.needs, `step '${name}': needs`),
    command,
    scriptEnv,
    launcher,
    env: Object.fromEntries(Object.entries(params(raw.env, `step '${name}': env`)).map(([k, v]) => [k, String(v)])),
    params: params(raw.params, `step '${name}': params`),
    outputs: strings(raw.outputs, `step '${name}': outputs`),
    retries: Number(raw.retries ?? 0),
    cache: raw.cache === undefined ? true : raw.cache === true,
    mounts: strings(raw.mounts, `step '${name}': mounts`).map((m) => {
      const [src, target, mode] = m.split(':');
      if (!src || !target?.startsWith('/')) throw new PipelineError(`step '${name}': mount '${m}' must be SRC:/DEST[:ro]`);
      return { source: resolve(dir, src), target, read_only: mode === 'ro' };
    }),
  };
  if (!Number.isInteger(step.retries) || step.retries < 0) throw new PipelineError(`step '${name}': retries must be a whole number ≥ 0`);
  if (image) step.image = String(image);
  if (raw.ray_address !== undefined && launcher !== 'ray') throw new PipelineError(`step '${name}': ray_address is for launcher: ray`);
  const ray = raw.ray_address ?? top.ray_address;
  if (ray !== undefined && launcher === 'ray') {
    try {
      step.rayAddress = rayAddress(String(ray));
    } catch (err) {
      throw new PipelineError(`step '${name}': ${(err as Error).message}`);
    }
  }
  if (launcher === 'ray' && step.mounts.length) throw new PipelineError(`step '${name}': a Ray step takes no mounts (its folder is uploaded as the working_dir)`);
  for (const k of ['timeout', 'memory'] as const) if (raw[k] !== undefined) step[k] = String(raw[k]);
  for (const k of ['cpus', 'gpus'] as const) if (raw[k] !== undefined) step[k] = Number(raw[k]);
  if (raw.validate !== undefined) {
    if (!isObj(raw.validate) || typeof raw.validate.data !== 'string') throw new PipelineError(`step '${name}': validate needs 'data' (a CSV file) and 'schema'`);
    try {
      const data = raw.validate.data;
      step.validate = { data: data.includes('${{') ? data : resolve(dir, data), schema: parseSchema(raw.validate.schema, dir) };
    } catch (err) {
      throw new PipelineError(`step '${name}': ${(err as Error).message}`);
    }
    if (command.length) throw new PipelineError(`step '${name}': a validate step has no command`);
  } else if (!command.length) {
    throw new PipelineError(`step '${name}' needs a 'command' (or 'validate')`);
  }
  if (step.launcher === 'docker' && !step.image && !top.build && !step.validate) throw new PipelineError(`step '${name}' runs in Docker but names no image (set image: or build:)`);
  if (raw.when !== undefined) {
    const src = String(raw.when).replace(/^\$\{\{(.*)\}\}$/s, '$1');
    try {
      step.when = { src, expr: parseExpr(src) };
    } catch (err) {
      throw new PipelineError(`step '${name}': invalid when '${String(raw.when)}': ${(err as Error).message}`);
    }
  }
  return step;
}

/** Orders steps so each comes after what it needs; a cycle is an error that names it. */
function topoSort(steps: Map<string, StepDef>): StepDef[] {
  const order: StepDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new PipelineError(`the steps form a cycle: ${[...path.slice(path.indexOf(name)), name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const n of steps.get(name)!.needs) visit(n, [...path, name]);
    state.set(name, 'done');
    order.push(steps.get(name)!);
  };
  for (const name of steps.keys()) visit(name, []);
  return order;
}

function upstreamOf(step: StepDef, steps: Map<string, StepDef>): Set<string> {
  const seen = new Set<string>();
  const walk = (n: string) => {
    for (const m of steps.get(n)?.needs ?? []) {
      if (seen.has(m)) continue;
      seen.add(m);
      walk(m);
    }
  };
  walk(step.name);
  return seen;
}

/** Parses and checks an mlops.yaml: unknown keys, unknown or cyclic needs, and invalid `when`/templates fail here. */
export function parsePipeline(text: string, file: string): PipelineDef {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const e = err as YAMLParseError;
    throw new PipelineError(`${file}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw new PipelineError(`${file}: expected a map with 'steps'`);
  const unknown = Object.keys(doc).filter((k) => !TOP_KEYS.has(k));
  if (unknown.length) throw new PipelineError(`${file}: unknown key(s) ${unknown.join(', ')}`);
  if (!isObj(doc.steps) || Object.keys(doc.steps).length === 0) throw new PipelineError(`${file}: 'steps' must map step names to steps`);
  const dir = dirname(resolve(file));
  const steps = new Map<string, StepDef>();
  for (const [name, raw] of Object.entries(doc.steps)) steps.set(name, parseStep(name, raw, doc, dir));
  for (const s of steps.values()) {
    for (const n of s.needs) if (!steps.has(n)) throw new PipelineError(`step '${s.name}' needs unknown step '${n}'`);
  }
  const order = topoSort(steps);
  const pipelineParams = params(doc.params, 'params');
  const known = new Set(steps.keys());
  for (const s of order) {
    const up = upstreamOf(s, steps);
    if (s.when) checkRefs(s.when.expr, s.name, up, known, pipelineParams, `when '${s.when.src}'`);
    for (const part of [...s.command, ...Object.values(s.scriptEnv), ...Object.values(s.env), ...Object.values(s.params).map(String), ...(s.validate ? [s.validate.data] : [])]) {
      let exprs: Expr[];
      try {
        exprs = templateExprs(part);
      } catch (err) {
        if (err instanceof ExprError) throw new PipelineError(`step '${s.name}': invalid template in '${part}': ${err.message}`);
        throw err;
      }
      for (const e of exprs) checkRefs(e, s.name, up, known, pipelineParams, `'${part}'`);
    }
  }
  const name = typeof doc.name === 'string' && doc.name ? doc.name : dir.split('/').pop() || 'pipeline';
  if (doc.fail_fast !== undefined && typeof doc.fail_fast !== 'boolean') throw new PipelineError(`${file}: fail_fast must be true or false`);
  const def: PipelineDef = { name, file: resolve(file), dir, experiment: typeof doc.experiment === 'string' ? doc.experiment : name, params: pipelineParams, steps: order, failFast: doc.fail_fast !== false };
  if (typeof doc.build === 'string') def.build = resolve(dir, doc.build);
  if (doc.max_parallel !== undefined) {
    if (!Number.isInteger(doc.max_parallel) || (doc.max_parallel as number) < 1) throw new PipelineError(`${file}: max_parallel must be a whole number ≥ 1, got '${String(doc.max_parallel)}'`);
    def.maxParallel = doc.max_parallel as number;
  }
  return def;
}
