import { mulberry32 } from '../../util/random';

/**
 * A small, real training job for the demo: logistic regression by gradient descent on a synthetic
 * two-class problem, evaluated on a held-out split. Deterministic for a given seed.
 */
export interface Dataset {
  x: Float64Array[];
  y: number[];
  features: string[];
}

export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** How churn depends on the features (the demo's loop moves it: region_code starts to matter). */
export const CONCEPT = [1.5, -2.0, 0.8, 0.0];

/** Churn-like data: 4 features, the label depends on a linear score plus noise; `shift` moves tenure's mean. */
export function makeDataset(n: number, seed: number, shift = 0, w: readonly number[] = CONCEPT): Dataset {
  const rand = mulberry32(seed);
  const x: Float64Array[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(4);
    for (let j = 0; j < 4; j++) row[j] = gaussian(rand) + (j === 0 ? shift : 0);
    const score = row.reduce((s, v, j) => s + v * w[j]!, 0.3) + gaussian(rand) * 0.7;
    x.push(row);
    y.push(score > 0 ? 1 : 0);
  }
  return { x, y, features: ['tenure', 'support_calls', 'monthly_spend', 'region_code'] };
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
}

export interface Trained {
  weights: number[];
  bias: number;
  history: EpochMetrics[];
  valAccuracy: number;
  valLoss: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function evaluate(w: number[], b: number, d: Dataset): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < d.x.length; i++) {
    const p = sigmoid(d.x[i]!.reduce((s, v, j) => s + v * w[j]!, b));
    const yi = d.y[i]!;
    loss -= yi * Math.log(Math.max(p, 1e-12)) + (1 - yi) * Math.log(Math.max(1 - p, 1e-12));
    if ((p >= 0.5 ? 1 : 0) === yi) correct++;
  }
  return { loss: loss / d.x.length, accuracy: correct / d.x.length };
}

export function train(trainSet: Dataset, valSet: Dataset, lr: number, epochs: number, l2: number): Trained {
  const f = trainSet.features.length;
  const w = new Array<number>(f).fill(0);
  let b = 0;
  const history: EpochMetrics[] = [];
  for (let e = 0; e < epochs; e++) {
    const gw = new Array<number>(f).fill(0);
    let gb = 0;
    for (let i = 0; i < trainSet.x.length; i++) {
      const xi = trainSet.x[i]!;
      const err = sigmoid(xi.reduce((s, v, j) => s + v * w[j]!, b)) - trainSet.y[i]!;
      for (let j = 0; j < f; j++) gw[j]! += err * xi[j]!;
      gb += err;
    }
    for (let j = 0; j < f; j++) w[j]! -= lr * (gw[j]! / trainSet.x.length + l2 * w[j]!);
    b -= (lr * gb) / trainSet.x.length;
    history.push({ epoch: e, ...evaluate(w, b, trainSet) });
  }
  const val = evaluate(w, b, valSet);
  return { weights: w, bias: b, history, valAccuracy: val.accuracy, valLoss: val.loss };
}
