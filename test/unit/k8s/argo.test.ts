import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipeline } from '../../../backend/src/services/pipelines/spec';
import { argoWorkflow } from '../../../backend/src/services/k8s/argo';
import { ManifestError, memoryQuantity } from '../../../backend/src/services/k8s/common';

/** The mlops.yaml → Argo mapping of step settings, checked field by field and against the typed Workflow model. */

const YAML = `
name: Churn_Model
params: { threshold: 0.8, mode: fast, strict: true }
max_parallel: 2
fail_fast: false
steps:
  prep_data:
    image: reg/prep:1
    command: [python, prep.py, --mode, "\${{ params.mode }}"]
    retries: 2
    timeout: 30m
    cpus: 2
    memory: 1.5g
    gpus: 1
    env: { LEVEL: "\${{ params.threshold }}" }
  train:
    needs: [prep_data]
    image: reg/train:1
    run: echo "\${{ steps.prep_data.outputs.rows }}" > $MLOPS_OUTPUT_DIR/rows.txt
    when: steps.prep_data.status == 'finished' && (params.strict || !(steps.prep_data.metrics.loss > params.threshold))
`;

void test('step settings map onto Argo fields, and the result validates against the Workflow model', async () => {
  const { Workflow } = await import('@kubernetes-models/argo-workflows/argoproj.io/v1alpha1');
  const wf = argoWorkflow(parsePipeline(YAML, '/tmp/churn/mlops.yaml')) as unknown as { spec: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  new Workflow(wf as never).validate();
  assert.equal(wf.spec.parallelism, 2);
  assert.equal(wf.spec.templates[0].dag.failFast, false);
  const [dagPrep, dagTrain] = wf.spec.templates[0].dag.tasks;
  assert.equal(dagPrep.name, 'prep-data');
  assert.deepEqual(dagTrain.dependencies, ['prep-data']);
  assert.equal(
    dagTrain.when,
    "{{=((tasks['prep-data'].status == 'Succeeded') && ((workflow.parameters['strict'] == 'true') || !((asFloat(jsonpath(tasks['prep-data'].outputs.parameters['outputs'], '$.loss')) > asFloat(workflow.parameters['threshold'])))))}}",
  );
  assert.deepEqual(dagTrain.arguments.parameters, [{ name: 't0', value: "{{=jsonpath(tasks['prep-data'].outputs.parameters['outputs'], '$.rows')}}" }]);
  const prep = wf.spec.templates[1];
  assert.deepEqual(prep.retryStrategy, { limit: '2', retryPolicy: 'OnFailure' });
  assert.equal(prep.activeDeadlineSeconds, 1800);
  assert.deepEqual(prep.container.resources, { limits: { cpu: '2', memory: '1536Mi', 'nvidia.com/gpu': '1' }, requests: { cpu: '2', memory: '1536Mi' } });
  assert.deepEqual(prep.container.command, ['python', 'prep.py', '--mode', '{{inputs.parameters.t0}}']);
  assert.ok(prep.container.env.some((e: { name: string; value: string }) => e.name === 'LEVEL' && e.value === '{{inputs.parameters.t1}}'));
  // A shell script reads its template from an environment variable, never pasted into the script.
  const train = wf.spec.templates[2];
  assert.deepEqual(train.container.command.slice(0, 2), ['sh', '-c']);
  assert.doesNotMatch(train.container.command[2], /\{\{/);
  assert.ok(train.container.env.some((e: { name: string; value: string }) => e.name.startsWith('MLOPS_TEMPLATE_') && e.value === '{{inputs.parameters.t0}}'));
});

void test('what cannot be exported says why', () => {
  const noImage = parsePipeline('steps:\n  a:\n    command: [python, a.py]\n', '/tmp/x/mlops.yaml');
  assert.throws(() => argoWorkflow(noImage), (e: Error) => e instanceof ManifestError && /step 'a' names no image; pass --image/.test(e.message));
  const clash = parsePipeline('steps:\n  a_b:\n    command: [x]\n  a-b:\n    command: [y]\n', '/tmp/x/mlops.yaml');
  assert.throws(() => argoWorkflow(clash, { image: 'i' }), /both become 'a-b'/);
  const badStatus = parsePipeline("steps:\n  a:\n    command: [x]\n  b:\n    needs: [a]\n    command: [y]\n    when: steps.a.status == 'exploded'\n", '/tmp/x/mlops.yaml');
  assert.throws(() => argoWorkflow(badStatus, { image: 'i' }), /status 'exploded' has no Argo phase/);
  assert.equal(memoryQuantity('512m'), '512Mi');
  assert.equal(memoryQuantity('4G'), '4Gi');
  assert.throws(() => memoryQuantity('lots'), /not a size/);
});
