import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CATEGORY, ITEM_COMMANDS, PALETTE_COMMANDS, VIEW_CONTAINER, VIEW_NAMES, VIEW_TITLES, viewId } from '../../../extension/src/ids';

interface Manifest {
  contributes: {
    commands: { command: string; title: string; category: string }[];
    views: Record<string, { id: string; name: string }[]>;
    viewsContainers: { activitybar: { id: string }[] };
    menus: Record<string, { command: string; when?: string }[]>;
  };
  activationEvents: string[];
}
const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as Manifest;

void test('every command id and title in ids.ts is contributed in package.json, and nothing else', () => {
  const inCode = new Map<string, string>([...Object.entries(PALETTE_COMMANDS), ...Object.entries(ITEM_COMMANDS)]);
  const inManifest = new Map(pkg.contributes.commands.map((c) => [c.command, c.title]));
  assert.deepEqual([...inManifest.entries()].sort(), [...inCode.entries()].sort());
  for (const c of pkg.contributes.commands) assert.equal(c.category, CATEGORY, `${c.command} category`);
  for (const id of inCode.keys()) assert.match(id, /^mlops\.([a-z][A-Za-z]+|views\.[a-z]+\.[a-z][A-Za-z]+)$/);
});

void test('view ids and the container match package.json', () => {
  assert.deepEqual(pkg.contributes.viewsContainers.activitybar.map((c) => c.id), [VIEW_CONTAINER]);
  assert.deepEqual(pkg.contributes.views[VIEW_CONTAINER], VIEW_NAMES.map((n) => ({ id: viewId(n), name: VIEW_TITLES[n] })));
});

void test('menus only name contributed commands; item-only commands are hidden from the palette', () => {
  const ids = new Set(pkg.contributes.commands.map((c) => c.command));
  for (const [menu, entries] of Object.entries(pkg.contributes.menus)) for (const e of entries) assert.ok(ids.has(e.command), `${menu} names ${e.command}`);
  const hidden = new Set(pkg.contributes.menus.commandPalette!.filter((e) => e.when === 'false').map((e) => e.command));
  assert.deepEqual([...hidden].sort(), Object.keys(ITEM_COMMANDS).sort());
  assert.ok(!pkg.activationEvents.some((e) => e.startsWith('onCommand:') || e.startsWith('onView:')), 'VS Code ≥1.74 infers these');
});

void test("view welcomes and the walkthrough link only contributed commands (or the workbench's) and ship their media", () => {
  const c = pkg.contributes as unknown as {
    commands: { command: string }[];
    viewsWelcome: { view: string; contents: string; when?: string }[];
    walkthroughs: { id: string; steps: { id: string; description: string; media: { markdown?: string }; completionEvents?: string[] }[] }[];
  };
  const ids = new Set(c.commands.map((x) => x.command));
  const linked = (text: string) => [...text.matchAll(/\]\(command:([\w.]+)/g)].map((m) => m[1]!);
  const builtIn = new Set(['workbench.action.terminal.new', 'workbench.action.openWalkthrough']);
  const welcomed = c.viewsWelcome.map((w) => w.view);
  assert.deepEqual(welcomed, ['mlops.experiments', 'mlops.models', 'mlops.endpoints', 'mlops.drift']);
  for (const w of c.viewsWelcome) for (const cmd of linked(w.contents)) assert.ok(ids.has(cmd) || builtIn.has(cmd), `${w.view} links ${cmd}`);
  const [walk] = c.walkthroughs;
  assert.equal(walk?.id, 'mlops.gettingStarted');
  for (const s of walk!.steps) {
    for (const cmd of linked(s.description)) assert.ok(ids.has(cmd) || builtIn.has(cmd), `step ${s.id} links ${cmd}`);
    assert.ok(s.media.markdown && existsSync(join(import.meta.dirname, '../../..', s.media.markdown)), `step ${s.id} media`);
  }
  for (const w of c.viewsWelcome) if (w.contents.includes('openWalkthrough')) assert.ok(w.contents.includes(encodeURIComponent(`"mlops-studio.mlops-studio#${walk!.id}"`)), 'the Get Started link names this walkthrough');
});
