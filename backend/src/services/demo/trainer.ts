import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logisticRegressionOnnx, onnxMlModel } from './onnx';
import { train, type Dataset } from './train';

/**
 * The demo's retraining step (`mlops demo-train`, run as a pipeline job by the retrain loop): reads the CSV the data
 * step exported ($TRAIN_CSV: feature columns, then the label), fits the demo's logistic regression on 80 % of it
 * ($TRAIN_EPOCHS epochs; 0 leaves an untrained model), and writes model.onnx, MLmodel and outputs.json into
 * $MLOPS_OUTPUT_DIR. A stand-in for a Python training script on machines without Python.
 */
export function demoTrainStep(env: NodeJS.ProcessEnv = process.env): string {
  const csv = env.TRAIN_CSV;
  const out = env.MLOPS_OUTPUT_DIR;
  if (!csv || !out) throw new Error('demo-train needs TRAIN_CSV and MLOPS_OUTPUT_DIR');
  const [header, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
  const features = header!.split(',').slice(0, -1);
  const rows = lines.map((l) => l.split(',').map(Number));
  if (rows.some((r) => r.length !== features.length + 1 || r.some((v) => !Number.isFinite(v)))) throw new Error(`${csv}: every row needs ${features.length} numeric features and a numeric label`);
  const cut = Math.floor(rows.length * 0.8);
  const set = (rs: number[][]): Dataset => ({ x: rs.map((r) => Float64Array.from(r.slice(0, -1))), y: rs.map((r) => r.at(-1)!), features });
  const epochs = Number(env.TRAIN_EPOCHS ?? 200);
  const t = train(set(rows.slice(0, cut)), set(rows.slice(cut)), 0.5, epochs, 0);
  // An untrained model predicts churn for everyone (the bias alone): the worse challenger of the demo.
  const bias = epochs === 0 ? 1 : t.bias;
  writeFileSync(join(out, 'model.onnx'), logisticRegressionOnnx(t.weights, bias));
  writeFileSync(join(out, 'MLmodel'), onnxMlModel(env.MLFLOW_RUN_ID ?? 'demo-train', features));
  writeFileSync(join(out, 'outputs.json'), JSON.stringify({ rows: rows.length, val_accuracy: t.valAccuracy, epochs }));
  return `trained on ${cut} rows (${features.join(', ')}), ${epochs} epochs: validation accuracy ${t.valAccuracy.toFixed(3)}`;
}
