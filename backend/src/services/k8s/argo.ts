import { relative } from 'node:path';
import { parseExpr, type Expr } from '../pipelines/expr';
import type { Param, PipelineDef, StepDef } from '../pipelines/spec';
import { DEFAULT_SECRET, MANAGED_BY, ManifestError, dnsLabel, durationSeconds, envKey, mlflowEnv, resources, type Manifest, type SecretRef } from './common';

export interface ArgoOptions {
  /** Image for steps that name none (a docker step's own image wins); it must hold the pipeline folder as its working directory. */
  image?: string;
  /** Image with the `mlops` CLI, for built-in validate steps. */
  mlopsImage?: string;
  namespace?: string;
  secret?: SecretRef;
  /** Raw `validate.schema` of each validate step, as written in mlops.yaml. */
  rawSchemas?: Record<string, unknown>;
}

export interface CronOptions extends ArgoOptions {
  schedule: string;
  timezone?: string;
}

const OUT = '/mlops/outputs';
const IN = '/mlops/inputs';
/** What Argo reports for our step statuses in `steps.X.status == '...'`. */
const STATUS: Record<string, string> = { finished: 'Succeeded', cached: 'Succeeded', failed: 'Failed', skipped: 'Skipped', cancelled: 'Failed' };

/**
 * mlops.yaml → an Argo Workflow: one container template per step, a DAG with `dependencies` from `needs`,
 * `when` as an Argo expression, pipeline params as workflow parameters, each step's $MLOPS_OUTPUT_DIR as an
 * output artifact handed to its dependants at $MLOPS_INPUT_<STEP>, and outputs.json as an output parameter.
 */
export function argoWorkflow(def: PipelineDef, o: ArgoOptions = {}): Manifest {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { generateName: `${dnsLabel(def.name, 50)}-`, ...(o.namespace ? { namespace: o.namespace } : {}), labels: { ...MANAGED_BY, 'mlops.studio/pipeline': dnsLabel(def.name) } },
    spec: workflowSpec(def, o),
  };
}

/** A CronWorkflow that runs the same workflow on a schedule (a scheduled retrain); overlapping runs are not started. */
export function argoCronWorkflow(def: PipelineDef, o: CronOptions): Manifest {
  if (o.schedule.trim().split(/\s+/).length !== 5 && !o.schedule.startsWith('@')) throw new ManifestError(`schedule '${o.schedule}' is not a 5-field cron expression (e.g. "0 3 * * *")`);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'CronWorkflow',
    metadata: { name: dnsLabel(`${def.name}-retrain`), ...(o.namespace ? { namespace: o.namespace } : {}), labels: { ...MANAGED_BY, 'mlops.studio/pipeline': dnsLabel(def.name) } },
    spec: { schedules: [o.schedule], ...(o.timezone ? { timezone: o.timezone } : {}), concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 600, workflowSpec: workflowSpec(def, o) },
  };
}

function workflowSpec(def: PipelineDef, o: ArgoOptions): Record<string, unknown> {
  const names = new Map<string, string>();
  for (const s of def.steps) {
    const n = dnsLabel(s.name);
    if ([...names.values()].includes(n)) throw new ManifestError(`steps '${s.name}' and another both become '${n}' in Argo; rename one`);
    names.set(s.name, n);
  }
  const tasks = def.steps.map((s) => task(s, def, names));
  return {
    entrypoint: 'pipeline',
    ...(Object.keys(def.params).length ? { arguments: { parameters: Object.entries(def.params).map(([name, value]) => ({ name, value: String(value) })) } } : {}),
    ...(def.maxParallel ? { parallelism: def.maxParallel } : {}),
    templates: [{ name: 'pipeline', dag: { failFast: def.failFast, tasks } }, ...def.steps.map((s) => template(s, def, names, o))],
  };
}

/** The `${{ }}` templates of a step, each passed in as an input parameter t0, t1, … (only the DAG sees `tasks`). */
function templatesOf(s: StepDef): { src: string; expr: Expr }[] {
  const found: { src: string; expr: Expr }[] = [];
  for (const part of [...s.command, ...Object.values(s.scriptEnv), ...Object.values(s.env), ...(s.validate ? [s.validate.data] : [])]) {
    for (const m of part.matchAll(/\$\{\{(.*?)\}\}/g)) if (!found.some((f) => f.src === m[1])) found.push({ src: m[1]!, expr: parseExpr(m[1]!) });
  }
  return found;
}

function task(s: StepDef, def: PipelineDef, names: Map<string, string>): Record<string, unknown> {
  const tpl = templatesOf(s);
  const parameters = tpl.map((t, i) => ({ name: `t${i}`, value: t.expr.kind === 'ref' && t.expr.path[0] === 'params' ? `{{workflow.parameters.${t.expr.path[1]}}}` : `{{=${toArgo(t.expr, def, names, 'value')}}}` }));
  const artifacts = s.needs.map((n) => ({ name: `in-${names.get(n)}`, from: `{{tasks.${names.get(n)}.outputs.artifacts.outputs}}` }));
  return {
    name: names.get(s.name),
    template: names.get(s.name),
    ...(s.needs.length ? { dependencies: s.needs.map((n) => names.get(n)) } : {}),
    ...(s.when ? { when: `{{=${toArgo(s.when.expr, def, names, 'bool')}}}` } : {}),
    ...(parameters.length || artifacts.length ? { arguments: { ...(parameters.length ? { parameters } : {}), ...(artifacts.length ? { artifacts } : {}) } } : {}),
  };
}

function template(s: StepDef, def: PipelineDef, names: Map<string, string>, o: ArgoOptions): Record<string, unknown> {
  const tpl = templatesOf(s);
  const sub = (text: string): string => text.replace(/\$\{\{(.*?)\}\}/g, (_m, src: string) => `{{inputs.parameters.t${tpl.findIndex((t) => t.src === src)}}}`);
  const env: Record<string, unknown>[] = [
    { name: 'MLOPS_OUTPUT_DIR', value: OUT },
    { name: 'MLOPS_PIPELINE_RUN_ID', value: '{{workflow.name}}' },
    ...Object.keys(def.params).map((k) => ({ name: `MLOPS_PARAM_${k.toUpperCase()}`, value: `{{workflow.parameters.${k}}}` })),
    ...s.needs.map((n) => ({ name: `MLOPS_INPUT_${envKey(n)}`, value: `${IN}/${names.get(n)}` })),
    ...Object.entries({ ...s.env, ...s.scriptEnv }).map(([name, value]) => ({ name, value: sub(value) })),
    ...mlflowEnv(o.secret ?? DEFAULT_SECRET, def.experiment),
  ];
  const image = s.validate ? (o.mlopsImage ?? 'mlops-studio:0.1.0') : (s.image ?? o.image);
  if (!image) throw new ManifestError(`step '${s.name}' names no image; pass --image IMAGE (an image your cluster can pull, holding the pipeline folder)`);
  const command = s.validate ? validateCommand(s, def, o, sub) : s.command.map(sub);
  const res = resources({ cpus: s.cpus, memory: s.memory, gpus: s.gpus });
  return {
    name: names.get(s.name),
    ...(tpl.length || s.needs.length
      ? { inputs: { ...(tpl.length ? { parameters: tpl.map((_t, i) => ({ name: `t${i}` })) } : {}), ...(s.needs.length ? { artifacts: s.needs.map((n) => ({ name: `in-${names.get(n)}`, path: `${IN}/${names.get(n)}` })) } : {}) } }
      : {}),
    container: { name: 'main', image, command, env, ...(res ? { resources: res } : {}) },
    outputs: {
      parameters: [{ name: 'outputs', valueFrom: { path: `${OUT}/outputs.json`, default: '{}' } }],
      artifacts: [{ name: 'outputs', path: OUT, optional: s.outputs.length === 0 }],
    },
    ...(s.retries > 0 ? { retryStrategy: { limit: String(s.retries), retryPolicy: 'OnFailure' } } : {}),
    ...(s.timeout ? { activeDeadlineSeconds: durationSeconds(s.timeout) } : {}),
  };
}

function validateCommand(s: StepDef, def: PipelineDef, o: ArgoOptions, sub: (text: string) => string): string[] {
  const raw = o.rawSchemas?.[s.name];
  if (raw === undefined) throw new ManifestError(`step '${s.name}': its validate schema was not passed to the exporter`);
  // `data: ${{ params.data }}` stays a parameter (relative to the image's pipeline folder, like the steps' commands).
  const data = s.validate!.data.includes('${{') ? sub(s.validate!.data) : relative(def.dir, s.validate!.data);
  return ['mlops', 'data', 'validate', data, '--schema', JSON.stringify(raw)];
}

type Want = 'bool' | 'value';

/**
 * Our expression language as an Argo (expr-lang) expression: params are workflow parameters (strings, so numeric
 * ones go through asFloat), steps.X.outputs.Y and steps.X.metrics.Y read key Y of X's outputs.json (Argo cannot
 * query the MLflow run, so a step gating on a metric also writes it there), steps.X.status maps onto Argo's phases.
 */
export function toArgo(e: Expr, def: PipelineDef, names: Map<string, string>, want: Want): string {
  switch (e.kind) {
    case 'lit':
      return e.value === null ? 'nil' : typeof e.value === 'string' ? quote(e.value) : String(e.value);
    case 'ref':
      return ref(e.path, def, names);
    case 'not':
      return `!(${toArgo(e.arg, def, names, 'bool')})`;
    case 'bin': {
      if (e.op === '&&' || e.op === '||') return `(${toArgo(e.left, def, names, 'bool')} ${e.op} ${toArgo(e.right, def, names, 'bool')})`;
      const [l, r] = [statusLiteral(e.left, e.right), statusLiteral(e.right, e.left)];
      return `(${l ?? toArgo(e.left, def, names, want)} ${e.op} ${r ?? toArgo(e.right, def, names, want)})`;
    }
  }
}

function statusLiteral(side: Expr, other: Expr): string | null {
  if (side.kind !== 'lit' || typeof side.value !== 'string' || other.kind !== 'ref' || other.path[2] !== 'status') return null;
  const phase = STATUS[side.value];
  if (!phase) throw new ManifestError(`step status '${side.value}' has no Argo phase (use finished, failed or skipped)`);
  return quote(phase);
}

function ref(path: string[], def: PipelineDef, names: Map<string, string>): string {
  const [root, name, field, key] = path;
  if (root === 'params') {
    const v: Param | undefined = def.params[name!];
    const p = `workflow.parameters[${quote(name!)}]`;
    return typeof v === 'number' ? `asFloat(${p})` : typeof v === 'boolean' ? `(${p} == 'true')` : p;
  }
  const t = `tasks[${quote(names.get(name!)!)}]`;
  if (field === 'status') return `${t}.status`;
  if (!key) throw new ManifestError(`'${path.join('.')}' needs a key: steps.${name}.${field}.KEY`);
  const read = `jsonpath(${t}.outputs.parameters['outputs'], ${quote(`$.${key}`)})`;
  return field === 'metrics' ? `asFloat(${read})` : read;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
