import { onnx } from 'onnx-proto';

/**
 * Exports a logistic-regression model trained in JavaScript as a real ONNX graph, shaped like skl2onnx's output
 * for a binary classifier: input `X` float[N,F]; outputs `label` int64[N] and `probabilities` float[N,2].
 * Logits are [0, w·x + b], so softmax gives [1 − σ(z), σ(z)].
 */
export function logisticRegressionOnnx(weights: readonly number[], bias: number): Uint8Array {
  const f = weights.length;
  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const INT64 = onnx.TensorProto.DataType.INT64;
  const info = (name: string, elemType: number, dims: (number | string)[]): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, i, type: onnx.AttributeProto.AttributeType.INT });
  const w = weights.flatMap((x) => [0, x]);
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'mlops-studio',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'logistic_regression',
      initializer: [
        { name: 'W', dims: [f, 2], dataType: FLOAT, floatData: w },
        { name: 'B', dims: [2], dataType: FLOAT, floatData: [0, bias] },
      ],
      node: [
        { opType: 'MatMul', input: ['X', 'W'], output: ['XW'], name: 'matmul' },
        { opType: 'Add', input: ['XW', 'B'], output: ['logits'], name: 'add' },
        { opType: 'ArgMax', input: ['logits'], output: ['label'], name: 'argmax', attribute: [intAttr('axis', 1), intAttr('keepdims', 0)] },
        { opType: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'softmax', attribute: [intAttr('axis', 1)] },
      ],
      input: [info('X', FLOAT, ['N', f])],
      output: [info('label', INT64, ['N']), info('probabilities', FLOAT, ['N', 2])],
    },
  }).finish();
}

/**
 * An MLflow MLmodel file for it: onnx flavour plus a column signature, so requests, the prediction log and drift
 * name the features (tenure, …) instead of f0…f3.
 */
export function onnxMlModel(runId: string, features: readonly string[]): string {
  const inputs = JSON.stringify(features.map((name) => ({ type: 'double', name, required: true })));
  return [
    'artifact_path: model',
    'flavors:',
    '  onnx:',
    '    data: model.onnx',
    '    providers: [CPUExecutionProvider]',
    `run_id: ${runId}`,
    'signature:',
    `  inputs: '${inputs}'`,
    '',
  ].join('\n');
}
