import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncidentView } from '../../api/v1/contract-monitors';
import type { ReportView } from '../../api/v1/contract-report';
import type { RetrainView } from '../../api/v1/contract-retrain';
import { reportText } from '../../cli/commands/report';
import type { AcceleratedClock } from '../../util/clock';
import type { BackendClient } from './client';
import { CONCEPT, makeDataset } from './train';

/** The loop runs this many times faster than the wall clock: a 5-minute monitor interval passes in 5 s. */
export const LOOP_SPEED = 60;
/** Churn starts to depend on region_code: the champion, trained before, loses accuracy. */
const NEW_CONCEPT = [CONCEPT[0]!, CONCEPT[1]!, CONCEPT[2]!, 2.0];
const TERMINAL = ['deployed', 'rejected', 'failed', 'cancelled'];

type Param = string | number | boolean;

/** What the loop runs on: a model served on an endpoint, the pipeline that retrains it, and the traffic that drifts. */
export interface LoopScenario {
  model: string;
  endpoint: string;
  /** The retrain policy's pipeline settings (mlops.yaml, its params, model_step) and data step. */
  pipeline: string;
  params: Record<string, Param>;
  model_step?: string;
  data: { label_column: string; min_rows: number; base_file?: string };
  /** One line naming the trainer. */
  trainer: string;
  /** Labelled traffic after the change, sent in requests of 20 rows, and what happened (one line). */
  traffic: { columns: string[]; rows: number[][]; labels: (number | string)[]; story: string };
  /** Parameters of the scheduled retrain that must be rejected, and what they do. */
  worse: { params: Record<string, Param>; story: string };
}

export interface LoopOptions {
  api: BackendClient;
  clock: AcceleratedClock;
  home: string;
  /** Sets up the model, endpoint and pipeline in `dir` (a folder of the store) and says what the loop runs on. */
  scenario: (dir: string) => Promise<LoopScenario>;
  log: (s: string) => void;
  /** Real seconds to wait for each stage before giving up. */
  timeoutS?: number;
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/**
 * The churn model's loop, with no Python: its pipeline runs this CLI's hidden demo-train command (the demo's
 * logistic regression) as a local job; traffic with tenure shifted and churn now depending on region_code.
 */
export function churnScenario(model: string, endpoint: string) {
  return async (dir: string): Promise<LoopScenario> => {
    const pipeline = join(dir, 'mlops.yaml');
    const command = [process.execPath, process.argv[1] ?? 'mlops', 'demo-train'];
    writeFileSync(
      pipeline,
      [
        'name: churn-retrain',
        'params: { data: "", epochs: 200 }',
        'steps:',
        '  train:',
        `    command: [${command.map((c) => JSON.stringify(c)).join(', ')}]`,
        '    env: { TRAIN_CSV: "${{ params.data }}", TRAIN_EPOCHS: "${{ params.epochs }}" }',
        '    outputs: [model.onnx, MLmodel]',
        '    cache: false',
        '',
      ].join('\n'),
    );
    const data = makeDataset(1500, 31, 0.7, NEW_CONCEPT);
    return {
      model,
      endpoint,
      pipeline,
      params: {},
      data: { label_column: 'churned', min_rows: 300 },
      trainer: 'the built-in logistic regression (set MLOPS_PYTHON to a Python with mlflow, scikit-learn, skl2onnx, onnxruntime and pandas for the scikit-learn pipeline of examples/iris)',
      traffic: {
        columns: data.features,
        rows: data.x.map((r) => Array.from(r, (v) => Math.round(v * 1000) / 1000)),
        labels: data.y,
        story: '1,500 rows with tenure +0.7 sd and churn now depending on region_code, each labelled by feedback',
      },
      worse: { params: { epochs: 0 }, story: 'epochs 0 (a model that learned nothing)' },
    };
  };
}

/**
 * `mlops demo`'s last step: the retraining loop with nobody typing, on an accelerated clock. Traffic drifts and the
 * concept moves → a monitor opens an incident → the retrain policy collects the labelled log, trains (a pipeline
 * run), evaluates against the champion, canaries the challenger → the ramp promotes it and @champion moves; then a
 * scheduled retrain trains a worse model, which is rejected. Ends with the figures.
 */
export async function runRetrainLoop(o: LoopOptions): Promise<void> {
  const { api, clock, log } = o;
  const wait = async <T>(what: string, get: () => Promise<T | null>): Promise<T> => {
    const until = Date.now() + (o.timeoutS ?? 180) * 1000;
    for (;;) {
      const v = await get();
      if (v !== null) return v;
      if (Date.now() > until) throw new Error(`the demo waited ${o.timeoutS ?? 180} s for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  log('');
  log(`5. Improve: the loop with nobody typing, on a clock ${LOOP_SPEED}× faster (monitors every 5 min → 5 s)`);
  const dir = join(o.home, 'demo-retrain');
  mkdirSync(dir, { recursive: true });
  const sc = await o.scenario(dir);
  const policy = {
    model: sc.model,
    endpoint: sc.endpoint,
    pipeline: sc.pipeline,
    params: sc.params,
    ...(sc.model_step ? { model_step: sc.model_step } : {}),
    data: sc.data,
    triggers: { manual: true, on_drift: true, on_performance: true, schedule_every_s: null as number | null },
    // Long enough that the other incidents of the same drift do not start more retrains during the demo.
    cooldown_s: 86_400,
    rollout: { strategy: 'canary', steps: [20, 50, 100], step_interval_s: 120 },
    promotion: { require: 'non_inferior', margin: 0.01 },
  };
  await api.call('PUT', '/api/v1/retrain/policies', policy);
  log(`   retrain policy: ${sc.model} on '${sc.endpoint}': on drift or performance incidents, pipeline ${sc.pipeline}, canary 20 → 50 → 100 % every 2 min`);
  log(`   trainer: ${sc.trainer}`);

  const onset = clock.now();
  const { columns, rows, labels } = sc.traffic;
  for (let i = 0; i < rows.length; i += 20) {
    const id = await api.score(sc.endpoint, { dataframe_split: { columns, data: rows.slice(i, i + 20) } });
    await api.call('POST', `/endpoints/${sc.endpoint}/feedback`, { feedback: [{ request_id: id, label: labels.slice(i, i + 20) }] });
  }
  log(`   traffic: ${sc.traffic.story}`);
  clock.setSpeed(LOOP_SPEED);
  const lo = { ...o, endpoint: sc.endpoint };
  try {
    const incident = await wait('an incident', async () => (await api.call<{ incidents: IncidentView[] }>('GET', `/api/v1/incidents?endpoint=${sc.endpoint}&status=unresolved`)).incidents.at(-1) ?? null);
    log(`   incident #${incident.id} (${incident.kind}, ${incident.severity}) ${minutes(incident.opened_at - onset)} after the drift began: ${incident.summary}`);
    const first = await follow(lo, wait, (r) => r.trigger !== 'manual' && r.trigger !== 'schedule');
    if (first.status !== 'deployed') throw new Error(`the drift-triggered retrain ended ${first.status}: ${first.reason}`);
    const champion = (await api.mlflow<{ model_version: { version: string } }>('GET', 'registered-models/alias', { name: sc.model, alias: 'champion' })).model_version.version;
    log(`   promoted: @champion is v${champion}, ${minutes(first.ended_at! - incident.opened_at)} after the incident (${minutes(first.ended_at! - onset)} after the drift began)`);

    // A scheduled retrain of a model that cannot be good: the offline comparison must stop it.
    await api.call('PUT', '/api/v1/retrain/policies', { ...policy, params: { ...sc.params, ...sc.worse.params }, triggers: { ...policy.triggers, schedule_every_s: 120 } });
    log(`   a schedule every 2 min now retrains with ${sc.worse.story}:`);
    const second = await follow(lo, wait, (r) => r.trigger === 'schedule', async () => {
      await api.call('PUT', '/api/v1/retrain/policies', policy);
    });
    if (second.status !== 'rejected') throw new Error(`the worse challenger was not rejected: ${second.status}: ${second.reason}`);
  } finally {
    clock.setSpeed(1);
  }
  const all = (await api.call<{ retrains: RetrainView[] }>('GET', `/api/v1/retrains?endpoint=${sc.endpoint}`)).retrains;
  const by = new Map<string, number>();
  for (const r of all) by.set(r.trigger, (by.get(r.trigger) ?? 0) + 1);
  const automated = all.filter((r) => r.trigger !== 'manual').length;
  log(
    `   report: ${all.length} retrains (${[...by].map(([k, v]) => `${k} ${v}`).join(', ')}): ${Math.round((automated / all.length) * 100)} % started by automated triggers; ` +
      `${all.filter((r) => r.status === 'deployed').length} deployed, ${all.filter((r) => r.status === 'rejected').length} rejected`,
  );
  // The report mlops report prints: the same figures over the last day of this store (the loop's clock ran ahead).
  const report = await api.call<ReportView>('GET', '/api/v1/report?since=1d');
  log('');
  log(`6. Report (mlops report --since 1d):`);
  for (const line of reportText(report).split('\n')) log(`   ${line}`);
}

/** Waits for the next retrain that `pick` selects, prints each transition as it happens, and returns it ended. */
async function follow(o: LoopOptions & { endpoint: string }, wait: <T>(what: string, get: () => Promise<T | null>) => Promise<T>, pick: (r: RetrainView) => boolean, onStart?: () => Promise<void>): Promise<RetrainView> {
  const list = async () => (await o.api.call<{ retrains: RetrainView[] }>('GET', `/api/v1/retrains?endpoint=${o.endpoint}`)).retrains;
  const seen = new Set((await list()).filter(pick).filter((r) => TERMINAL.includes(r.status)).map((r) => r.id));
  const found = await wait('a retrain to start', async () => (await list()).find((r) => pick(r) && !seen.has(r.id)) ?? null);
  await onStart?.();
  let shown = 0;
  const print = (r: RetrainView) => {
    for (const t of r.transitions.slice(shown)) o.log(`     retrain #${r.id} (${r.trigger}) ${t.status.padEnd(11)} ${t.reason.length > 110 ? `${t.reason.slice(0, 107)}...` : t.reason}`);
    shown = r.transitions.length;
  };
  return wait(`retrain #${found.id} to end`, async () => {
    const r = await o.api.call<RetrainView>('GET', `/api/v1/retrains/${found.id}`);
    print(r);
    return TERMINAL.includes(r.status) ? r : null;
  });
}
