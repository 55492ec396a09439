/**
 * SQL LIKE (% any run, _ one character) without backtracking. A pattern splits at % into pieces; the first piece
 * must match at the start, the last at the end, and each one between at its leftmost place after the one before
 * (taking the leftmost place never loses a match, since any later place leaves less room for the rest). So the
 * work is one scan per piece over the value, never the exponential search a regular expression such as
 * /^.*a.*a.*a.*b$/ does on a value with no match. Characters are UTF-16 code units, as JavaScript compares them.
 */
export interface LikePattern {
  /** Pieces between the % signs; '_' in a piece matches any one character. */
  readonly pieces: readonly string[];
  readonly ci: boolean;
}

export function compileLike(pattern: string, ci: boolean): LikePattern {
  return { pieces: (ci ? pattern.toLowerCase() : pattern).split('%'), ci };
}

/** Whether `piece` (with _ wildcards) matches `value` at `at`. */
function matchesAt(value: string, piece: string, at: number): boolean {
  if (at + piece.length > value.length) return false;
  for (let k = 0; k < piece.length; k++) {
    const p = piece.charCodeAt(k);
    if (p !== 95 /* _ */ && p !== value.charCodeAt(at + k)) return false;
  }
  return true;
}

/** The leftmost place at or after `from` where `piece` matches, or -1. */
function find(value: string, piece: string, from: number): number {
  if (!piece.includes('_')) return value.indexOf(piece, from);
  // Anchor on the longest literal run, found with indexOf, and check the rest around it.
  let best = '';
  let bestAt = 0;
  let off = 0;
  for (const run of piece.split('_')) {
    if (run.length > best.length) {
      best = run;
      bestAt = off;
    }
    off += run.length + 1;
  }
  if (!best) return from + piece.length <= value.length ? from : -1;
  for (let at = value.indexOf(best, from + bestAt); at !== -1; at = value.indexOf(best, at + 1)) {
    if (matchesAt(value, piece, at - bestAt)) return at - bestAt;
  }
  return -1;
}

export function likeMatches(p: LikePattern, raw: string): boolean {
  const value = p.ci ? raw.toLowerCase() : raw;
  const { pieces } = p;
  if (pieces.length === 1) return value.length === pieces[0]!.length && matchesAt(value, pieces[0]!, 0);
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (first.length + last.length > value.length) return false;
  if (!matchesAt(value, first, 0) || !matchesAt(value, last, value.length - last.length)) return false;
  let pos = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (!piece) continue;
    const at = find(value, piece, pos);
    if (at === -1 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}
