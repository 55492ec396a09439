/**
 * The experiments table's first paint with 10,000 runs × 50 columns (25 params, 25 metrics), issue 14:
 *  1. Rows from the real backend over HTTP: the table's first page (300 runs × 50 columns) and all 10,000 runs,
 *     through POST /api/v1/ui/runs/table. Baseline: MLflow's runs/search (what a client without the table route
 *     pages through: whole runs, every param, metric and tag), first 300 and all 10,000.
 *  2. The real webview bundle (dist/webviews/table.js) in headless Chromium: first page message → first painted
 *     frame, then the remaining pages → all rows shown and both plots drawn. Baseline: the same 10,000 × 50 rows
 *     as a plain HTML table with every row in the DOM, built and painted in the same browser.
 *  3. In code-server: the experiment item's "Open Experiments Table" → first paint and all rows, as the extension
 *     logs them.
 * Usage: npm run bench -- table
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import type { UiTablePage } from '../../backend/src/api/v1/contract-table';
import { openCore } from '../../backend/src/core';
import { ApiClient } from '../../extension/src/backend/client';
import { OUT, ROOT, openWorkbench, startBackend, webview } from '../e2e/harness';
import { resetUi, showPanes, waitFor } from '../e2e/ui';
import { fmt, header, median } from './lib/report';

const N_RUNS = 10_000;
const N_PARAMS = 25;
const N_METRICS = 25;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const COLUMNS = [...Array.from({ length: N_METRICS }, (_, i) => `metrics.m${i}`), ...Array.from({ length: N_PARAMS }, (_, i) => `params.p${i}`)];

async function time(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** 10,000 runs × (25 params + 25 metrics) straight into SQLite (the schema the API writes), in one transaction. */
function seed(home: string): string {
  const core = openCore(home);
  const db = core.db;
  const now = Date.now();
  const exp = Number(db.prepare("INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ('sweep-10k', '', ?, ?)").run(now, now).lastInsertRowid);
  const run = db.prepare("INSERT INTO runs (run_uuid, experiment_id, name, status, start_time, end_time, artifact_uri) VALUES (?, ?, ?, 'FINISHED', ?, ?, '')");
  const latest = db.prepare('INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step) VALUES (?, ?, ?, ?, 0)');
  const param = db.prepare('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < N_RUNS; i++) {
      const id = randomBytes(16).toString('hex');
      run.run(id, exp, `run-${i}`, now - i * 1000, now - i * 1000 + 60_000);
      for (let m = 0; m < N_METRICS; m++) latest.run(id, `m${m}`, Math.sin(i * 0.37 + m) * (m + 1), now);
      for (let p = 0; p < N_PARAMS; p++) param.run(id, `p${p}`, p % 5 === 0 ? ['adam', 'sgd', 'rmsprop'][i % 3]! : String(((i * (p + 3)) % 97) / 100));
    }
  })();
  db.close();
  return String(exp);
}

async function tablePages(client: ApiClient, exp: string, first: number): Promise<UiTablePage[]> {
  const pages: UiTablePage[] = [];
  let token: string | undefined;
  do {
    const p: UiTablePage = await client.post('/api/v1/ui/runs/table', { experiment_ids: [exp], order_by: ['start_time DESC'], columns: COLUMNS, max_results: pages.length ? 5000 : first, ...(token ? { page_token: token } : {}) });
    pages.push(p);
    token = p.next_page_token;
  } while (token);
  return pages;
}

async function mlflowSearch(client: ApiClient, exp: string, max: number, all: boolean): Promise<number> {
  let n = 0;
  let token: string | undefined;
  do {
    const p = await client.post<{ runs?: unknown[]; next_page_token?: string }>('/api/2.0/mlflow/runs/search', { experiment_ids: [exp], max_results: max, ...(token ? { page_token: token } : {}) });
    n += p.runs?.length ?? 0;
    token = all ? p.next_page_token : undefined;
  } while (token);
  return n;
}

async function fetchBench(client: ApiClient, exp: string): Promise<Record<string, number>> {
  const r = { first: [] as number[], all: [] as number[], mlFirst: [] as number[], mlAll: [] as number[] };
  for (let i = 0; i < REPEAT; i++) {
    r.first.push(await time(() => client.post('/api/v1/ui/runs/table', { experiment_ids: [exp], order_by: ['start_time DESC'], columns: COLUMNS, max_results: 300 })));
    r.all.push(await time(async () => (await tablePages(client, exp, 300)).reduce((n, p) => n + p.runs.length, 0) === N_RUNS || Promise.reject(new Error('short'))));
    r.mlFirst.push(await time(() => mlflowSearch(client, exp, 300, false)));
    r.mlAll.push(await time(async () => (await mlflowSearch(client, exp, 1000, true)) === N_RUNS || Promise.reject(new Error('short'))));
  }
  return { first: median(r.first), all: median(r.all), mlFirst: median(r.mlFirst), mlAll: median(r.mlAll) };
}

// tsx names functions with __name(); the page has no such helper, so give it one.
const STUB = 'window.__name=(f)=>f;window.__posted=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>window.__posted.push(m),getState:()=>undefined,setState:()=>undefined});';

/** First page message → first painted frame; remaining pages → all rows and plots. Times taken inside the page. */
async function renderOnce(page: Page, script: string, css: string, pages: UiTablePage[]): Promise<{ first: number; all: number; domRows: number }> {
  await page.setContent(`<!DOCTYPE html><html><head><style>${css}</style><script>${STUB}</script></head><body><main id="app"></main></body></html>`);
  await page.addScriptTag({ content: script });
  const available = { metrics: COLUMNS.slice(0, N_METRICS).map((c) => c.slice(8)), params: COLUMNS.slice(N_METRICS).map((c) => c.slice(7)), tags: [], truncated: false };
  const messages = pages.map((p, i) => ({ type: 'table/rows', rows: { seq: 1, columns: p.columns, runs: p.runs, append: i > 0, total: p.total, done: i === pages.length - 1 } }));
  return page.evaluate(
    async ({ available, messages }) => {
      type Posted = { type: string; complete?: boolean; domRows?: number };
      const w = window as unknown as { __posted: Posted[] };
      const until = async (f: () => Posted | undefined) => {
        for (;;) {
          const m = f();
          if (m) return m;
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      window.postMessage({ type: 'table/init', title: 'bench', available }, '*');
      await until(() => w.__posted.find((m) => m.type === 'table/query'));
      const t0 = performance.now();
      window.postMessage(messages[0], '*');
      const first = await until(() => w.__posted.find((m) => m.type === 'table/rendered'));
      const t1 = performance.now();
      for (const m of messages.slice(1)) window.postMessage(m, '*');
      await until(() => w.__posted.find((m) => m.type === 'table/rendered' && m.complete));
      return { first: t1 - t0, all: performance.now() - t0, domRows: first.domRows ?? -1 };
    },
    { available, messages },
  );
}

/** The baseline: every row in the DOM as a plain <table>, then one painted frame. */
async function fullTableOnce(page: Page, css: string, pages: UiTablePage[]): Promise<number> {
  await page.setContent(`<!DOCTYPE html><html><head><style>${css}</style><script>window.__name=(f)=>f;</script></head><body><main id="app"></main></body></html>`);
  return page.evaluate(async (runs) => {
    const t0 = performance.now();
    const table = document.createElement('table');
    const body = table.createTBody();
    for (const r of runs) {
      const tr = body.insertRow();
      for (const v of [r.name, r.status, new Date(r.start_time).toLocaleString(), ...r.values]) tr.insertCell().textContent = v === null ? '–' : String(v);
    }
    document.getElementById('app')!.append(table);
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - t0;
  }, pages.flatMap((p) => p.runs));
}

async function renderBench(pages: UiTablePage[]): Promise<Record<string, number>> {
  const script = readFileSync(join(ROOT, 'dist/webviews/table.js'), 'utf8');
  const css = readFileSync(join(ROOT, 'media/webview.css'), 'utf8');
  const dir = join(OUT, 'bench-table-chromium');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 }, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const r = { first: [] as number[], all: [] as number[], full: [] as number[], domRows: 0 };
  try {
    for (let i = 0; i < 3; i++) {
      const page = await ctx.newPage();
      const t = await renderOnce(page, script, css, pages);
      r.first.push(t.first);
      r.all.push(t.all);
      r.domRows = t.domRows;
      if (i === 0) await page.screenshot({ path: join(OUT, 'bench-table-10000x50.png') });
      await page.close();
      const base = await ctx.newPage();
      r.full.push(await fullTableOnce(base, css, pages));
      await base.close();
    }
  } finally {
    await ctx.close();
  }
  return { first: median(r.first), all: median(r.all), full: median(r.full), domRows: r.domRows };
}

/** The whole path in code-server: click the item's action, read the extension's log lines. */
async function codeServerBench(home: string): Promise<{ first: number; afterCommand: number; all: number }> {
  const wb = await openWorkbench('bench-table', join(home, '..'));
  try {
    await resetUi(wb.page);
    await showPanes(wb.page, 'Experiments');
    const item = wb.page.getByRole('treeitem', { name: /^sweep-10k/ });
    await item.waitFor({ timeout: 120_000 });
    await item.hover();
    await item.locator('a[aria-label="Open Experiments Table"]').click();
    await webview(wb.page).locator('#count', { hasText: /^10,000 of 10,000 runs$/ }).waitFor({ timeout: 120_000 });
    const first = await waitFor('first paint logged', () => /\[table\] first paint (\d+) ms after the query, (\d+) ms after the command/.exec(wb.outputLog()), 60_000);
    const all = await waitFor('all rows logged', () => /\[table\] all rows (\d+) ms after the query/.exec(wb.outputLog()), 60_000);
    await wb.screenshot('10000x50');
    return { first: Number(first[1]), afterCommand: Number(first[2]), all: Number(all[1]) };
  } finally {
    await wb.close();
  }
}

async function main(): Promise<void> {
  header(`experiments table: ${fmt(N_RUNS)} runs × ${N_PARAMS + N_METRICS} columns (${N_PARAMS} params, ${N_METRICS} metrics)`);
  const ws = join(OUT, 'bench-table-ws');
  rmSync(ws, { recursive: true, force: true });
  const home = join(ws, '.mlops');
  const exp = seed(home);
  const backend = await startBackend(home);
  let pages: UiTablePage[];
  try {
    const client = new ApiClient(backend.api);
    await client.post('/api/v1/ui/runs/table', { experiment_ids: [exp], max_results: 1 });
    const f = await fetchBench(client, exp);
    pages = await tablePages(client, exp, 300);
    const bytes = pages.reduce((n, p) => n + Buffer.byteLength(JSON.stringify(p)), 0);
    console.log(`fetch, first page (300 × 50): ${fmt(f.first!)} ms; baseline MLflow runs/search max_results 300: ${fmt(f.mlFirst!)} ms → ${(f.mlFirst! / f.first!).toFixed(1)}×`);
    console.log(`fetch, all ${fmt(N_RUNS)} (${pages.length} pages, ${(bytes / 1e6).toFixed(1)} MB): ${fmt(f.all!)} ms; baseline runs/search, pages of 1,000: ${fmt(f.mlAll!)} ms → ${(f.mlAll! / f.all!).toFixed(1)}×`);
  } finally {
    await backend.stop();
  }
  const r = await renderBench(pages);
  console.log(`webview (Chromium): first page → painted ${fmt(r.first!)} ms (${r.domRows} rows in the DOM); all ${fmt(N_RUNS)} rows + plots ${fmt(r.all!)} ms; baseline full HTML table ${fmt(r.full!)} ms → first paint ${(r.full! / r.first!).toFixed(1)}×, all rows ${(r.full! / r.all!).toFixed(1)}×`);
  if (process.env.BENCH_SKIP_CODE_SERVER) return;
  const cs = await codeServerBench(home);
  console.log(`code-server: first paint ${fmt(cs.first)} ms after the query (${fmt(cs.afterCommand)} ms after the command); all rows ${fmt(cs.all)} ms after the query`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
