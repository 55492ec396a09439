import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunPageData } from '../../webviews/src/protocol/run';
import { loadWebview, settle } from './dom';

const data = (): RunPageData => ({
  detail: {
    run: { run_id: 'r1', name: 'page-run', experiment_id: '1', experiment_name: 'iris', status: 'FINISHED', start_time: 1000, end_time: 5000, artifact_uri: 'mlflow-artifacts:/1/r1/artifacts', user: 'ana' },
    params: { lr: '0.01', depth: '3' },
    tags: { team: 'vision', 'mlflow.source.name': 'train.py' },
    metrics: [
      { key: 'loss', steps: [0, 1, 2], values: [1, 0.5, 0.25], latest: 0.25, points: 3 },
      { key: 'test_accuracy', steps: [0], values: [0.93], latest: 0.93, points: 1 },
    ],
    lineage: { code_commit: 'deadbeef', code_dirty: true, image_digest: 'sha256:01', command: 'python train.py', environment: {}, source_name: 'train.py', datasets: [{ name: 'iris.csv', digest: 'abc', source: 'data/iris.csv' }] },
    artifacts: [{ path: 'model/model.onnx', size: 2048 }],
    artifacts_truncated: false,
    models: [{ name: 'model', source: 'runs:/r1/model', kind: 'artifact', flavors: ['onnx'], onnx: true }],
    job: { job_id: 'j1', status: 'finished' },
  },
  jobLog: { job_id: 'j1', status: 'finished', text: 'epoch 1\nepoch 2\n', truncated: false },
});

void test('run page: params, a sparkline per metric and a bar for a one-value metric, tags, lineage, models, job log', async () => {
  const w = await loadWebview('run');
  try {
    assert.deepEqual(w.posted[0], { type: 'run/ready' });
    await w.receive({ type: 'run/data', data: data() });
    const d = w.document;
    assert.equal(d.getElementById('title')?.textContent, 'Run page-run');
    const cells = (id: string) => [...d.querySelectorAll(`#${id} tbody tr`)].map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent));
    assert.deepEqual(cells('params'), [['lr', '0.01'], ['depth', '3']]);
    assert.deepEqual(cells('tags'), [['team', 'vision']], 'mlflow.* system tags are not repeated as tags');
    const kinds = [...d.querySelectorAll('#metrics canvas')].map((c) => (c as HTMLElement).dataset.kind);
    assert.deepEqual(kinds, ['line', 'bar'], 'one value is a bar, not a dot at step 0');
    assert.match(cells('lineage').map((r) => r.join(' ')).join('\n'), /Commit deadbeef \(with uncommitted changes\)[\s\S]*Image sha256:01[\s\S]*Data: iris.csv abc/);
    assert.equal(cells('models')[0]![2], 'yes');
    assert.equal(d.getElementById('job-log')?.textContent, 'epoch 1\nepoch 2\n');
    assert.ok(w.drawCalls() > 0);
    await settle(100);
    assert.ok(w.posted.some((m) => m.type === 'run/rendered' && m.charts === 2));
    d.querySelector<HTMLElement>('#models vscode-button')!.click();
    assert.deepEqual(w.posted.at(-1), { type: 'run/register', source: 'runs:/r1/model' });
    assert.deepEqual(w.errors, []);
  } finally {
    w.close();
  }
});

void test('run page: table rows are one Tab stop, arrows move between them', async () => {
  const w = await loadWebview('run');
  try {
    await w.receive({ type: 'run/data', data: data() });
    const rows = [...w.document.querySelectorAll<HTMLElement>('#params tbody tr')];
    assert.deepEqual(rows.map((r) => r.getAttribute('tabindex')), ['0', '-1']);
    rows[0]!.focus();
    rows[0]!.dispatchEvent(new w.window.KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    assert.equal(w.document.activeElement, rows[1]);
    assert.deepEqual(rows.map((r) => r.getAttribute('tabindex')), ['-1', '0']);
  } finally {
    w.close();
  }
});
