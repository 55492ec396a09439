import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendDownError } from '../../../extension/src/backend/state';
import { ExperimentsModel, runView, type ExperimentNode } from '../../../extension/src/experiments/model';
import { runs, source, T0 } from './fixtures';

void test('experiments → runs with status icon, primary metric and duration', async () => {
  const src = source(runs(3));
  const m = new ExperimentsModel(async () => src, () => 500, () => T0 + 10_000);
  const [exp] = await m.children(undefined);
  assert.equal(exp!.kind, 'experiment');
  const v = m.view(exp!);
  assert.equal(v.label, 'iris');
  assert.equal(v.description, '3 runs · ↑accuracy');
  assert.equal(v.collapsible, 'collapsed');
  const kids = await m.children(exp);
  assert.deepEqual(kids.map((k) => m.view(k).label), ['run-0', 'run-1', 'run-2']);
  const running = m.view(kids[0]!);
  assert.equal(running.icon?.id, 'sync~spin');
  assert.equal(running.contextValue, 'run.running');
  assert.equal(running.description, 'accuracy 0.9 · 10s', 'a running run counts its duration up to now');
  assert.equal(m.view(kids[1]!).description, 'accuracy 0.9 · 1m 05s');
  assert.equal(m.view(kids[1]!).icon?.id, 'pass');
});

void test('10,000 runs: the first page only, then Load more appends the next page', async () => {
  const src = source(runs(10_000));
  const m = new ExperimentsModel(async () => src, () => 500);
  const [exp] = await m.children(undefined);
  const first = await m.children(exp);
  assert.equal(first.length, 501);
  const more = first.at(-1)!;
  assert.equal(more.kind, 'more');
  assert.equal(m.view(more).label, 'Load more… (500 of 10000)');
  assert.deepEqual(m.view(more).command?.arguments, ['1']);
  let fired = 0;
  m.onDidChange(() => fired++);
  await m.loadMore('1');
  assert.equal(fired, 1);
  const second = await m.children(exp);
  assert.equal(second.length, 1001);
  assert.deepEqual(src.calls, [{ offset: 0, limit: 500 }, { offset: 500, limit: 500 }]);
});

void test('a backend event re-reads as many runs as were loaded, in pages the backend accepts', async () => {
  const src = source(runs(12_000));
  const m = new ExperimentsModel(async () => src, () => 4000);
  const [exp] = await m.children(undefined);
  await m.children(exp);
  await m.loadMore('1');
  await m.loadMore('1');
  src.calls.length = 0;
  m.invalidate(['models']);
  assert.equal((await m.children(exp)).length, 12_000 + 0, 'unrelated topic keeps the cache');
  assert.equal(src.calls.length, 0);
  m.invalidate(['runs']);
  const [exp2] = await m.children(undefined);
  assert.equal((await m.children(exp2)).length, 12_000);
  assert.deepEqual(src.calls, [{ offset: 0, limit: 5000 }, { offset: 5000, limit: 5000 }, { offset: 10_000, limit: 2000 }]);
});

void test('never a blank view: backend down, empty store, and empty experiment each explain themselves', async () => {
  const down = new ExperimentsModel(async () => {
    throw new BackendDownError({ kind: 'error', detail: 'crashed 7 times', retryInMs: null });
  }, () => 500);
  const [msg] = await down.children(undefined);
  assert.equal(msg!.kind, 'message');
  const v = down.view(msg!);
  assert.match(v.label, /crashed 7 times.*Click to restart/);
  assert.equal(v.command?.command, 'mlops.restartBackend');
  const starting = new ExperimentsModel(async () => {
    throw new BackendDownError({ kind: 'starting', detail: '' });
  }, () => 500);
  assert.equal(starting.view((await starting.children(undefined))[0]!).label, 'Starting the MLOps backend…');
  const empty = new ExperimentsModel(async () => ({ experiments: async () => ({ experiments: [] }), runs: async () => ({ runs: [], total: 0, next_offset: null }) }), () => 500);
  assert.deepEqual(await empty.children(undefined), [], 'an empty store has no items: the view welcome shows');
  const fresh = new ExperimentsModel(async () => ({ ...source([], 'Default'), experiments: async () => ({ experiments: [{ experiment_id: '0', name: 'Default', run_count: 0, last_update_time: T0, primary_metric: null }] }) }), () => 500);
  assert.deepEqual(await fresh.children(undefined), [], "a fresh store's empty Default experiment: the welcome shows");
  const none = new ExperimentsModel(async () => source([]), () => 500);
  const [exp] = await none.children(undefined);
  assert.match(none.view((await none.children(exp))[0]!).label, /No runs yet/);
});

void test('runView tolerates a run without a name or a metric', () => {
  const v = runView({ run_id: 'abcdef0123456789', name: '', status: 'KILLED', start_time: T0, end_time: T0 + 500, metric: null }, T0);
  assert.equal(v.label, 'abcdef01');
  assert.equal(v.description, '500ms');
  assert.equal(v.icon?.id, 'circle-slash');
  const loaded: ExperimentNode[] = [];
  assert.equal(loaded.length, 0);
});
