/**
 * Waits and actions on the workbench that hold under load: every wait is on state (a tree item, an attribute, a
 * file, an HTTP answer, the notification centre), never on a toast, and every wait has a bound.
 */
import type { Locator, Page } from 'playwright-core';
import { call, type Api } from './seed';

/** Polls `f` until it returns something truthy; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, f: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The quick-input row whose label is exactly `label` (the palette ranks fuzzy matches, so Enter may pick another). */
function quickRow(page: Page, label: string | RegExp): Locator {
  const re = typeof label === 'string' ? new RegExp(`^${escapeRe(label)}$`) : label;
  return page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: re }) });
}

/** Runs a palette command by its full title, e.g. "MLOps: Compare Runs" or "View: Close All Editors". */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  for (let attempt = 0; ; attempt++) {
    try {
      if (!(await input.isVisible())) {
        await page.locator('.monaco-workbench .part.statusbar').click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('F1');
      }
      await input.waitFor({ timeout: 10_000 });
      await input.fill(`>${title}`);
      const row = quickRow(page, title).first();
      await row.waitFor({ timeout: 15_000 });
      await row.click();
      return;
    } catch (e) {
      if (attempt >= 2) throw e;
      await page.keyboard.press('Escape');
    }
  }
}

/** Picks the first quick-pick row whose label matches (a string matches as a substring). */
export async function choose(page: Page, label: string | RegExp, timeout = 30_000): Promise<void> {
  const re = typeof label === 'string' ? new RegExp(escapeRe(label)) : label;
  const row = quickRow(page, re).first();
  await row.waitFor({ timeout });
  // The mouse still rests where the last pick was clicked: over a new list, the row under it shows a hover that can
  // cover the row to click. Moved away, no hover.
  await page.mouse.move(1, 1);
  await row.click();
}

/** The open quick pick's rows, each as `label description` (whitespace collapsed). */
export function quickRowTexts(page: Page): Promise<string[]> {
  return page
    .locator('.quick-input-list .monaco-list-row')
    .evaluateAll((rs) => rs.map((r) => [r.querySelector('.label-name')?.textContent ?? '', r.querySelector('.label-description')?.textContent ?? ''].join(' ').replace(/\s+/g, ' ').trim()));
}

/** Starts Launch Training on `script`, locally, and returns the interpreters it offers once it asks for one. */
export async function launchLocally(page: Page, script: RegExp): Promise<string[]> {
  await runCommand(page, 'MLOps: Launch Training');
  await quickPlaceholder(page, /Training script/);
  await choose(page, script);
  await quickPlaceholder(page, /Where to run it/);
  await choose(page, /^local$/);
  await quickPlaceholder(page, /Python interpreter/);
  // The list is there once it holds more than Browse….
  return waitFor('the interpreters offered', async () => ((r) => (r.length > 1 ? r : undefined))(await quickRowTexts(page)));
}

/** The placeholder of the open quick input (what it asks for), once it matches `expected`. */
export async function quickPlaceholder(page: Page, expected: RegExp, timeout = 30_000): Promise<string> {
  const input = page.locator('.quick-input-widget input.input');
  return waitFor(`a quick input asking ${expected}`, async () => {
    if (!(await input.isVisible())) return undefined;
    const p = (await input.getAttribute('placeholder')) || (await input.getAttribute('aria-label')) || '';
    return expected.test(p) ? p : undefined;
  }, timeout);
}

/**
 * Puts the workbench in a known state before a test: no quick input or dialog, no editors, no notifications, the
 * MLOps container shown. A test that failed half-way leaves none of its UI behind for the next one.
 */
export async function resetUi(page: Page): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const dialog = page.locator('.monaco-dialog-box');
    if (await dialog.isVisible()) {
      const dontSave = dialog.locator('.monaco-button', { hasText: "Don't Save" });
      if (await dontSave.isVisible()) await dontSave.click();
      else await page.keyboard.press('Escape');
    } else if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Escape');
    else break;
  }
  // An untitled document with text asks whether to save it when it closes.
  const dirty = await page.locator('.tabs-container .tab.dirty').count();
  await runCommand(page, 'View: Close All Editors');
  if (dirty) await page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" }).click({ timeout: 15_000 });
  await runCommand(page, 'Notifications: Clear All Notifications');
  await runCommand(page, 'View: Show MLOps');
  await page.locator('.pane-header', { hasText: /^Experiments/ }).waitFor({ timeout: 60_000 });
}

const PANES = ['Experiments', 'Models', 'Endpoints', 'Monitors', 'Drift', 'Jobs', 'Retrains'];

/** Expands the named MLOps panes and collapses the others, so what a test looks at has room to render. */
export async function showPanes(page: Page, ...titles: string[]): Promise<void> {
  for (const t of PANES) {
    const header = page.locator('.pane-header', { hasText: new RegExp(`^${t}`) }).first();
    await header.waitFor({ timeout: 30_000 });
    const want = titles.includes(t);
    for (let i = 0; i < 5 && ((await header.getAttribute('aria-expanded')) === 'true') !== want; i++) {
      await header.click();
      await page.waitForTimeout(200);
    }
  }
}

/** Expands a tree item (by keyboard, so a click that lands during a refresh cannot toggle it shut again). */
export async function expand(page: Page, name: RegExp, timeout = 60_000): Promise<void> {
  const item = page.getByRole('treeitem', { name }).first();
  await item.waitFor({ timeout });
  await waitFor(`${name} expanded`, async () => {
    if ((await item.getAttribute('aria-expanded')) === 'true') return true;
    await item.click();
    await page.keyboard.press('ArrowRight');
    await page.waitForTimeout(250);
    return (await item.getAttribute('aria-expanded')) === 'true';
  }, timeout);
}

/** Opens the notification centre and returns its item that matches `text` (it stays there after its toast is gone). */
export async function notification(page: Page, text: string | RegExp, timeout = 30_000): Promise<Locator> {
  const center = page.locator('.notifications-center');
  if (!(await center.isVisible())) await runCommand(page, 'Notifications: Show Notifications');
  const item = center.locator('.notification-list-item', { hasText: text }).first();
  await item.waitFor({ timeout });
  return item;
}

export interface EndpointState {
  name: string;
  status: string;
  variants: { model_name: string; model_version: string; role: string; weight: number }[];
  last_rollback?: { reason: string } | null;
}

/** Waits until the backend reports endpoint `name` serving `model/version` as its stable variant at 100 %. */
export function waitServing(api: () => Api, name: string, modelVersion: string, timeout = 60_000): Promise<EndpointState> {
  return waitFor(`${name} serving ${modelVersion} at 100%`, async () => {
    const ep = await call<EndpointState>(api(), 'GET', `/endpoints/${encodeURIComponent(name)}`);
    return ep.variants.some((v) => v.role === 'stable' && `${v.model_name}/${v.model_version}` === modelVersion && v.weight === 100) ? ep : undefined;
  }, timeout);
}

/** Waits for the modal dialog, returns its question and detail text, and presses `button`. */
export async function answerDialog(page: Page, button: string, timeout = 30_000): Promise<string> {
  const box = page.locator('.monaco-dialog-box');
  const btn = box.locator('.monaco-button', { hasText: new RegExp(`^${escapeRe(button)}$`) }).first();
  await btn.waitFor({ timeout });
  const text = await box.innerText();
  await btn.click();
  return text;
}

/** Types into the open input box (one that asks `prompt`) and accepts it. */
export async function answerInput(page: Page, prompt: RegExp, value: string, timeout = 30_000): Promise<void> {
  await waitFor(`an input box asking ${prompt}`, async () => prompt.test((await page.locator('.quick-input-widget').innerText().catch(() => '')) ?? ''), timeout);
  await page.locator('.quick-input-widget input.input').fill(value);
  await page.keyboard.press('Enter');
}

/**
 * Runs a tree item's context-menu action and waits until `done` says it took effect; if it did not within
 * `settleMs`, closes whatever is open and tries again (3 tries). A tree that re-renders while its menu opens can
 * swallow the first try: the right-click lands on a row being replaced, or Enter reaches the tree instead of the menu.
 * `done` must be true only once the action ran, so a retry never runs it twice.
 */
export async function contextMenu(page: Page, row: Locator, action: string, done: () => Promise<boolean>, settleMs = 15_000): Promise<void> {
  const item = page.locator('.monaco-menu .action-item', { has: page.locator('.action-label', { hasText: new RegExp(`^${escapeRe(action)}$`) }) }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      // Forced: a row re-rendered mid-click is clicked where it is, and a retried right-click cannot land on the menu.
      await row.click({ button: 'right', force: true });
      await item.hover({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await waitFor(`"${action}" to take effect`, async () => await done().catch(() => false), settleMs);
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      if (await done().catch(() => false)) return;
      await page.keyboard.press('Escape');
    }
  }
}

/** True while the quick input is open and asks `prompt` (for `contextMenu`'s `done` when the action asks first). */
export async function inputAsks(page: Page, prompt: RegExp): Promise<boolean> {
  const box = page.locator('.quick-input-widget');
  return (await box.isVisible()) && prompt.test(await box.innerText());
}
