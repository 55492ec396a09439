/** One routable variant and its share of traffic in percent (the shares of an endpoint sum to 100). */
export interface Arm {
  readonly id: string;
  readonly weight: number;
}

/**
 * Picks an arm. A request key hashes to a fixed point in [0, 100), so a user stays in one arm while the weights
 * hold; arms are laid out candidate-first, so growing a canary only moves users from stable to candidate,
 * never back. Without a key the point is random.
 */
export function pickArm<T extends Arm>(arms: readonly T[], key: string | null, random: () => number = Math.random): T {
  const point = key === null ? random() * 100 : keyPoint(key);
  let acc = 0;
  for (const arm of arms) {
    acc += arm.weight;
    if (point < acc) return arm;
  }
  // Rounding at the top end: the last arm with weight.
  for (let i = arms.length - 1; i >= 0; i--) if (arms[i]!.weight > 0) return arms[i]!;
  return arms[0]!;
}

/** FNV-1a (32 bit) of the key, scaled to [0, 100). */
export function keyPoint(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) / 0x1_0000_0000) * 100;
}

/** Checks a full set of weights: known ids, integers or decimals in [0, 100], summing to 100. */
export function checkWeights(weights: Readonly<Record<string, number>>, known: readonly string[]): string | null {
  const ids = Object.keys(weights);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) return `Unknown variant(s) ${unknown.join(', ')}; the endpoint serves ${known.join(', ')}`;
  for (const id of ids) {
    const w = weights[id]!;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 100) return `Weight of ${id} must be a number from 0 to 100; got ${String(w)}`;
  }
  const sum = ids.reduce((a, id) => a + weights[id]!, 0);
  if (Math.abs(sum - 100) > 1e-9) return `Weights must sum to 100; got ${Number(sum.toFixed(6))}`;
  return null;
}
