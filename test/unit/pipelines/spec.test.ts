import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipeline } from '../../../backend/src/services/pipelines/spec';
import { parseSchema, validateCsv } from '../../../backend/src/services/pipelines/validate';

const parse = (yaml: string) => parsePipeline(yaml, '/p/mlops.yaml');

void test('steps come out in dependency order with their settings', () => {
  const p = parse(`
name: demo
params: { min: 0.8 }
steps:
  deploy: { needs: [evaluate], when: "steps.evaluate.metrics.acc >= params.min", command: [echo, deploy] }
  train: { command: "python train.py", outputs: [model.pkl], retries: 2, cache: false }
  evaluate: { needs: [train], command: [python, eval.py, "\${{ steps.train.outputs.dir }}/model.pkl"] }
`);
  assert.deepEqual(p.steps.map((s) => s.name), ['train', 'evaluate', 'deploy']);
  assert.deepEqual(p.steps[0]!.command, ['sh', '-c', 'python train.py']);
  assert.deepEqual([p.steps[0]!.retries, p.steps[0]!.cache, p.steps[0]!.launcher], [2, false, 'local']);
  assert.equal(p.steps[2]!.when?.src, 'steps.evaluate.metrics.acc >= params.min');
  assert.equal(p.experiment, 'demo');
  assert.deepEqual([p.maxParallel, p.failFast], [undefined, true], 'no pipeline-level bound; fail fast like Argo');
  const q = parse('max_parallel: 3\nfail_fast: false\nsteps:\n  a: { command: [x] }');
  assert.deepEqual([q.maxParallel, q.failFast], [3, false]);
});

void test('templates in shell scripts become variables; other argv gets the value as one argument', () => {
  const p = parse(`
params: { msg: hi }
steps:
  a: { command: "echo \${{ params.msg }} > out.txt" }
  b: { command: [python, train.py, --msg, "\${{ params.msg }}"] }
`);
  assert.deepEqual(p.steps[0]!.command, ['sh', '-c', 'echo "${MLOPS_TEMPLATE_0}" > out.txt']);
  assert.deepEqual(p.steps[0]!.scriptEnv, { MLOPS_TEMPLATE_0: '${{ params.msg }}' });
  assert.deepEqual(p.steps[1]!.command, ['python', 'train.py', '--msg', '${{ params.msg }}']);
  assert.deepEqual(p.steps[1]!.scriptEnv, {});
  assert.throws(() => parse('steps:\n  a: { command: "echo ${{ params.nope }}" }'), /unknown parameter 'params.nope'/);
});

void test('bad pipelines fail with a message that names the problem', () => {
  const cases: [string, RegExp][] = [
    ['steps:\n  a: { needs: [b], command: [x] }\n  b: { needs: [c], command: [x] }\n  c: { needs: [a], command: [x] }', /cycle: a → b → c → a/],
    ['steps:\n  a: { needs: [nope], command: [x] }', /step 'a' needs unknown step 'nope'/],
    ['steps:\n  a: { command: [x], when: "steps.a.metrics.x >" }', /step 'a': invalid when .*ends too early/],
    ['steps:\n  a: { command: [x] }\n  b: { command: [x], when: "steps.a.status == \'finished\'" }', /reads step 'a', which it does not need/],
    ['steps:\n  a: { command: [x], when: "params.nope > 1" }', /unknown parameter 'params.nope'/],
    ['steps:\n  a: { command: [x], when: "foo > 1" }', /'foo' is not params.X or steps.NAME/],
    ['steps:\n  a: { comand: [x] }', /unknown key\(s\) comand/],
    ['steps:\n  a: { image: img }', /step 'a' needs a 'command'/],
    ['steps: {}', /'steps' must map step names/],
    ['steps:\n  a: { command: [x, "${{ steps.zz.outputs.dir }}"] }', /unknown step 'zz'/],
    ['steps: [1', /not valid YAML/],
    ['stepz: {}', /unknown key\(s\) stepz/],
    ['max_parallel: 0\nsteps:\n  a: { command: [x] }', /max_parallel must be a whole number ≥ 1, got '0'/],
    ['max_parallel: 1.5\nsteps:\n  a: { command: [x] }', /max_parallel must be a whole number/],
    ['fail_fast: maybe\nsteps:\n  a: { command: [x] }', /fail_fast must be true or false/],
  ];
  for (const [yaml, re] of cases) assert.throws(() => parse(yaml), re, yaml);
});

void test('data validation reports types, ranges, allowed values, missing cells and row counts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-validate-'));
  const csv = join(dir, 'd.csv');
  writeFileSync(csv, 'x,y,label\n1,2.5,a\n2,,b\n3,abc,c\n40,1,a\n');
  const schema = parseSchema(
    { rows: { min: 5 }, columns: { x: { type: 'integer', min: 0, max: 10 }, y: { type: 'number', missing: 0.1 }, label: { type: 'string', values: ['a', 'b'] }, z: { type: 'number' } } },
    dir,
  );
  const r = validateCsv(csv, schema);
  assert.equal(r.ok, false);
  assert.equal(r.rows, 4);
  assert.deepEqual(r.failures, [
    '4 rows, fewer than the minimum 5',
    'column \'x\': 1 value(s) above the maximum 10 (highest 40)',
    "column 'y': 1 missing value(s) (25.0%), allowed 10.0%",
    "column 'y': 1 value(s) are not of type number",
    'column \'label\': 1 value(s) outside the allowed set ["a","b"]',
    "column 'z' is missing from the file",
  ]);
  writeFileSync(csv, 'x,y,label\n1,2.5,a\n2,3,b\n');
  const ok = validateCsv(csv, parseSchema({ rows: { min: 2 }, columns: { x: { type: 'integer' }, y: { type: 'number' } } }, dir));
  assert.deepEqual([ok.ok, ok.failures, ok.columns.y!.max], [true, [], 3]);
  assert.match(validateCsv(join(dir, 'none.csv'), schema).failures[0]!, /does not exist/);
  assert.throws(() => parseSchema({ columns: { a: { type: 'float' } } }, dir), /type must be one of/);
  assert.throws(() => parseSchema('missing.yaml', dir), /schema file 'missing.yaml' does not exist/);
});

void test("a validate step's data may name a parameter (a retrain passes its exported file); unknown ones are refused", () => {
  const schema = '{ rows: { min: 1 }, columns: { x: { type: number } } }';
  const p = parse(`params: { data: data/in.csv }\nsteps:\n  check: { validate: { data: "\${{ params.data }}", schema: ${schema} } }\n  fixed: { validate: { data: data/in.csv, schema: ${schema} } }`);
  assert.equal(p.steps[0]!.validate!.data, '${{ params.data }}', 'kept as written: rendered when the step runs');
  assert.equal(p.steps[1]!.validate!.data, '/p/data/in.csv');
  assert.throws(() => parse(`steps:\n  check: { validate: { data: "\${{ params.nope }}", schema: ${schema} } }`), /unknown parameter 'params\.nope'/);
});
