import { mulberry32 } from '../../backend/src/util/random';

// Shared by the statistics benchmarks: a seeded generator (so every run sees the same data) and table printing.
export function rng(seed: number): { uniform: () => number; normal: () => number } {
  // mulberry32's value moved half a step up, so it is never 0 (Box–Muller takes its log); same sequence as before.
  const next = mulberry32(seed);
  const uniform = () => next() + 2 ** -33;
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  return { uniform, normal };
}

export function markdownTable(header: string[], rows: (string | number)[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
