import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openWorkbench, OUT, type Workbench, runningBackend } from './harness';
import { openCore } from '../../backend/src/core';
import { registerOnnxModel } from '../fixtures/onnx/harness';
import { CHALLENGER, CHAMPION, linearClassifier } from '../fixtures/onnx/models';
import { call, type Api } from './seed';
import { answerDialog, answerInput, choose, resetUi, runCommand, waitFor } from './ui';

const workspace = join(OUT, 'e2e-gates-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);

const champion = async (api: Api): Promise<string> => (await call<{ model_version: { version: string } }>(api, 'GET', '/api/2.0/mlflow/registered-models/alias?name=gated&alias=champion')).model_version.version;

void describe('Promote (Set Alias) through a promotion gate in code-server', { timeout: 600_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    const core = openCore(home);
    registerOnnxModel(core, 'gated', linearClassifier(CHAMPION));
    registerOnnxModel(core, 'gated', linearClassifier(CHALLENGER));
    core.registry.setVersionTag('gated', '1', 'validated', 'true');
    core.gates.setAlias('gated', 'champion', '1', { actor: 'seed' });
    core.gates.set('gated', { tags: [{ key: 'validated' }], data_validation: 'off' }, { actor: 'seed' });
    core.db.close();
    wb = await openWorkbench('gates', workspace);
  });
  after(async () => {
    await wb?.close();
  });

  void it('shows the refusal with the failed condition, and overrides it with a reason that lands in the audit log', { timeout: 300_000 }, async () => {
    const { page } = wb;
    const api = await backend();
    await resetUi(page);
    const promote = async () => {
      await runCommand(page, 'MLOps: Promote (Set Alias)');
      await choose(page, /^gated$/);
      await choose(page, 'Version 2');
      await choose(page, /^champion$/);
    };
    await promote();
    const refusal = await answerDialog(page, 'Cancel');
    assert.match(refusal, /gated@champion was not moved to version 2/);
    assert.match(refusal, /Promotion gate refused moving gated@champion to version 2: tag validated failed: the version has no tag 'validated'/);
    assert.equal(await champion(api), '1', 'a refusal moves nothing');

    await promote();
    await answerDialog(page, 'Override with reason…');
    await answerInput(page, /Why promote gated version 2 to @champion/, 'hotfix for incident 7');
    await waitFor('@champion on version 2', async () => (await champion(api)) === '2', 60_000);
    const audit = await call<{ events: { action: string; reason: string | null; before: unknown; after: { version: string; failed: { condition: string }[] } }[] }>(api, 'GET', '/api/v1/audit?object_id=gated@champion');
    const ev = audit.events.find((e) => e.action === 'alias.gate_override');
    assert.ok(ev, JSON.stringify(audit.events.map((e) => e.action)));
    assert.equal(ev.reason, 'hotfix for incident 7');
    assert.deepEqual(ev.before, { version: '1' });
    assert.deepEqual([ev.after.version, ev.after.failed.map((f) => f.condition)], ['2', ['tag validated']]);
    assert.ok(audit.events.some((e) => e.action === 'alias.gate_refused'), 'the cancelled attempt was refused and audited');
  });
});
