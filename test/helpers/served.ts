import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../../backend/src/core';
import { startServer } from '../../backend/src/server';
import { registerOnnxModel } from '../fixtures/onnx/harness';
import { CHAMPION, linearClassifier } from '../fixtures/onnx/models';

/**
 * A real backend on a fresh home (a real listener, as `mlops serve` runs it) with the ONNX model 'iris' registered as
 * version 1 and served by the endpoint 'iris'; closed and removed after the test.
 */
export async function servedIris(t: { after: (f: () => unknown) => void }, prefix: string) {
  const home = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const ctx = openCore(home);
  const version = registerOnnxModel(ctx, 'iris', linearClassifier(CHAMPION));
  ctx.db.close();
  const { app, handshake } = await startServer({ home });
  t.after(() => app.server.close());
  const auth = { authorization: `Bearer ${handshake.token}`, 'content-type': 'application/json' };
  const r = await fetch(`${handshake.url}/endpoints/iris/deploy`, { method: 'POST', headers: auth, body: JSON.stringify({ model: `iris/${version}` }) });
  if (r.status !== 200) throw new Error(`deploying iris/${version}: ${r.status} ${await r.text()}`);
  return { home, app, handshake, auth, version };
}
