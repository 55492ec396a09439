import { invalid } from '../../util/errors';

/** Promotion gate conditions: plain data, parsed from `accuracy >= 0.9` / `validated` / `stage=qa` and checked here. */
export type Op = '>=' | '>' | '<=' | '<' | '==' | '!=';
const OPS: readonly Op[] = ['>=', '<=', '==', '!=', '>', '<'];

export interface MetricCondition {
  metric: string;
  op: Op;
  value: number;
}

/** A version tag that must be present (any value but `false`), or equal `value` when given. */
export interface TagCondition {
  key: string;
  value?: string;
}

/** if_recorded: a validate step of the run's pipeline, when there is one, must have passed; required: there must be one. */
export type DataValidationRule = 'if_recorded' | 'required' | 'off';
export const DATA_VALIDATION_RULES: readonly DataValidationRule[] = ['if_recorded', 'required', 'off'];

export interface GateConfig {
  metrics: MetricCondition[];
  tags: TagCondition[];
  data_validation: DataValidationRule;
}

export interface ConditionResult {
  kind: 'metric' | 'tag' | 'data_validation';
  /** The condition as written: `accuracy >= 0.9`, `tag validated`, `data validation passed`. */
  condition: string;
  passed: boolean;
  /** What the version has: the metric's value, the tag's value, the validation outcome; null when missing. */
  actual: number | string | null;
  message: string;
}

export const MAX_CONDITIONS = 50;

export function parseMetricCondition(text: string): MetricCondition {
  const m = /^\s*(.+?)\s*(>=|<=|==|!=|=|>|<)\s*(\S+)\s*$/.exec(text);
  if (!m) throw invalid(`Invalid metric condition '${text}': write METRIC OP NUMBER, e.g. 'accuracy >= 0.9' (OP one of ${OPS.join(' ')})`);
  const value = Number(m[3]);
  if (!Number.isFinite(value) || m[3]!.trim() === '') throw invalid(`Invalid metric condition '${text}': '${m[3]}' is not a number`);
  return checkMetricCondition({ metric: m[1]!, op: (m[2] === '=' ? '==' : m[2]) as Op, value });
}

export function checkMetricCondition(c: MetricCondition): MetricCondition {
  if (typeof c.metric !== 'string' || !c.metric.trim() || c.metric.length > 250) throw invalid(`Invalid metric name '${String(c.metric).slice(0, 50)}' in a promotion gate: 1 to 250 characters`);
  if (!OPS.includes(c.op)) throw invalid(`Invalid operator '${String(c.op)}' in a promotion gate: use one of ${OPS.join(' ')}`);
  if (typeof c.value !== 'number' || !Number.isFinite(c.value)) throw invalid(`Invalid threshold for metric '${c.metric}': a finite number`);
  return { metric: c.metric.trim(), op: c.op, value: c.value };
}

export function parseTagCondition(text: string): TagCondition {
  const eq = text.indexOf('=');
  return checkTagCondition(eq < 0 ? { key: text.trim() } : { key: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() });
}

export function checkTagCondition(c: TagCondition): TagCondition {
  if (typeof c.key !== 'string' || !c.key || c.key.length > 250) throw invalid(`Invalid tag key '${String(c.key).slice(0, 50)}' in a promotion gate: 1 to 250 characters`);
  if (c.value !== undefined && (typeof c.value !== 'string' || c.value.length > 5000)) throw invalid(`Invalid value for tag '${c.key}' in a promotion gate`);
  return c.value === undefined ? { key: c.key } : { key: c.key, value: c.value };
}

export function normalizeConfig(c: { metrics?: MetricCondition[]; tags?: TagCondition[]; data_validation?: string }): GateConfig {
  const metrics = (c.metrics ?? []).map(checkMetricCondition);
  const tags = (c.tags ?? []).map(checkTagCondition);
  if (metrics.length > MAX_CONDITIONS || tags.length > MAX_CONDITIONS) throw invalid(`A promotion gate takes at most ${MAX_CONDITIONS} metric and ${MAX_CONDITIONS} tag conditions`);
  const dv = (c.data_validation ?? 'if_recorded') as DataValidationRule;
  if (!DATA_VALIDATION_RULES.includes(dv)) throw invalid(`Invalid data_validation '${String(c.data_validation)}': use ${DATA_VALIDATION_RULES.join(', ')}`);
  return { metrics, tags, data_validation: dv };
}

export const formatMetric = (c: MetricCondition): string => `${c.metric} ${c.op} ${c.value}`;
export const formatTag = (c: TagCondition): string => (c.value === undefined ? `tag ${c.key}` : `tag ${c.key}=${c.value}`);

function compare(a: number, op: Op, b: number): boolean {
  switch (op) {
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '<':
      return a < b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** `metrics`: the run's latest values (null: the version has no source run). */
export function evaluateMetric(c: MetricCondition, metrics: ReadonlyMap<string, number> | null): ConditionResult {
  const condition = formatMetric(c);
  if (metrics === null) return { kind: 'metric', condition, passed: false, actual: null, message: `${condition} failed: the version has no source run` };
  const v = metrics.get(c.metric);
  if (v === undefined) return { kind: 'metric', condition, passed: false, actual: null, message: `${condition} failed: the run did not log '${c.metric}'` };
  const passed = !Number.isNaN(v) && compare(v, c.op, c.value);
  return { kind: 'metric', condition, passed, actual: v, message: `${condition} ${passed ? 'passed' : 'failed'} (actual ${v})` };
}

export function evaluateTag(c: TagCondition, tags: ReadonlyMap<string, string>): ConditionResult {
  const condition = formatTag(c);
  const v = tags.get(c.key);
  if (v === undefined) return { kind: 'tag', condition, passed: false, actual: null, message: `${condition} failed: the version has no tag '${c.key}'` };
  const passed = c.value === undefined ? v.toLowerCase() !== 'false' : v === c.value;
  return { kind: 'tag', condition, passed, actual: v, message: `${condition} ${passed ? 'passed' : 'failed'} (actual '${v}')` };
}

/** One validate step of the version's pipeline run, as the pipeline runner recorded it. */
export interface ValidationRecord {
  step: string;
  run_id: string;
  status: string;
  failed_checks: number | null;
}

export function evaluateValidation(rule: DataValidationRule, pipelineRunId: string | null, records: readonly ValidationRecord[]): ConditionResult | null {
  if (rule === 'off') return null;
  const condition = 'data validation passed';
  if (!records.length) {
    const where = pipelineRunId ? `pipeline run ${pipelineRunId} has no validate step` : 'the version does not come from a pipeline run';
    const passed = rule === 'if_recorded';
    return { kind: 'data_validation', condition, passed, actual: null, message: `${condition} ${passed ? 'not applicable' : 'failed'}: ${where}` };
  }
  const bad = records.filter((r) => r.status !== 'FINISHED' || (r.failed_checks ?? 0) > 0);
  const actual = records.map((r) => `${r.step}: ${r.failed_checks ?? '?'} failed check(s), ${r.status}`).join('; ');
  return { kind: 'data_validation', condition, passed: bad.length === 0, actual, message: `${condition} ${bad.length ? 'failed' : 'passed'} (${actual})` };
}
