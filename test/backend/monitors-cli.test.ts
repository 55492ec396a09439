import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../backend/src/server';
import { sampleRows } from '../fixtures/onnx/harness';
import { CLI, cli, ensureBuilt } from '../integration/serving/proc';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEATURES } from '../fixtures/onnx/models';
import { servedIris } from '../helpers/served';

void test('mlops monitor and mlops incidents drive the running backend', async (t) => {
  ensureBuilt();
  const { home, handshake, auth } = await servedIris(t, 'mlops-monitor-cli-');
  const rows = sampleRows(300, 3);
  // 60 requests of 5 rows: the SLO check counts requests.
  for (let i = 0; i < rows.length; i += 5) {
    const r = await fetch(`${handshake.url}/endpoints/iris/invocations`, { method: 'POST', headers: auth, body: JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows.slice(i, i + 5) } }) });
    assert.equal(r.status, 200);
  }
  const mlops = (...a: string[]) => cli(home, ...a);

  const list = await mlops('monitor', 'list', 'iris');
  assert.equal(list.code, 0, list.stderr);
  for (const kind of ['data_drift', 'prediction_drift', 'concept_drift', 'performance']) assert.match(list.stdout, new RegExp(`iris\\s+${kind}\\s+5 min`));

  const set = await mlops('monitor', 'set', 'iris', 'performance', 'max_p99_ms=0', 'min_rows=50', 'failure_limit=1', 'latency_alpha=0.01');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /max_p99_ms = 0/);
  assert.match(set.stdout, /latency_alpha = 0.01/);
  const bad = await mlops('monitor', 'set', 'iris', 'performance', 'max_p99_msec=1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unknown monitor setting 'max_p99_msec'/);

  // Every request takes more than 0 ms: the SLO check fails and opens an incident at once.
  const run = await mlops('monitor', 'run-now', 'iris', 'performance');
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^FAIL: iris\/1: SLO breached \(p99_latency\): .*p99 [\d.]+ ms over 60 requests, 60 of 60 over 0 ms: more than 1 % slower \(binomial p [\d.e-]+ ≤ α 0\.01\)/);
  assert.match(run.stdout, /incident #(\d+) \(open, critical\)/);
  const id = /incident #(\d+)/.exec(run.stdout)![1]!;

  const incidents = await mlops('incidents', 'list');
  assert.match(incidents.stdout, new RegExp(`#${id}\\s+open\\s+critical\\s+iris\\s+performance`));
  assert.notEqual((await mlops('incidents', 'ack', id)).code, 0, '--reason is required');
  assert.match((await mlops('incidents', 'ack', id, '--reason', 'known slow disk')).stdout, new RegExp(`incident #${id} acknowledged`));
  assert.match((await mlops('incidents', 'resolve', id, '--reason', 'SLO relaxed')).stdout, new RegExp(`incident #${id} resolved`));
  const shown = await mlops('incidents', 'show', id);
  assert.match(shown.stdout, /acknowledged .* by .*: known slow disk/);
  assert.match(shown.stdout, /resolved .* by .*: SLO relaxed/);
  // The figures the verdict came from, per failing variant.
  assert.match(shown.stdout, /\n {2}iris\/1: failed p99_latency · p99 [\d.]+ ms over 60 requests, 60 over 0 ms \(binomial p [\d.e-]+, α 0\.01\) · error rate 0\.0% of 60 requests(\n|$)/);

  assert.match((await mlops('monitor', 'pause', 'iris', 'data_drift')).stdout, /iris data_drift: paused/);
  const show = await mlops('monitor', 'show', 'iris', 'performance');
  assert.match(show.stdout, /iris · performance · next check/);
  assert.match(show.stdout, /fail\s+\d+\s+iris\/1: SLO breached/);
  assert.notEqual((await mlops('monitor', 'show', 'iris', 'bogus')).code, 0);
});

void test('mlops alerts webhook add|list|test|remove and mlops alerts deliveries', async (t) => {
  ensureBuilt();
  const home = mkdtempSync(join(tmpdir(), 'mlops-alerts-cli-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const { app } = await startServer({ home });
  t.after(() => app.server.close());
  const got: { body: string; signature: string }[] = [];
  const rx = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ body, signature: String(req.headers['x-mlops-signature'] ?? '') });
      res.end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  t.after(() => rx.close());
  const url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/hook`;
  const secret = 'cli-secret-from-stdin-0123456789';
  // The secret comes through standard input, never argv.
  // Not spawnSync: this process serves the backend the CLI talks to.
  const added = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const p = spawn(process.execPath, [CLI, '--home', home, 'alerts', 'webhook', 'add', 'pager', url, '--secret-stdin']);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('exit', (status) => done({ status, stdout, stderr }));
    p.stdin.end(`${secret}\n`);
  });
  assert.equal(added.status, 0, added.stderr);
  assert.match(added.stdout, /webhook pager → http:\/\/127\.0\.0\.1:\d+\/hook \(signed\)/);
  const bad = await cli(home, 'alerts', 'webhook', 'add', 'x', 'file:///etc/passwd');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /A webhook URL is http:\/\/ or https:\/\//);
  const list = await cli(home, 'alerts', 'webhook', 'list');
  assert.match(list.stdout, /pager\s+http:\/\/127\.0\.0\.1:\d+\/hook\s+yes\s+30s\/300s\/14400s/);
  assert.doesNotMatch(list.stdout, new RegExp(secret));

  const sent = await cli(home, 'alerts', 'webhook', 'test', 'pager');
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /^delivered: HTTP 200/);
  assert.equal(got.length, 1);
  const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(got[0]!.signature) ?? [];
  assert.equal(mac, createHmac('sha256', secret).update(`${ts}.${got[0]!.body}`).digest('hex'));
  assert.equal((JSON.parse(got[0]!.body) as { alerts: { labels: { alertname: string } }[] }).alerts[0]!.labels.alertname, 'MLOpsTest');
  const deliveries = await cli(home, 'alerts', 'deliveries');
  assert.match(deliveries.stdout, /pager\s+.*1 firing\s+delivered\s+1 \(200\)/);
  assert.match((await cli(home, 'alerts', 'webhook', 'remove', 'pager')).stdout, /removed webhook pager/);
  assert.notEqual((await cli(home, 'alerts', 'webhook', 'remove', 'pager')).code, 0);
});
