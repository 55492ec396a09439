/**
 * Concept drift as a stream: each live version's detector (ADWIN, or Page–Hinkley) keeps its state between checks
 * (in the monitor's stored state), and each check feeds it only the requests labelled since the previous one, one
 * 0/1 per labelled row. So the detector compares the recent error rate with everything it has seen since the last
 * change, not with what a sliding window still holds: a change is found once enough rows after it are in (for a
 * 5-point rise from 5 %, about a thousand), and never lost because the rows before it left a window.
 *
 * A change for the worse fails the check; the error rate before it is kept as the reference, and later checks keep
 * failing while the stream stays above it by more than ADWIN's bound (the drift persists: the incident stays open),
 * and pass once it is back (then the incident resolves after its clean checks). Pure: runs in the checks worker.
 */
import type { MonitorConfig } from '../../api/v1/contract-monitors';
import { labelMatch } from '../serving/labels';
import { Adwin, PageHinkley, type AdwinState, type PageHinkleyState, type WindowPart } from '../stats';
import type { CheckPart, LogRow } from './compute';

/** A version's detector between checks (JSON in the monitor's state). */
export interface ConceptStream {
  detector: MonitorConfig['detector'];
  delta: number;
  adwin?: AdwinState;
  ph?: PageHinkleyState;
  /** Labelled requests and rows fed since the stream started. */
  requests: number;
  rows: number;
  /** The error rate before the last change for the worse, kept while the stream stays above it. */
  reference: WindowPart | null;
  /** While there is a reference: the rows since the change (or since a later change), compared with it. */
  since?: WindowPart | null;
  /** The last labelled request fed, in label order. */
  cursor: { label_ts: number; id: number };
}

export interface ConceptDriftJob {
  variant: string;
  config: MonitorConfig;
  /** Requests labelled since the stream's cursor (or, for a new stream, the newest window), in label order. */
  rows: LogRow[];
  /** The detector after the previous check; null starts a new stream. */
  stream: ConceptStream | null;
  /** More labelled requests wait than one check reads: the next check goes on from here. */
  more: boolean;
}

/** Page–Hinkley's alarm threshold over the 0/1 error stream (only rises alarm). */
const PH_THRESHOLD = 20;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const meanOf = (p: WindowPart) => (p.n ? p.total / p.n : 0);

/**
 * Whether `cur`'s error rate is above `ref`'s by more than ADWIN's ε_cut for those two sizes (0/1 variance of the
 * pooled rate, δ' = δ/n): the bound the detector cuts at, used to tell whether a change persists.
 */
export function stillAbove(ref: WindowPart, cur: WindowPart, delta: number): boolean {
  if (ref.n === 0 || cur.n === 0) return false;
  const n = ref.n + cur.n;
  const p = (ref.total + cur.total) / n;
  const ln = Math.log((2 * n) / delta);
  const inv = 1 / ref.n + 1 / cur.n;
  const eps = Math.sqrt(2 * inv * p * (1 - p) * ln) + (2 / 3) * inv * ln;
  return meanOf(cur) - meanOf(ref) > eps;
}

/** One 0/1 per labelled row (a request of 20 rows adds 20; its wrong rows spread evenly among them). */
function errorStream(rows: readonly LogRow[]): { errors: number[]; requests: number } {
  const errors: number[] = [];
  let requests = 0;
  for (const r of rows) {
    const m = labelMatch(JSON.parse(r.prediction) as unknown, JSON.parse(r.label!) as unknown);
    if (!m) continue;
    requests++;
    const wrong = m.total - m.right;
    for (let i = 0; i < m.total; i++) errors.push(Math.floor(((i + 1) * wrong) / m.total) - Math.floor((i * wrong) / m.total));
  }
  return { errors, requests };
}

export function conceptDrift({ variant, config, rows, stream, more }: ConceptDriftJob): CheckPart & { state: ConceptStream } {
  const s: ConceptStream = stream
    ? { ...stream }
    : { detector: config.detector, delta: config.delta, requests: 0, rows: 0, reference: null, cursor: { label_ts: 0, id: 0 } };
  const { errors, requests } = errorStream(rows);
  const last = rows[rows.length - 1];
  if (last) s.cursor = { label_ts: last.label_ts ?? 0, id: last.id };
  const start = s.rows;
  // A change for the worse sets the reference: the error rate before it (the older part of the split the detector
  // found), kept until the stream is back. `since` counts the rows after the split; a later change (a further rise,
  // or a fall back) starts it again at that split.
  const detections: number[] = [];
  let worse = false;
  const split = (before: WindowPart, after: WindowPart, rise = meanOf(after) > meanOf(before)) => {
    if (rise) worse = true;
    if (rise || s.reference) {
      s.reference ??= before;
      s.since = { ...after };
    }
  };
  const feed = (e: number) => {
    if (s.reference && s.since) {
      s.since.n++;
      s.since.total += e;
    }
  };
  let window: number;
  if (config.detector === 'page_hinkley') {
    const ph = new PageHinkley({ direction: 'up', threshold: PH_THRESHOLD }, s.ph);
    errors.forEach((e, i) => {
      feed(e);
      if (!ph.update(e) || !ph.lastRun) return;
      detections.push(start + i);
      // Set to alarm on rises only, it restarts at the alarm: its run until then is the "before".
      split({ n: ph.lastRun.n, total: ph.lastRun.mean * ph.lastRun.n }, { n: 0, total: 0 }, true);
    });
    s.ph = ph.state();
    window = ph.current.n;
  } else {
    const adwin = new Adwin({ delta: config.delta }, s.adwin);
    errors.forEach((e, i) => {
      feed(e);
      if (!adwin.update(e) || !adwin.lastCut) return;
      detections.push(start + i);
      split(adwin.lastCut.before, adwin.lastCut.after);
    });
    s.adwin = adwin.state();
    window = adwin.width;
  }
  s.rows += errors.length;
  s.requests += requests;

  const base = { variant, rows: errors.length, from: rows.length ? rows[0]!.ts : null, to: last ? last.ts : null, state: s };
  const waiting = more ? ' (more labelled requests wait: the next check goes on)' : '';
  const ref = s.reference;
  const since = s.since ?? { n: 0, total: 0 };
  const details = {
    detector: config.detector,
    detections,
    stream_rows: s.rows,
    stream_requests: s.requests,
    window_rows: window,
    reference: ref ? { rows: ref.n, error_rate: meanOf(ref) } : null,
    since_change: ref ? { rows: since.n, error_rate: meanOf(since) } : null,
    more,
  };
  if (s.requests < config.min_rows) {
    return { ...base, status: 'insufficient_data', summary: `insufficient data: ${s.requests} labelled requests, a check needs at least ${config.min_rows}`, score: null, features: [], details };
  }
  if (ref) {
    const before = meanOf(ref);
    const after = meanOf(since);
    const fail = { ...base, status: 'fail' as const, score: after - before, features: ['error_rate'], details: { ...details, error_before: before, error_after: after } };
    if (worse) return { ...fail, summary: `concept drift (${config.detector}): the error rate rose from ${pct(before)} to ${pct(after)} from labelled row ${s.rows - since.n + 1} of ${s.rows}${waiting}` };
    // Too few rows since the change to tell (Page–Hinkley restarts at its alarm): the drift is taken to persist.
    if (since.n < config.min_rows || stillAbove(ref, since, config.delta)) {
      return { ...fail, summary: `concept drift persists (${config.detector}): error rate ${pct(after)} over the ${since.n} labelled rows since the change, ${pct(before)} before it${waiting}` };
    }
    s.reference = null;
    s.since = null;
    return { ...base, status: 'pass', summary: `no concept drift: the error rate is back to ${pct(after)} (${pct(before)} before the change)${waiting}`, score: 0, features: [], details };
  }
  const rate = s.adwin ? s.adwin.total / Math.max(1, s.adwin.n) : (s.ph?.mean ?? 0);
  return { ...base, status: 'pass', summary: `no concept drift over ${s.rows} labelled rows of ${s.requests} requests (error rate ${pct(rate)} over the detector's window of ${window})${waiting}`, score: 0, features: [], details };
}
