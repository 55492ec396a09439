import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { backendLogPath, formatLogLine, localTime, LogTail, MAX_READ_BYTES, readLogTail } from '../../../extension/src/backend/logTail';

function setup(t: { after: (f: () => void) => void }) {
  const home = mkdtempSync(join(tmpdir(), 'mlops-logtail-'));
  mkdirSync(join(home, 'logs'));
  const path = backendLogPath(home);
  const lines: string[] = [];
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return { home, path, lines, take: () => lines.splice(0) };
}

void test('follows appended lines from where it started, holding back a partial line', (t) => {
  const { path, lines, take } = setup(t);
  writeFileSync(path, 'old error\n');
  const tail = new LogTail(path, (l) => lines.push(l));
  t.after(() => tail.dispose());
  assert.equal(tail.tick(), 0, 'what the file held before is not replayed');
  appendFileSync(path, 'first\nsecond half');
  assert.equal(tail.tick(), 1);
  assert.deepEqual(take(), ['first']);
  appendFileSync(path, ' done\n');
  tail.tick();
  assert.deepEqual(take(), ['second half done']);
});

void test('a rotation drains the old file, then reads the new one from its start; a truncated file is read again', (t) => {
  const { path, lines, take } = setup(t);
  writeFileSync(path, '');
  const tail = new LogTail(path, (l) => lines.push(l));
  t.after(() => tail.dispose());
  tail.tick();
  appendFileSync(path, 'a\n');
  tail.tick();
  appendFileSync(path, 'b, written just before the rotation\n');
  renameSync(path, `${path}.1`);
  writeFileSync(path, 'c, in the new file\n');
  tail.tick();
  assert.deepEqual(take(), ['a', 'b, written just before the rotation', 'c, in the new file']);
  truncateSync(path, 0);
  appendFileSync(path, 'd\n');
  tail.tick();
  assert.deepEqual(take(), ['d']);
});

void test('a log that does not exist yet is read whole once it appears', (t) => {
  const { path, lines, take } = setup(t);
  const tail = new LogTail(path, (l) => lines.push(l));
  t.after(() => tail.dispose());
  assert.equal(tail.tick(), 0);
  writeFileSync(path, 'the backend failed at start\n');
  tail.tick();
  assert.deepEqual(take(), ['the backend failed at start']);
});

void test('a burst over the per-tick bound is skipped with a note, resuming at a line start', (t) => {
  const { path, lines, take } = setup(t);
  writeFileSync(path, '');
  const tail = new LogTail(path, (l) => lines.push(l));
  t.after(() => tail.dispose());
  tail.tick();
  const line = `${'x'.repeat(99)}\n`;
  appendFileSync(path, line.repeat(Math.ceil((MAX_READ_BYTES * 2) / line.length)));
  appendFileSync(path, 'last\n');
  tail.tick();
  const got = take();
  assert.match(got[0]!, /^… \d+ bytes of .*backend\.log skipped/);
  assert.ok(got.slice(1).every((l) => l === 'x'.repeat(99) || l === 'last'), 'no cut line');
  assert.equal(got[got.length - 1], 'last');
  assert.ok(got.length - 2 <= MAX_READ_BYTES / line.length);
});

void test('pino JSON lines read as time, level, request, message, error and stack; other lines stay as they are', () => {
  const time = Date.UTC(2026, 11, 5, 8, 0, 0);
  const line = JSON.stringify({ level: 50, time, pid: 1, req: { method: 'POST', url: '/endpoints/x/invocations' }, msg: 'request failed', err: { type: 'Error', message: 'session closed', stack: 'Error: session closed\n    at run (serving.ts:1:1)' } });
  assert.equal(formatLogLine(line), `${localTime(time)} ERROR POST /endpoints/x/invocations request failed (Error: session closed)\n    at run (serving.ts:1:1)`);
  assert.equal(formatLogLine('mlops serve: plain text'), 'mlops serve: plain text');
  assert.equal(formatLogLine('{not json'), '{not json');
});

void test('readLogTail returns the end of a big file from a line start, or undefined when there is none', (t) => {
  const { path } = setup(t);
  assert.equal(readLogTail(path), undefined);
  writeFileSync(path, `${'a'.repeat(50)}\n`.repeat(100));
  const r = readLogTail(path, 1000)!;
  assert.ok(r.skipped > 0);
  assert.ok(r.text.split('\n').filter(Boolean).every((l) => l === 'a'.repeat(50)));
});
