import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileLike, likeMatches } from '../../../backend/src/store/search/like';

/** The textbook definition as a regular expression: fine as an oracle on short strings, exponential on long ones. */
function likeRegex(pattern: string, ci: boolean): RegExp {
  let re = '^';
  for (const ch of pattern) re += ch === '%' ? '[\\s\\S]*' : ch === '_' ? '[\\s\\S]' : ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(re + '$', ci ? 'i' : '');
}

void test('LIKE matcher agrees with the regular-expression definition (% and _, case-sensitive and not)', () => {
  // A small alphabet makes matches and near misses common.
  const str = (max: number) => fc.string({ unit: fc.constantFrom('a', 'b', 'A', '%', '_', '.', '\n'), maxLength: max });
  fc.assert(
    fc.property(str(8), str(14), fc.boolean(), (pattern, value, ci) => {
      assert.equal(likeMatches(compileLike(pattern, ci), value), likeRegex(pattern, ci).test(value), `${JSON.stringify(pattern)} ~ ${JSON.stringify(value)} ci=${ci}`);
    }),
    { numRuns: 20_000, seed: 42 },
  );
  for (const [p, v, want] of [
    ['', '', true],
    ['', 'a', false],
    ['%', '', true],
    ['a_c', 'abc', true],
    ['a_c', 'ac', false],
    ['%b_b%', 'abxbab', true],
    ['%b_b', 'abxbaa', false],
    ['_%_', 'a', false],
    ['%ab%ab', 'abab', true],
    ['%ab%ab', 'aba', false],
  ] as const) {
    assert.equal(likeMatches(compileLike(p, false), v), want, `${p} ~ ${v}`);
  }
});

void test('LIKE matcher does not backtrack: many wildcards over long values take linear time', () => {
  const value = 'a'.repeat(100_000);
  const t0 = performance.now();
  for (const p of ['%a%a%a%a%b', '%a_a_a_a%b', '_%_%_%_%_%b', '%aaaa%aaab%']) assert.equal(likeMatches(compileLike(p, false), value), false, p);
  assert.equal(likeMatches(compileLike('%A%A%A%A%', true), value), true);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `5 patterns over 100,000 characters took ${ms.toFixed(0)} ms`);
});
