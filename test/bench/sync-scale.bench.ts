// Sync at scale: a push's throughput and peak memory as the local store grows, by shape RUNS×METRICS×STEPS.
// Target `sink` (default): a minimal local HTTP server that answers the MLflow calls a push makes and discards
// every log-batch unparsed, so the remote is not the bottleneck and the numbers are our side's. Target `mlflow`:
// a real `mlflow server` (1 worker). Each shape gets a fresh store, built streamed (1,000-point batches); each
// push runs in a fresh child process, whose peak RSS (getrusage maxrss) is reported, with its CPU time and the
// time of a second push that has nothing to send.
// Env: SYNC_SCALE_TARGET=sink|mlflow, SYNC_SCALE_SHAPES=100x100x10,100x100x100 (comma-separated).
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addRemote } from '../../backend/src/services/sync/remotes';
import { SyncRepo } from '../../backend/src/services/sync/repository';
import { syncPush } from '../../backend/src/services/sync/service';
import type { Metric } from '../../backend/src/store/types';
import { openHome, tempHome } from '../integration/sync/fixture';
import { startMlflow } from '../integration/sync/mlflow-server';

interface Shape {
  runs: number;
  metrics: number;
  steps: number;
}
interface PushResult {
  points: number;
  push_s: number;
  points_per_s: number;
  writes: number;
  cpu_s: number;
  rss_before_mb: number;
  peak_rss_mb: number;
  noop_push_s: number;
}

const BYTES_PER_POINT = 150;
const mb = (b: number): number => Math.round(b / 1e6);

/** The child: one full push of the store at `home`, then one with nothing to send; prints a JSON line. */
async function child(home: string, url: string): Promise<void> {
  const ctx = openHome(home);
  addRemote(new SyncRepo(ctx.db), { name: 'bench', url });
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const s = await syncPush(ctx, 'bench', {});
  const pushS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  const noop = await syncPush(ctx, 'bench', {});
  if (noop.writes !== 0) throw new Error(`the second push wrote ${noop.writes} times`);
  const res: PushResult = {
    points: s.metricPoints,
    push_s: Number(pushS.toFixed(2)),
    points_per_s: Math.round(s.metricPoints / pushS),
    writes: s.writes,
    cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    rss_before_mb: mb(rssBefore),
    peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024),
    noop_push_s: Number(((performance.now() - t1) / 1000).toFixed(3)),
  };
  ctx.db.close();
  console.log(JSON.stringify(res));
}

/** Answers what a push asks of an MLflow server, remembering only experiment names; log-batch bodies are drained unread. */
async function startSink(): Promise<{ url: string; stats: { requests: number; bytes: number }; close: () => void }> {
  const exps = new Map<string, string>();
  let runs = 0;
  const stats = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    stats.requests++;
    const path = (req.url ?? '').split('?')[0]!;
    const chunks: Buffer[] = [];
    const keep = !path.endsWith('/runs/log-batch');
    req.on('data', (c: Buffer) => {
      stats.bytes += c.length;
      if (keep) chunks.push(c);
    });
    req.on('end', () => {
      const body = keep && chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, string>) : {};
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      let out: unknown = {};
      let status = 200;
      if (path === '/version') out = '3.0.0';
      else if (path.endsWith('/experiments/get-by-name')) {
        const id = exps.get(q.get('experiment_name') ?? '');
        if (id) out = { experiment: { experiment_id: id, name: q.get('experiment_name'), artifact_location: `mlflow-artifacts:/${id}`, lifecycle_stage: 'active' } };
        else [status, out] = [404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'no such experiment' }];
      } else if (path.endsWith('/experiments/create')) {
        const id = String(exps.size + 1);
        exps.set(body.name!, id);
        out = { experiment_id: id };
      } else if (path.endsWith('/runs/create')) {
        const id = `r${++runs}`.padEnd(32, '0');
        out = { run: { info: { run_id: id, experiment_id: body.experiment_id, artifact_uri: `mlflow-artifacts:/${body.experiment_id}/${id}/artifacts` } } };
      }
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stats, close: () => server.close() };
}

/** A fresh store of the given shape, written in 1,000-point batches (memory stays bounded). */
function build(home: string, sh: Shape): void {
  const ctx = openHome(home);
  const t = ctx.tracking;
  const exp = t.experiments.create('scale');
  let batch: Metric[] = [];
  for (let r = 0; r < sh.runs; r++) {
    const id = t.runs.create({ experimentId: exp, runName: `run-${r}`, startTime: 1_767_225_600_000 }).info.run_id;
    t.runs.logBatch(id, [], Array.from({ length: 10 }, (_, i) => ({ key: `p${i}`, value: String(i) })), []);
    for (let k = 0; k < sh.metrics; k++) {
      for (let s = 0; s < sh.steps; s++) {
        batch.push({ key: `metric_${k}`, value: Math.sin(s / 7 + k + r), timestamp: 1_767_225_600_000 + s, step: s });
        if (batch.length === 1000) {
          t.runs.logBatch(id, batch, [], []);
          batch = [];
        }
      }
    }
    if (batch.length) t.runs.logBatch(id, batch, [], []);
    batch = [];
    t.runs.update(id, { status: 'FINISHED', endTime: 1_767_225_700_000 });
  }
  ctx.db.close();
}

const dirBytes = (d: string): number => readdirSync(d, { recursive: true, withFileTypes: true }).reduce((a, e) => a + (e.isFile() ? statSync(join(e.parentPath, e.name)).size : 0), 0);

function pushInChild(home: string, url: string): Promise<PushResult> {
  return new Promise((resolve, reject) => {
    // SYNC_SCALE_CHILD_ARGS: extra node flags for the pushing process (e.g. --cpu-prof to profile a push).
    const extra = (process.env.SYNC_SCALE_CHILD_ARGS ?? '').split(' ').filter(Boolean);
    const p = spawn(process.execPath, [...extra, '--import', 'tsx', import.meta.filename], { env: { ...process.env, SYNC_SCALE_CHILD: JSON.stringify({ home, url }) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!) as PushResult) : reject(new Error(`push child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const target = process.env.SYNC_SCALE_TARGET ?? 'sink';
  const shapes: Shape[] = (process.env.SYNC_SCALE_SHAPES ?? '100x100x10,100x100x100,100x100x1000,10000x100x1').split(',').map((s) => {
    const [runs, metrics, steps] = s.split('x').map(Number);
    if (!runs || !metrics || !steps) throw new Error(`bad shape '${s}': expected RUNSxMETRICSxSTEPS`);
    return { runs, metrics, steps };
  });
  const fs = statfsSync(tmpdir());
  const free = fs.bavail * fs.bsize;
  for (const sh of shapes) {
    const need = sh.runs * sh.metrics * sh.steps * BYTES_PER_POINT;
    if (need > free / 2) throw new Error(`shape ${sh.runs}x${sh.metrics}x${sh.steps} needs about ${mb(need)} MB of store; only ${mb(free)} MB free in ${tmpdir()}`);
  }
  const sink = target === 'sink' ? await startSink() : null;
  const mlflow = target === 'mlflow' ? await startMlflow() : null;
  const url = sink?.url ?? mlflow!.url;
  console.log(`target ${target} (${url}); ${cpus().length} cores, ${cpus()[0]?.model ?? ''}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const sh of shapes) {
      const home = tempHome('scale');
      try {
        const tb = performance.now();
        build(home, sh);
        const buildS = (performance.now() - tb) / 1000;
        const r = await pushInChild(home, url);
        const expected = sh.runs * sh.metrics * sh.steps;
        if (r.points !== expected) throw new Error(`pushed ${r.points} points, expected ${expected}`);
        const row = { shape: `${sh.runs}x${sh.metrics}x${sh.steps}`, store_mb: mb(dirBytes(home)), build_s: Number(buildS.toFixed(1)), ...r, load: Number(loadavg()[0]!.toFixed(1)) };
        rows.push(row);
        console.log(JSON.stringify(row));
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }
  } finally {
    sink?.close();
    await mlflow?.stop();
  }
  console.log(JSON.stringify({ target, machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`, sink_requests: sink?.stats.requests, sink_mb: sink ? mb(sink.stats.bytes) : undefined, rows }, null, 2));
}

const c = process.env.SYNC_SCALE_CHILD;
(c ? child((JSON.parse(c) as { home: string }).home, (JSON.parse(c) as { url: string }).url) : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
