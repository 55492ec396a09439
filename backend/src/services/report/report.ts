import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, ReportView } from '../../api/v1/contract-report';
import type { Db } from '../../store/db';
import type { Clock } from '../../util/clock';
import { ReportRepo } from './repository';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MONTH_DAYS = 30;
const UNIT_MS = { h: HOUR, d: DAY, w: 7 * DAY } as const;
/** Where the monitors detection benchmark writes its results (test/bench/monitors-detect.bench.ts). */
export const DETECTION_BENCH_FILE = join('test', 'bench', 'results', 'monitors-detect.json');

/** 30d → ms (the contract's pattern has checked the form). */
export function parseSince(s: string): number {
  return Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as keyof typeof UNIT_MS];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const minutes = (ms: number) => Math.round((ms / 60_000) * 10) / 10;
export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const noData = (why: string) => `no data (${why})`;

/** The detection benchmark's summary as it writes it; anything else is reported as unreadable. */
interface BenchSummary {
  recorded_at: string;
  seeds: number;
  shift_runs: number;
  detected: number;
  median_minutes: number | null;
  false_incidents: number;
  monitor_days: number;
}

function readBench(file: string | null): { bench: BenchSummary | null; why: string } {
  if (!file || !existsSync(file)) return { bench: null, why: `the monitors detection benchmark has not written ${DETECTION_BENCH_FILE} (npm run bench -- monitors-detect), or MLOPS_DETECTION_BENCH names no file` };
  try {
    if (statSync(file).size > 1_048_576) throw new Error('over 1 MiB');
    const b = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchSummary>;
    const nums = [b.seeds, b.shift_runs, b.detected, b.false_incidents, b.monitor_days];
    if (typeof b.recorded_at !== 'string' || !nums.every((n) => typeof n === 'number' && Number.isFinite(n))) throw new Error('not a monitors-detect summary');
    return { bench: b as BenchSummary, why: '' };
  } catch (err) {
    return { bench: null, why: `${file} is unreadable: ${(err as Error).message}` };
  }
}

/** The benchmark's results file: MLOPS_DETECTION_BENCH, else test/bench/results/ of the checkout this module runs from. */
export function defaultBenchFile(): string | null {
  if (process.env.MLOPS_DETECTION_BENCH) return process.env.MLOPS_DETECTION_BENCH;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'test', 'bench'))) return join(dir, DETECTION_BENCH_FILE);
    dir = dirname(dir);
  }
  return null;
}

/**
 * Success metrics measured live (issue 13): computed from the store on every request over [now - since, now), each
 * with the line that says how, null ("no data") when there is nothing to compute it from, never a made-up 0 %.
 */
export class ReportService {
  private readonly repo: ReportRepo;

  constructor(
    db: Db,
    private readonly clock: Clock,
    private readonly benchFile: string | null,
  ) {
    this.repo = new ReportRepo(db);
  }

  report(sinceMs: number): ReportView {
    const to = this.clock.now();
    const from = to - sinceMs;
    const days = sinceMs / DAY;
    const byMonth = this.repo.deploymentsByMonth(from, to);
    const retrains = this.repo.retrainsByTrigger(from, to);
    const experiments = this.repo.experiments(from, to);
    const fixes = this.repo.fixes(from, to).flatMap((f) => (f.opened_at === null ? [] : [{ ...f, opened_at: f.opened_at }]));
    const rollbacks = this.repo.rollbacks(from, to).map((r) => ({ endpoint: r.object_id, at: r.ts, actor: r.actor, reason: r.reason ?? '', live_ms: r.deployed_at === null ? null : r.ts - r.deployed_at }));
    const figures: Figure[] = [
      this.deployments(byMonth, days),
      ...this.tracking(from, to),
      experimentsFigure(experiments),
      retrainsFigure(retrains),
      fixFigure(fixes),
      rollbackFigure(rollbacks),
      this.detection(),
    ];
    return { from, to, days, figures, deployments_by_month: byMonth, retrains_by_trigger: retrains, experiments, fixes, rollbacks };
  }

  private deployments(byMonth: readonly { deployments: number }[], days: number): Figure {
    const n = byMonth.reduce((a, m) => a + m.deployments, 0);
    const value = n ? n / (days / MONTH_DAYS) : null;
    return {
      id: 'deployments_per_month',
      title: 'Deployments per month',
      value,
      unit: 'per_month',
      text: value === null ? noData('no deployment in the window') : `${value.toFixed(1)} a month (${n} in ${round1(days)} days)`,
      how: `endpoint.deploy events in the audit log (any strategy: replace, canary, shadow, A/B; by people or by retraining) in the window, divided by its length in ${MONTH_DAYS}-day months`,
    };
  }

  private tracking(from: number, to: number): Figure[] {
    const runs = this.repo.runs(from, to);
    const jobs = this.repo.jobs(from, to);
    return [
      {
        id: 'runs_tracked',
        title: 'Runs tracked',
        value: runs.total ? runs.tracked / runs.total : null,
        unit: 'share',
        text: runs.total ? `${pct(runs.tracked / runs.total)} (${runs.tracked} of ${runs.total} runs)` : noData('no run started in the window'),
        how: 'runs started in the window (not deleted) that recorded their code version (tag mlflow.source.git.commit) and at least one param, over all runs started in the window',
      },
      {
        id: 'jobs_with_run',
        title: 'Jobs that produced a run',
        value: jobs.finished ? jobs.with_run / jobs.finished : null,
        unit: 'share',
        text: jobs.finished ? `${pct(jobs.with_run / jobs.finished)} (${jobs.with_run} of ${jobs.finished} finished jobs)` : noData('no job finished in the window'),
        how: 'training jobs (local, Docker, Ray) that finished in the window and are linked to the MLflow run they logged, over all jobs that finished in it',
      },
    ];
  }

  private detection(): Figure {
    const { bench, why } = readBench(this.benchFile);
    const how = `from the monitors detection benchmark (test/bench/monitors-detect.bench.ts, simulated traffic on a virtual clock), not from this store: shifted runs in which the monitor under test opened an incident within 12 h of the onset, over all shifted runs, as recorded in ${DETECTION_BENCH_FILE}`;
    if (!bench) return { id: 'drift_detection', title: 'Drift detection rate (benchmark)', value: null, unit: 'share', text: noData(why), how };
    const value = bench.shift_runs ? bench.detected / bench.shift_runs : null;
    const med = bench.median_minutes === null ? '' : `, median ${bench.median_minutes} min after the onset`;
    return {
      id: 'drift_detection',
      title: 'Drift detection rate (benchmark)',
      value,
      unit: 'share',
      text: value === null ? noData('the benchmark ran no shifted scenario') : `${pct(value)} (${bench.detected} of ${bench.shift_runs} shifted runs${med}; ${bench.false_incidents} false incident(s) in ${bench.monitor_days} monitor-days; ${bench.seeds} seed(s), recorded ${bench.recorded_at})`,
      how,
    };
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function experimentsFigure(e: ReportView['experiments']): Figure {
  const how = 'online A/B experiments that ended in the window: those that reached a verdict (promote or reject) over those plus the ones that hit their deadline inconclusive; stopped ones (a guardrail or a hand-made change ended them) and running ones are listed, not counted';
  const decided = e ? e.promoted + e.rejected : 0;
  const all = e ? decided + e.inconclusive : 0;
  const rest = e ? `; ${e.stopped} stopped, ${e.running} running` : '';
  return {
    id: 'ab_concluded',
    title: 'A/B tests concluded',
    value: all ? decided / all : null,
    unit: 'share',
    text: !e ? noData('this store has no A/B experiment records') : all ? `${pct(decided / all)} (${decided} concluded: ${e.promoted} promoted, ${e.rejected} rejected; ${e.inconclusive} inconclusive${rest})` : noData(`no A/B experiment ended in the window${rest}`),
    how,
  };
}

function retrainsFigure(r: ReportView['retrains_by_trigger']): Figure {
  const all = r.manual + r.schedule + r.drift + r.performance;
  const auto = all - r.manual;
  return {
    id: 'retrains_automated',
    title: 'Retrains started by automated triggers',
    value: all ? auto / all : null,
    unit: 'share',
    text: all ? `${pct(auto / all)} (${auto} of ${all}: ${r.schedule} schedule, ${r.drift} drift, ${r.performance} performance, ${r.manual} manual)` : noData('no retrain started in the window'),
    how: 'retrains in the ledger started in the window whose trigger is a schedule, a drift incident or a performance incident, over all retrains started in it (manual ones included)',
  };
}

function fixFigure(fixes: ReportView['fixes']): Figure {
  const toIncident = fixes.flatMap((f) => (f.onset_at === null ? [] : [f.opened_at - f.onset_at]));
  const toFix = fixes.map((f) => f.fixed_at - f.opened_at);
  const m1 = median(toIncident);
  const m2 = median(toFix);
  return {
    id: 'drift_to_fix',
    title: 'Drift onset → incident → fix deployed',
    value: m2 === null ? null : minutes(m2 + (m1 ?? 0)),
    unit: 'minutes',
    text:
      m2 === null
        ? noData('no retrain started for an incident reached deployed in the window')
        : `median ${m1 === null ? 'unknown' : `${minutes(m1)} min`} from onset to incident, ${minutes(m2)} min from incident to fix (${fixes.length} fix(es))`,
    how: "per retrain started for an incident (automatically or with Retrain now) that reached deployed in the window: onset = the start of the data window of the check that opened the incident, incident = its opening, fix = the retrain's deployed transition; the headline is the sum of the two medians",
  };
}

function rollbackFigure(rs: ReportView['rollbacks']): Figure {
  const live = median(rs.flatMap((r) => (r.live_ms === null ? [] : [r.live_ms])));
  return {
    id: 'rollbacks',
    title: 'Rollbacks',
    value: rs.length ? rs.length : null,
    unit: 'count',
    text: rs.length ? `${rs.length} rollback(s) (${rs.filter((r) => r.actor === 'guardrail').length} by a guardrail); the version rolled back served a median ${live === null ? 'unknown' : `${minutes(live)} min`} before it` : noData('no rollback in the window'),
    how: 'endpoint.rollback events in the audit log in the window (by people, guardrails or A/B verdicts); each one\'s duration is the time from the endpoint\'s previous endpoint.deploy to the rollback, i.e. how long the version rolled back from served',
  };
}
