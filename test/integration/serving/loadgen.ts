/**
 * A separate load-generating process. Open loop: `rate` requests per second on a fixed schedule (a slow server
 * does not slow the generator down, so latency is measured honestly). Closed loop (`rate` 0): `concurrency`
 * requests always in flight, for maximum throughput. Runs until `seconds` pass or SIGTERM, then prints one JSON
 * summary line on stdout.
 *
 * usage: node --import tsx loadgen.ts '{"url","token","path","rate","seconds","concurrency","bodies":[...]}'
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

interface Options {
  url: string;
  token?: string;
  path: string;
  rate: number;
  seconds: number;
  concurrency?: number;
  /** Request bodies, used in turn. */
  bodies: unknown[];
  /** Skip this many seconds of latencies (warm-up) in the percentiles. */
  warmupSeconds?: number;
  /** When to start (epoch ms; default now). */
  startAt?: number;
  /** Report phases of this many seconds, from the start. */
  phaseSeconds?: number;
  /** Seconds at the start of each phase left out of its percentiles. */
  marginSeconds?: number;
}

interface Phase {
  sent: number;
  ok: number;
  latencies: number[];
}

const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const target = new URL(o.path, o.url);
const agent = new Agent({ keepAlive: true, maxSockets: Math.max(o.concurrency ?? 64, 64) });
const bodies = o.bodies.map((b) => Buffer.from(JSON.stringify(b)));
const latencies: number[] = [];
const status = new Map<string, number>();
const variants = new Map<string, number>();
const timeline: { t: number; variant: string }[] = [];
const errors: string[] = [];
let sent = 0;
let done = 0;
let ok = 0;
let fallback = 0;
let t0 = performance.now();
const warmMs = (o.warmupSeconds ?? 0) * 1000;
const phaseMs = (o.phaseSeconds ?? 0) * 1000;
const marginMs = (o.marginSeconds ?? 0) * 1000;
const phases: Phase[] = [];

function fire(): Promise<void> {
  const body = bodies[sent % bodies.length]!;
  sent++;
  const start = performance.now();
  let phase: Phase | undefined;
  let inPhase = 0;
  if (phaseMs > 0) {
    const i = Math.floor((start - t0) / phaseMs);
    inPhase = start - t0 - i * phaseMs;
    phase = phases[i] ??= { sent: 0, ok: 0, latencies: [] };
    phase.sent++;
  }
  return new Promise((finish) => {
    const req = request(
      target,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const end = performance.now();
          done++;
          const code = String(res.statusCode);
          status.set(code, (status.get(code) ?? 0) + 1);
          if (res.statusCode === 200) ok++;
          const v = String(res.headers['x-mlops-variant'] ?? '');
          variants.set(v, (variants.get(v) ?? 0) + 1);
          if (res.headers['x-mlops-fallback']) fallback++;
          if (done % 50 === 0) timeline.push({ t: Math.round(end - t0), variant: v });
          if (start - t0 >= warmMs) latencies.push(end - start);
          if (phase && res.statusCode === 200) {
            phase.ok++;
            if (inPhase >= marginMs) phase.latencies.push(end - start);
          }
          finish();
        });
      },
    );
    req.on('error', (err) => {
      done++;
      status.set('network', (status.get('network') ?? 0) + 1);
      if (errors.length < 10) errors.push(err.message);
      finish();
    });
    req.end(body);
  });
}

let stopping = false;
async function openLoop(): Promise<void> {
  const interval = 1000 / o.rate;
  let next = performance.now();
  while (!stopping && performance.now() - t0 < o.seconds * 1000) {
    const now = performance.now();
    while (next <= now) {
      void fire();
      next += interval;
    }
    await new Promise((d) => setTimeout(d, Math.max(0, Math.min(5, next - performance.now()))));
  }
}

async function closedLoop(): Promise<void> {
  const worker = async () => {
    while (!stopping && performance.now() - t0 < o.seconds * 1000) await fire();
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 16 }, worker));
}

const cpu0 = process.cpuUsage();
const cpuMs = (): number => {
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1000;
};

const quantile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]! : null);

function summary(): void {
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => quantile(latencies, p);
  // Unanswered requests (still in flight at the end) are failures too.
  const failed = sent - ok;
  process.stdout.write(
    JSON.stringify({
      sent,
      done,
      ok,
      failed,
      fallback,
      seconds: elapsed,
      throughput: done / elapsed,
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      max_ms: latencies.at(-1) ?? null,
      // This process's own CPU per answered request: the client's share of a two-core machine.
      client_cpu_ms_per_req: done ? cpuMs() / done : null,
      status: Object.fromEntries(status),
      variants: Object.fromEntries(variants),
      timeline,
      errors,
      phases: [...phases].map((p = { sent: 0, ok: 0, latencies: [] }) => {
        const l = p.latencies.sort((a, b) => a - b);
        return { sent: p.sent, ok: p.ok, failed: p.sent - p.ok, measured: l.length, p50_ms: quantile(l, 0.5), p99_ms: quantile(l, 0.99), max_ms: l.at(-1) ?? null };
      }),
    }) + '\n',
  );
}

async function main(): Promise<void> {
  const onStop = () => {
    stopping = true;
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  if (o.startAt !== undefined) {
    const wait = o.startAt - Date.now();
    if (wait > 0) await new Promise((d) => setTimeout(d, wait));
    else process.stderr.write(`loadgen: started ${-wait} ms after startAt\n`);
    t0 = o.startAt - performance.timeOrigin;
  }
  process.stderr.write('loadgen: started\n');
  await (o.rate > 0 ? openLoop() : closedLoop());
  // Requests already sent get up to 30 s to finish (a CPU-starved machine queues them); anything unanswered then counts as failed.
  const deadline = performance.now() + 30_000;
  while (done < sent && performance.now() < deadline) await new Promise((d) => setTimeout(d, 10));
  summary();
  agent.destroy();
}

void main();
