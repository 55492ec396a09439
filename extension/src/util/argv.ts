/**
 * Splits an argument line the way a POSIX shell splits words, and does nothing else: no variables, globs, pipes or
 * substitutions (the result is an argv, never run by a shell). Whitespace separates words; '…' keeps everything
 * literally; "…" keeps everything but a backslash before " or \; outside quotes a backslash keeps the next character.
 * Throws on an unterminated quote or a trailing backslash.
 */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error('Unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= line.length) throw new Error('Unterminated double quote');
        const c = line[i]!;
        if (c === '"') break;
        if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
        else word += c;
      }
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new Error('Trailing backslash');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** The line splitArgs reads back as `argv` (for showing a remembered argv as a default). */
export function joinArgs(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
