import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PipelineRunView, ProfileInfo } from '../../api/v1/contract';
import { mulberry32 } from '../../util/random';
import type { BackendClient } from './client';
import type { LoopScenario } from './loop';
import { gaussian } from './train';

const MODEL = 'iris-classifier';
const ENDPOINT = 'iris';
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
/** The recalibrated petal sensor: its readings come out this much larger (cm), per feature. */
export const SENSOR_OFFSET = [0, 0, 1.5, 0.6];

/** examples/iris of this package, found upwards from this module (bundled or not). */
export function irisExampleDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'examples', 'iris', 'train.py'))) return join(dir, 'examples', 'iris');
    dir = dirname(dir);
  }
  return null;
}

/**
 * Iris-like labelled rows: each species' features drawn from a normal with that species' mean and standard deviation
 * in `csv` (iris.csv), `offset` added to every reading, rounded to 1 mm as the data set is. Deterministic for a seed.
 */
export function irisTraffic(csv: string, n: number, seed: number, offset: readonly number[] = [0, 0, 0, 0]): { rows: number[][]; labels: string[] } {
  const [header, ...lines] = csv.trim().split(/\r?\n/);
  const cols = header!.split(',');
  const at = FEATURES.map((f) => cols.indexOf(f));
  const label = cols.indexOf('species');
  if (at.includes(-1) || label < 0) throw new Error(`iris data needs columns ${FEATURES.join(', ')}, species; got ${header}`);
  const bySpecies = new Map<string, number[][]>();
  for (const l of lines) {
    const c = l.split(',');
    const list = bySpecies.get(c[label]!) ?? [];
    list.push(at.map((i) => Number(c[i])));
    bySpecies.set(c[label]!, list);
  }
  const stats = [...bySpecies].map(([species, xs]) => {
    const mean = FEATURES.map((_f, j) => xs.reduce((s, x) => s + x[j]!, 0) / xs.length);
    const sd = FEATURES.map((_f, j) => Math.sqrt(xs.reduce((s, x) => s + (x[j]! - mean[j]!) ** 2, 0) / (xs.length - 1)));
    return { species, mean, sd };
  });
  const rand = mulberry32(seed);
  const rows: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = stats[Math.floor(rand() * stats.length)]!;
    rows.push(FEATURES.map((_f, j) => Math.round(Math.min(9.9, Math.max(0.1, s.mean[j]! + s.sd[j]! * gaussian(rand) + offset[j]!)) * 10) / 10));
    labels.push(s.species);
  }
  return { rows, labels };
}

/**
 * The loop on examples/iris, with the Python in MLOPS_PYTHON: the example is copied into the store, its pipeline
 * (validate → train → evaluate → export → register) registers iris-classifier, which becomes @champion and is
 * deployed to endpoint 'iris'; the retrain policy runs the same pipeline on the exported labelled log joined with
 * iris.csv. The traffic: a recalibrated petal sensor reads every petal 1.5 cm longer and 0.6 cm wider, and the
 * botanists' labels (feedback) are what they always were, so the champion's accuracy falls.
 */
export function irisScenario(api: BackendClient, python: string, example: string, log: (s: string) => void) {
  return async (dir: string): Promise<LoopScenario> => {
    const folder = join(dir, 'iris');
    cpSync(example, folder, { recursive: true, filter: (src) => !/(^|\/)(outputs|__pycache__|mlruns)$/.test(src) });
    const pipeline = join(folder, 'mlops.yaml');
    const start = await api.call<PipelineRunView>('POST', '/api/v1/pipelines/runs', { file: pipeline, params: { python } });
    let run = start;
    const until = Date.now() + 300_000;
    while (run.status === 'running') {
      if (Date.now() > until) throw new Error(`the demo waited 300 s for pipeline run ${run.pipeline_run_id}`);
      await new Promise((r) => setTimeout(r, 250));
      run = await api.call<PipelineRunView>('GET', `/api/v1/pipelines/runs/${run.pipeline_run_id}`);
    }
    const step = (name: string) => run.steps.find((s) => s.step === name);
    if (run.status !== 'finished' || step('register')?.status !== 'finished') {
      throw new Error(`examples/iris's pipeline ended ${run.status}: ${run.steps.map((s) => `${s.step} ${s.status}${s.message ? ` (${s.message})` : ''}`).join('; ')}`);
    }
    const { registered_model: m } = await api.mlflow<{ registered_model: { latest_versions?: { version: string }[] } }>('GET', 'registered-models/get', { name: MODEL });
    const version = String(Math.max(...(m.latest_versions ?? []).map((v) => Number(v.version))));
    await api.mlflow('POST', 'registered-models/alias', { name: MODEL, alias: 'champion', version });
    const accuracy = (step('evaluate')?.outputs as { accuracy?: number } | null)?.accuracy;
    log(`   examples/iris's pipeline (${run.steps.map((s) => s.step).join(' → ')}) with ${python}: accuracy ${accuracy?.toFixed(3) ?? '?'} on its test split; ${MODEL} v${version} registered, @champion`);
    await api.call('POST', `/endpoints/${ENDPOINT}/deploy`, { model: `${MODEL}@champion` });
    const profile = await api.call<ProfileInfo>('GET', `/api/v1/models/${MODEL}/versions/${version}/profile`);
    log(`   deployed to endpoint '${ENDPOINT}'; reference profile of v${version}: ${profile.status} (${profile.rows ?? 0} training rows)`);
    const csv = readFileSync(join(folder, 'data', 'iris.csv'), 'utf8');
    const traffic = irisTraffic(csv, 1500, 31, SENSOR_OFFSET);
    const base = { python, register: false };
    return {
      model: MODEL,
      endpoint: ENDPOINT,
      pipeline,
      params: base,
      model_step: 'export',
      data: { label_column: 'species', min_rows: 300, base_file: join(folder, 'data', 'iris.csv') },
      trainer: `the scikit-learn pipeline of examples/iris (validate → train → evaluate → export; register: false, the policy registers the challenger), on the labelled log joined with data/iris.csv`,
      traffic: { columns: FEATURES, ...traffic, story: '1,500 flowers measured by a recalibrated petal sensor (petal_length +1.5 cm, petal_width +0.6 cm), each labelled by a botanist (feedback)' },
      worse: { params: { n_estimators: 1, max_depth: 1 }, story: 'n_estimators 1, max_depth 1 (one stump: it cannot tell three species apart)' },
    };
  };
}
