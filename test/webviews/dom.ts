/**
 * Loads a built webview bundle (dist/webviews/<view>.js) into jsdom with a stand-in for VS Code's webview API that
 * records every posted message, and a 2D-canvas stand-in so Chart.js can run (jsdom has no canvas).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JSDOM, VirtualConsole } from 'jsdom';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Loaded {
  dom: JSDOM;
  window: JSDOM['window'];
  document: Document;
  posted: { type: string; [k: string]: unknown }[];
  state: { value: unknown };
  /** Delivers a host → webview message, as VS Code's postMessage does. */
  receive(m: unknown): Promise<void>;
  /** Canvas draw calls counted across all canvases (Chart.js really drew). */
  drawCalls(): number;
  /** Uncaught errors and console.error output of the page so far. */
  errors: string[];
  close(): void;
}

function canvasContext(canvas: object, counter: { n: number }): unknown {
  const gradient = { addColorStop: () => undefined };
  const target: Record<string, unknown> = {
    measureText: (t: string) => ({ width: t.length * 6, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 }),
    createLinearGradient: () => gradient,
    createRadialGradient: () => gradient,
    createPattern: () => ({}),
    getImageData: () => ({ data: new Uint8ClampedArray(4) }),
    isPointInPath: () => false,
    getLineDash: () => [],
    getTransform: () => ({ a: 1, d: 1 }),
  };
  return new Proxy(target, {
    get(t, k: string) {
      if (k in t) return t[k];
      if (k === 'canvas') return canvas; // Chart.js checks that the context belongs to its canvas
      return (...args: unknown[]) => {
        if (k === 'stroke' || k === 'fill' || k === 'fillText' || k === 'lineTo') counter.n++;
        void args;
        return undefined;
      };
    },
    set(t, k: string, v) {
      t[k] = v;
      return true;
    },
  });
}

export function ensureBuilt(view: string): string {
  const file = join(ROOT, 'dist/webviews', `${view}.js`);
  if (!existsSync(file)) execFileSync(process.execPath, [join(ROOT, '.ci/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  return file;
}

export async function loadWebview(view: string, initialState?: unknown): Promise<Loaded> {
  const script = readFileSync(ensureBuilt(view), 'utf8');
  const errors: string[] = [];
  let open = true;
  // Errors while the page is open are collected (tests assert there are none); teardown noise after close is dropped.
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e) => open && errors.push(e.stack ?? e.message));
  virtualConsole.on('error', (...a: unknown[]) => open && errors.push(a.map(String).join(' ')));
  const dom = new JSDOM('<!DOCTYPE html><html><body><main id="app"></main></body></html>', { runScripts: 'outside-only', pretendToBeVisual: true, url: 'https://webview.test/', virtualConsole });
  const w = dom.window as unknown as Record<string, unknown> & JSDOM['window'];
  const posted: Loaded['posted'] = [];
  const state = { value: initialState };
  const counter = { n: 0 };
  w.acquireVsCodeApi = () => ({
    postMessage: (m: Loaded['posted'][number]) => posted.push(JSON.parse(JSON.stringify(m)) as Loaded['posted'][number]),
    getState: () => state.value,
    setState: (s: unknown) => {
      state.value = s;
    },
  });
  const contexts = new WeakMap<object, unknown>();
  (w.HTMLCanvasElement as unknown as { prototype: Record<string, unknown> }).prototype.getContext = function (this: object) {
    if (!contexts.has(this)) contexts.set(this, canvasContext(this, counter));
    return contexts.get(this);
  };
  // Layout does not exist in jsdom; give elements a size so Chart.js lays out a real chart area.
  Object.defineProperty(w.HTMLElement.prototype, 'clientWidth', { get: () => 600, configurable: true });
  Object.defineProperty(w.HTMLElement.prototype, 'clientHeight', { get: () => 240, configurable: true });
  w.HTMLElement.prototype.getBoundingClientRect = () => ({ x: 0, y: 0, top: 0, left: 0, right: 600, bottom: 240, width: 600, height: 240, toJSON: () => ({}) }) as DOMRect;
  // jsdom has no ResizeObserver (Chart.js's responsive mode needs one); sizes never change here.
  w.ResizeObserver ??= class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  };
  // jsdom's ElementInternals has no form-association methods; the form-associated @vscode-elements call them.
  const internals = (w.ElementInternals as unknown as { prototype: Record<string, unknown> } | undefined)?.prototype;
  if (internals) for (const m of ['setFormValue', 'setValidity']) internals[m] ??= () => undefined;
  if (internals) internals.checkValidity ??= () => true;
  w.eval(script);
  await settle();
  return {
    dom,
    window: dom.window,
    document: dom.window.document,
    posted,
    state,
    receive: async (m) => {
      dom.window.dispatchEvent(new dom.window.MessageEvent('message', { data: m }));
      await settle();
    },
    drawCalls: () => counter.n,
    errors,
    close: () => {
      open = false;
      dom.window.close();
    },
  };
}

/** Lets timers, microtasks and animation frames run. */
export function settle(ms = 60): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
