// Small statistics and formatting helpers shared by the tracking benchmarks.
import { cpus, loadavg } from 'node:os';

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

export const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine)`;
}

export function header(title: string): void {
  console.log(`${title}\n${new Date().toISOString()} · ${machine()}`);
}
