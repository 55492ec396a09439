import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IRIS_CARD } from '../fixtures/card';
import { loadWebview } from './dom';

void test('model card: metrics, signature, profile, lineage, gate, alias and deployment history; Open Run posts the run', async () => {
  const w = await loadWebview('card');
  try {
    assert.deepEqual(w.posted, [{ type: 'card/ready' }]);
    await w.receive({ type: 'card/data', card: IRIS_CARD });
    const d = w.document;
    const rows = (id: string) => [...d.querySelectorAll(`#${id} tbody tr`)].map((r) => [...r.children].map((c) => c.textContent));
    assert.equal(d.getElementById('title')?.textContent, 'Model card: iris version 1');
    assert.deepEqual([...d.querySelectorAll('vscode-badge')].map((b) => b.textContent), ['@champion']);
    assert.deepEqual(rows('metrics'), [['accuracy', '0.93'], ['loss', '0.2']]);
    assert.deepEqual(rows('inputs'), [['sepal_length', 'double', 'required'], ['(unnamed)', 'tensor float32 [-1, 4]', 'required']]);
    assert.deepEqual(rows('outputs'), [['label', 'long', 'required']]);
    assert.match(d.getElementById('profile-source')?.textContent ?? '', /^Training data: artifact reference_data\.csv · 500 rows$/);
    assert.deepEqual(rows('profile'), [
      ['sepal_length', 'numeric', '500', '0', '0.01', '2.9', '1.45', '0.83'],
      ['colour', 'categorical (2)', '500', '2', 'red 60%, blue 40%', '', '', ''],
    ]);
    const lineage = rows('lineage').map((r) => r.join(' '));
    for (const s of ['Commit 3f2a9c1e7b (with uncommitted changes)', 'Image sha256:9b1e4c', 'Data: iris.csv d41d8cd9 (data/iris.csv)', 'Script train.py']) assert.ok(lineage.includes(s), `${s} in ${lineage.join(' | ')}`);
    assert.match(d.getElementById('gate')?.textContent ?? '', /Gate failed/);
    assert.deepEqual(rows('gate-conditions'), [['accuracy >= 0.95', '0.93', 'fail: accuracy is 0.93']]);
    assert.deepEqual(rows('aliases').map((r) => r.slice(1)), [['@champion', 'version 2 → 1', 'moved', 'ana', 'challenger worse online'], ['@champion', 'set to version 1', 'set', 'ana', '']]);
    assert.deepEqual(rows('deployments').map((r) => r.slice(1)), [['iris-ep', 'nothing → iris/1 100%', 'deploy', 'ana', 'replace iris/1']]);
    assert.equal(d.querySelector('#metrics tbody tr')?.getAttribute('tabindex'), '0', 'tables are keyboard-reachable');
    ([...d.querySelectorAll('vscode-button')].find((b) => b.textContent === 'Open Run') as HTMLElement).click();
    assert.deepEqual(w.posted.at(-1), { type: 'card/openRun', runId: 'abc123' });

    // A version with no run, no MLmodel, no profile, no gate and no history says so in each section.
    await w.receive({
      type: 'card/data',
      card: { ...IRIS_CARD, run: null, metrics: [], lineage: null, aliases: [], signature: { flavors: [], inputs: null, outputs: null, message: 'No MLmodel file beside the model: no signature recorded.' }, profile: { status: 'none', kind: null, source: null, rows: null, message: 'no reference_data.csv', features: [] }, alias_history: [], deployments: [], gate: null },
    });
    assert.match(d.getElementById('metrics')?.textContent ?? '', /No run recorded/);
    assert.match(d.getElementById('inputs')?.textContent ?? '', /No input signature/);
    assert.match(d.getElementById('profile-source')?.textContent ?? '', /No training data profile: no reference_data\.csv/);
    assert.match(d.getElementById('gate')?.textContent ?? '', /No promotion gate/);
    assert.match(d.getElementById('deployments')?.textContent ?? '', /Never deployed/);
    await w.receive({ type: 'card/error', message: 'Model Version (name=iris, version=9) not found' });
    assert.match(d.getElementById('error')?.textContent ?? '', /not found/);
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});
