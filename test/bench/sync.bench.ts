// Push throughput against a real `mlflow server`, the cost of a push with nothing to send against re-sending
// everything, peak memory, and what the sync change-counter triggers cost local metric writes.
// Size: SYNC_BENCH_RUNS (10) × SYNC_BENCH_METRICS (100) × SYNC_BENCH_STEPS (1000) metric points.
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { coreMigrations } from '../../backend/src/store/migrations';
import { syncMigrations } from '../../backend/src/store/sync-migrations';
import { addRemote } from '../../backend/src/services/sync/remotes';
import { SyncRepo } from '../../backend/src/services/sync/repository';
import { syncPush } from '../../backend/src/services/sync/service';
import type { Metric } from '../../backend/src/store/types';
import { startMlflow } from '../integration/sync/mlflow-server';
import { openHome, tempHome } from '../integration/sync/fixture';

const RUNS = Number(process.env.SYNC_BENCH_RUNS ?? 10);
const METRICS = Number(process.env.SYNC_BENCH_METRICS ?? 100);
const STEPS = Number(process.env.SYNC_BENCH_STEPS ?? 1000);

function triggerCost(): { without: number; with: number } {
  const rate = (sync: boolean): number => {
    const db = new Database(':memory:');
    for (const m of coreMigrations) db.exec(m.sql);
    if (sync) for (const m of syncMigrations) db.exec(m.sql);
    db.exec("INSERT INTO experiments VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0)");
    db.exec("INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, artifact_uri) VALUES ('r', 0, 'n', 'RUNNING', 0, 'a')");
    const ins = db.prepare('INSERT OR IGNORE INTO metrics (run_uuid, key, step, timestamp, value) VALUES (?, ?, ?, ?, ?)');
    const n = 300_000;
    const t0 = performance.now();
    for (let b = 0; b < n; b += 1000) {
      db.transaction(() => {
        for (let i = b; i < b + 1000; i++) ins.run('r', `k${i % 100}`, i, i, i * 0.5);
      })();
    }
    db.close();
    return n / ((performance.now() - t0) / 1000);
  };
  rate(false);
  const w: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < 3; i++) {
    w.push(rate(false));
    s.push(rate(true));
  }
  const med = (a: number[]): number => a.sort((x, y) => x - y)[1]!;
  return { without: med(w), with: med(s) };
}

async function main(): Promise<void> {
  const home = tempHome('bench');
  const ctx = openHome(home);
  const t = ctx.tracking;
  const tb = performance.now();
  const exp = t.experiments.create('bench');
  for (let r = 0; r < RUNS; r++) {
    const id = t.runs.create({ experimentId: exp, runName: `run-${r}`, startTime: 1_767_225_600_000 }).info.run_id;
    t.runs.logBatch(id, [], Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: String(i) })), []);
    let batch: Metric[] = [];
    for (let k = 0; k < METRICS; k++) {
      for (let s = 0; s < STEPS; s++) {
        batch.push({ key: `metric_${k}`, value: Math.sin(s / 7 + k), timestamp: 1_767_225_600_000 + s, step: s });
        if (batch.length === 1000) {
          t.runs.logBatch(id, batch, [], []);
          batch = [];
        }
      }
    }
    if (batch.length) t.runs.logBatch(id, batch, [], []);
    t.runs.update(id, { status: 'FINISHED', endTime: 1_767_225_700_000 });
  }
  const points = RUNS * METRICS * STEPS;
  console.log(`store: ${RUNS} runs × ${METRICS} metrics × ${STEPS} steps = ${points} points, built in ${((performance.now() - tb) / 1000).toFixed(1)} s`);
  const server = await startMlflow();
  const bail = (): void => {
    void server.stop().then(() => process.exit(130));
  };
  process.once('SIGTERM', bail);
  process.once('SIGINT', bail);
  try {
    addRemote(new SyncRepo(ctx.db), { name: 'bench', url: server.url });
    let peak = 0;
    const rss0 = process.memoryUsage().rss;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const full = await syncPush(ctx, 'bench', {});
    const fullS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(timer);
    if (full.metricPoints !== points) throw new Error(`pushed ${full.metricPoints} points, expected ${points}`);
    console.log(`full push: ${fullS.toFixed(1)} s, ${Math.round(points / fullS)} points/s, client CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, peak RSS ${Math.round(peak / 1e6)} MB`);
    const t1 = performance.now();
    const noop = await syncPush(ctx, 'bench', {});
    const noopS = (performance.now() - t1) / 1000;
    if (noop.writes !== 0) throw new Error(`the second push wrote ${noop.writes} times`);
    console.log(`no-op push: ${noopS.toFixed(3)} s (${(fullS / noopS).toFixed(0)}× faster than the full push)`);
    // Forget what was sent: the next push re-sends every run in full (the remote de-duplicates the points).
    ctx.db.exec("DELETE FROM sync_run_state WHERE remote = 'bench'; DELETE FROM sync_metric_state WHERE remote = 'bench'");
    const t2 = performance.now();
    const resend = await syncPush(ctx, 'bench', {});
    const resendS = (performance.now() - t2) / 1000;
    const trig = triggerCost();
    console.log(
      JSON.stringify(
        {
          machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`,
          points,
          full_push_s: Number(fullS.toFixed(2)),
          push_points_per_s: Math.round(points / fullS),
          requests_written: full.writes,
          peak_rss_mb: Math.round(peak / 1e6),
          rss_growth_mb: Math.round((peak - rss0) / 1e6),
          noop_push_s: Number(noopS.toFixed(3)),
          resend_everything_s: Number(resendS.toFixed(2)),
          resend_points: resend.metricPoints,
          client_cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
          noop_vs_full_push: `${(fullS / noopS).toFixed(0)}× faster`,
          noop_vs_resend: `${(resendS / noopS).toFixed(0)}× faster`,
          local_metric_inserts_per_s_without_sync_triggers: Math.round(trig.without),
          local_metric_inserts_per_s_with_sync_triggers: Math.round(trig.with),
        },
        null,
        2,
      ),
    );
  } finally {
    await server.stop();
    ctx.db.close();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
