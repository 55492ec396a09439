import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OUT, openWorkbench, type Workbench, runningBackend } from './harness';
import { call, type Api } from './seed';
import { resetUi, showPanes, waitFor } from './ui';

/** A first run: an empty workspace, nothing seeded. The views welcome the user with buttons, and a walkthrough. */
const workspace = join(OUT, 'e2e-welcome-workspace');
const home = join(workspace, '.mlops');
let wb: Workbench;

const backend = (): Promise<Api> => runningBackend(home);

const T = { timeout: 240_000 };

void describe('first run in code-server', { timeout: 900_000 }, () => {
  before(async () => {
    rmSync(workspace, { recursive: true, force: true });
    mkdirSync(workspace, { recursive: true });
    wb = await openWorkbench('welcome', workspace);
  });
  after(async () => {
    await wb?.close();
  });

  void it('empty views show a welcome with buttons; Get Started opens the walkthrough with its steps', T, async () => {
    const { page } = wb;
    // Nothing in the folder activates the extension: opening the MLOps container does, and starts the backend.
    await resetUi(page);
    await backend();
    await showPanes(page, 'Experiments', 'Models', 'Endpoints');
    const pane = (title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`) }) });
    const welcome = (title: string) => pane(title).locator('.welcome-view-content');
    await welcome('Experiments').getByText(/No runs yet/).waitFor({ timeout: 60_000 });
    const buttons = async (title: string) => (await welcome(title).locator('.monaco-button').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(await buttons('Experiments'), ['Open a Terminal', 'Launch Training', 'Get Started']);
    await welcome('Models').getByText(/No registered models yet/).waitFor({ timeout: 30_000 });
    assert.deepEqual(await buttons('Models'), ['Register Model']);
    await welcome('Endpoints').getByText(/No endpoints yet/).waitFor({ timeout: 30_000 });
    assert.deepEqual(await buttons('Endpoints'), ['Deploy', 'Get Started']);
    await wb.screenshot('welcome-views');
    await welcome('Experiments').locator('.monaco-button', { hasText: 'Get Started' }).click();
    const walkthrough = page.locator('.gettingStartedContainer');
    await walkthrough.getByText('Get started with MLOps Studio').first().waitFor({ timeout: 30_000 });
    for (const step of ['Log your first run', 'Look at your runs', 'Register a model', 'Deploy and try it', 'Watch it in production']) {
      await walkthrough.getByText(step, { exact: true }).first().waitFor({ timeout: 10_000 });
    }
    await wb.screenshot('walkthrough');
    // The first step's button opens a terminal (and so completes the step).
    const terminals = await page.locator('.terminal-tabs-entry, .single-terminal-tab').count();
    await walkthrough.locator('.getting-started-step.expanded .monaco-button', { hasText: 'Open a Terminal' }).first().click();
    await waitFor('a terminal opened', async () => (await page.locator('.terminal-wrapper').count()) > 0 || (await page.locator('.terminal-tabs-entry, .single-terminal-tab').count()) > terminals);
  });

  void it('the welcome gives way to the tree once there is something to show', T, async () => {
    const { page } = wb;
    await resetUi(page);
    const api = await backend();
    await showPanes(page, 'Experiments', 'Models');
    const experiments = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /^Experiments/ }) });
    await experiments.locator('.welcome-view-content').waitFor({ timeout: 30_000 });
    const { experiment_id } = await call<{ experiment_id: string }>(api, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'first' });
    await call(api, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id, run_name: 'first-run' });
    await page.getByRole('treeitem', { name: /^first 1 run/ }).waitFor({ timeout: 30_000 });
    assert.equal(await experiments.locator('.welcome-view-content').isVisible(), false);
  });
});
