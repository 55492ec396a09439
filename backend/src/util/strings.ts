/**
 * `s` without its trailing slashes. A loop, not s.replace(/\/+$/, ''): that regex retries from every slash of a
 * run that does not end the string, quadratic time (1.2 s on 40,000 slashes; a 32 MB body holds millions).
 */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return end === s.length ? s : s.slice(0, end);
}
