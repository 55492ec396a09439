import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineRun } from '../../../backend/src/services/pipelines/repository';
import { backend, containersOf, tempHome, testImages, type Backend } from './helpers';

/** A pipeline whose steps are shell one-liners run by the local launcher: evaluate's score comes from a file. */
const PIPELINE = `
name: gate
params: { min_score: 0.8 }
steps:
  validate:
    validate:
      data: data.csv
      schema: { rows: { min: 3 }, columns: { x: { type: number, min: 0, max: 100 }, label: { type: string, values: [a, b] } } }
  train:
    needs: [validate]
    command: "cat data.csv | wc -l > $MLOPS_OUTPUT_DIR/model.txt; echo trained; date +%s%N > $MLOPS_OUTPUT_DIR/stamp"
    outputs: [model.txt]
  evaluate:
    needs: [train]
    command: "test -f $MLOPS_INPUT_TRAIN/model.txt && echo \\"{\\\\\\"score\\\\\\": $(cat score.txt)}\\" > $MLOPS_OUTPUT_DIR/outputs.json"
    cache: false
  deploy:
    needs: [evaluate]
    when: steps.evaluate.outputs.score >= params.min_score
    command: [sh, -c, "echo deployed \${{ steps.evaluate.outputs.score }} > deployed.txt"]
    cache: false
`;

async function runPipeline(b: Backend, file: string, params: Record<string, string> = {}): Promise<PipelineRun> {
  const start = await b.api<PipelineRun>('POST', '/api/v1/pipelines/runs', { file, params });
  assert.equal(start.status, 201, JSON.stringify(start.body));
  for (;;) {
    const { body } = await b.api<PipelineRun>('GET', `/api/v1/pipelines/runs/${start.body.pipeline_run_id}`);
    if (body.status !== 'running') return body;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const statuses = (r: PipelineRun) => Object.fromEntries(r.steps.map((s) => [s.step, s.status]));

void test('pipelines: a gate, caching, and data validation', { timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const dir = mkdtempSync(join(tmpdir(), 'mlops-pipe-'));
  const file = join(dir, 'mlops.yaml');
  writeFileSync(file, PIPELINE);
  writeFileSync(join(dir, 'data.csv'), 'x,label\n1,a\n2,b\n3,a\n');

  await t.test('the gate blocks deploy when evaluation falls short', async () => {
    writeFileSync(join(dir, 'score.txt'), '0.5');
    const r = await runPipeline(b, file);
    assert.deepEqual(statuses(r), { validate: 'finished', train: 'finished', evaluate: 'finished', deploy: 'skipped' });
    assert.equal(r.status, 'finished');
    assert.match(r.steps[3]!.message ?? '', /gate closed: when 'steps.evaluate.outputs.score >= params.min_score' is false/);
    assert.throws(() => readFileSync(join(dir, 'deployed.txt')));
    const parent = await b.api<{ run: { info: { status: string } } }>('GET', `/api/2.0/mlflow/runs/get?run_id=${r.run_id}`);
    assert.equal(parent.body.run.info.status, 'FINISHED');
    const child = await b.api<{ run: { data: { tags: { key: string; value: string }[] } } }>('GET', `/api/2.0/mlflow/runs/get?run_id=${r.steps[1]!.run_id}`);
    assert.equal(child.body.run.data.tags.find((x) => x.key === 'mlflow.parentRunId')?.value, r.run_id, 'step runs nest under the pipeline run');
  });

  await t.test('unchanged steps come from the cache; the gate opens when evaluation passes', async () => {
    // score.txt is read by evaluate (cache: false), but it is in the folder, so the code digest changes too:
    // keep the folder identical and pass the threshold through a parameter instead.
    const r = await runPipeline(b, file, { min_score: '0.4' });
    assert.deepEqual(statuses(r), { validate: 'finished', train: 'cached', evaluate: 'finished', deploy: 'finished' });
    assert.match(readFileSync(join(dir, 'deployed.txt'), 'utf8'), /deployed 0.5/);
    const first = (await b.api<{ runs: PipelineRun[] }>('GET', '/api/v1/pipelines/runs')).body.runs.at(-1)!;
    assert.equal(r.steps[1]!.output_dir, first.steps[1]!.output_dir, 'the cached step reuses the earlier outputs');
    assert.equal(r.steps[1]!.run_id, first.steps[1]!.run_id);
  });

  await t.test('a change in the code folder invalidates the cache', async () => {
    writeFileSync(join(dir, 'train_helper.py'), '# changed\n');
    const r = await runPipeline(b, file);
    assert.equal(statuses(r).train, 'finished');
  });

  await t.test('validation stops the pipeline on bad data, with a report', async () => {
    writeFileSync(join(dir, 'data.csv'), 'x,label\n1,a\n500,c\n');
    const r = await runPipeline(b, file);
    assert.equal(r.status, 'failed');
    assert.deepEqual(statuses(r), { validate: 'failed', train: 'skipped', evaluate: 'skipped', deploy: 'skipped' });
    const msg = r.steps[0]!.message ?? '';
    assert.match(msg, /data validation failed \(3 problem\(s\)\)/);
    assert.match(msg, /2 rows, fewer than the minimum 3/);
    assert.match(msg, /1 value\(s\) above the maximum 100/);
    assert.match(msg, /outside the allowed set/);
    const report = JSON.parse(readFileSync(join(r.steps[0]!.output_dir!, 'report.json'), 'utf8')) as { ok: boolean; rows: number };
    assert.deepEqual([report.ok, report.rows], [false, 2]);
  });

  await t.test('bad pipeline files are refused before anything runs', async () => {
    writeFileSync(join(dir, 'cycle.yaml'), 'steps:\n  a: { needs: [b], command: [x] }\n  b: { needs: [a], command: [x] }\n');
    const bad = await b.api<{ message: string }>('POST', '/api/v1/pipelines/runs', { file: join(dir, 'cycle.yaml') });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /cycle: a → b → a/);
    const unknown = await b.api<{ message: string }>('POST', '/api/v1/pipelines/runs', { file, params: { nope: 1 } });
    assert.match(unknown.body.message, /Unknown parameter\(s\) nope/);
    const missing = await b.api<{ message: string }>('POST', '/api/v1/pipelines/runs', { file: join(dir, 'absent.yaml') });
    assert.match(missing.body.message, /does not exist/);
  });
});

void test('pipelines: template values reach shell scripts as data, never as shell code', { timeout: 120_000 }, async (t) => {
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const dir = mkdtempSync(join(tmpdir(), 'mlops-pipe-inject-'));
  const file = join(dir, 'mlops.yaml');
  // One step per quoting context the template sits in: bare, double-quoted, single-quoted, inside $(...).
  writeFileSync(
    file,
    `
params: { bare: a, dq: b, sq: c, sub: d }
steps:
  bare:
    command: "echo \${{ params.bare }} > $MLOPS_OUTPUT_DIR/out.txt"
    cache: false
  dq:
    command: "echo \\"\${{ params.dq }}\\" > $MLOPS_OUTPUT_DIR/out.txt"
    cache: false
  sq:
    command: [sh, -c, "echo '\${{ params.sq }}' > $MLOPS_OUTPUT_DIR/out.txt"]
    cache: false
  sub:
    command: [bash, -ec, "echo \\"$(printf '%s' \${{ params.sub }})\\" > $MLOPS_OUTPUT_DIR/out.txt"]
    cache: false
`,
  );
  const pwned = (what: string) => join(dir, `pwned-${what}`);
  const params = {
    bare: `x; touch ${pwned('bare')} $(touch ${pwned('bare-sub')}) \`echo hi\``,
    dq: `x"; touch ${pwned('dq')}; echo "`,
    sq: `x'; touch ${pwned('sq')}; echo '`,
    sub: `x); touch ${pwned('sub')}; (echo`,
  };
  const r = await runPipeline(b, file, params);
  assert.deepEqual(statuses(r), { bare: 'finished', dq: 'finished', sq: 'finished', sub: 'finished' }, JSON.stringify(r.steps));
  for (const what of ['bare', 'bare-sub', 'dq', 'sq', 'sub']) assert.equal(existsSync(pwned(what)), false, `the ${what} payload ran`);
  for (const s of r.steps) assert.equal(readFileSync(join(s.output_dir!, 'out.txt'), 'utf8'), `${params[s.step as keyof typeof params]}\n`, s.step);
});

void test('pipelines: docker steps pass outputs through mounted folders and publish values for later steps', { timeout: 120_000 }, async (t) => {
  testImages();
  const home = tempHome(t);
  const b = await backend(home);
  t.after(() => b.close());
  const dir = mkdtempSync(join(tmpdir(), 'mlops-pipe-docker-'));
  writeFileSync(join(dir, 'input.txt'), 'hello\n');
  writeFileSync(
    join(dir, 'mlops.yaml'),
    `
image: mlops-test/busybox:1
params: { word: world }
steps:
  make:
    command: "cp /workspace/input.txt $MLOPS_OUTPUT_DIR/greeting.txt && echo '{\\"lines\\": 1}' > $MLOPS_OUTPUT_DIR/outputs.json"
    outputs: [greeting.txt]
  use:
    needs: [make]
    when: steps.make.outputs.lines == 1
    command: [sh, -c, "echo $(cat \${{ steps.make.outputs.dir }}/greeting.txt) \${{ params.word }} > $MLOPS_OUTPUT_DIR/out.txt; touch /workspace/nope 2>/dev/null && exit 9; exit 0"]
    outputs: [out.txt]
`,
  );
  const r = await runPipeline(b, join(dir, 'mlops.yaml'));
  assert.deepEqual(statuses(r), { make: 'finished', use: 'finished' }, JSON.stringify(r.steps));
  assert.equal(readFileSync(join(r.steps[1]!.output_dir!, 'out.txt'), 'utf8'), 'hello world\n');
  const jobs = (await b.api<{ jobs: { job_id: string; launcher: string }[] }>('GET', '/api/v1/jobs')).body.jobs;
  assert.ok(jobs.length === 2 && jobs.every((j) => j.launcher === 'docker'));
  for (const j of jobs) assert.deepEqual(containersOf(j.job_id), []);
});
