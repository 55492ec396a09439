import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';
import type { BackendEvent, EventTopic } from '../../../backend/src/api/v1/contract-ui';
import { Disposer } from '../util/disposable';
import { ApiClient } from './client';
import { openEventStream, type Endpoint } from './http';
import { chooseRuntime, NodeNotFoundError } from './node';
import { BACKOFF_MS, BackendDownError, backoffDelay, type BackendState } from './state';

export type { BackendState } from './state';

export interface BackendOptions {
  /** dist/backend/cli.mjs inside the extension. */
  cliPath: string;
  /** <workspace>/.mlops; undefined when no folder is open. */
  home: string | undefined;
  cwd: string | undefined;
  output: vscode.OutputChannel;
  nodePath: () => string;
  /** mlopsStudio.backendUrl / token: connect instead of spawning. */
  remote: () => Endpoint | undefined;
}

const HANDSHAKE_TIMEOUT_MS = 30_000;
/** A backend that stayed up this long resets the backoff. */
const HEALTHY_MS = 60_000;
/**
 * Starts, watches and restarts the backend process. Two disposal scopes: `ext` lives as long as the extension;
 * `scope` holds what belongs to one backend process (child, HTTP client, event stream) and is reset on restart.
 */
export class BackendManager implements vscode.Disposable {
  private readonly ext = new Disposer();
  private readonly scope = new Disposer();
  private readonly stateEmitter = this.ext.track(new vscode.EventEmitter<BackendState>());
  private readonly eventEmitter = this.ext.track(new vscode.EventEmitter<readonly EventTopic[]>());
  readonly onDidChangeState = this.stateEmitter.event;
  /** Topics that changed in the backend; views refresh on these instead of polling. */
  readonly onDidChange = this.eventEmitter.event;
  private current: BackendState = { kind: 'stopped', detail: 'not started' };
  private apiClient: ApiClient | undefined;
  private crashes = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private generation = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: BackendOptions) {
    this.ext.onDispose(() => this.scope.dispose());
    this.ext.onDispose(() => clearTimeout(this.retryTimer));
  }

  get state(): BackendState {
    return this.current;
  }

  get client(): ApiClient | undefined {
    return this.apiClient;
  }

  /** The client once the backend runs; waits for a start in progress, rejects when stopped or failed. */
  async ready(): Promise<ApiClient> {
    if (this.current.kind === 'starting') await new Promise<void>((r) => this.waiters.push(r));
    if (this.apiClient && this.current.kind === 'running') return this.apiClient;
    throw new BackendDownError(this.current);
  }

  private setState(s: BackendState): void {
    this.current = s;
    this.opts.output.appendLine(`[state] ${s.kind}${'detail' in s ? `: ${s.detail}` : ` at ${s.url}${s.pid ? ` (pid ${s.pid})` : ''}`}`);
    this.stateEmitter.fire(s);
    if (s.kind !== 'starting') for (const w of this.waiters.splice(0)) w();
  }

  async start(): Promise<void> {
    if (this.current.kind === 'starting' || this.current.kind === 'running') return;
    clearTimeout(this.retryTimer);
    const gen = ++this.generation;
    this.scope.reset();
    this.apiClient = undefined;
    this.setState({ kind: 'starting', detail: 'starting the backend' });
    try {
      const remote = this.opts.remote();
      const ep = remote ? await this.connect(remote) : await this.spawnBackend(gen);
      if (gen !== this.generation) return;
      this.apiClient = new ApiClient(ep.endpoint);
      await this.subscribe(ep.endpoint, gen, !remote);
      this.setState({ kind: 'running', url: ep.endpoint.url, pid: ep.pid, external: !!remote });
      this.eventEmitter.fire(['experiments', 'runs', 'models', 'endpoints', 'jobs', 'drift', 'audit', 'retrains']);
      const started = Date.now();
      const healthy = setTimeout(() => {
        if (Date.now() - started >= HEALTHY_MS) this.crashes = 0;
      }, HEALTHY_MS);
      this.scope.onDispose(() => clearTimeout(healthy));
    } catch (e) {
      if (gen !== this.generation) return;
      this.scope.reset();
      this.setState({ kind: 'error', detail: (e as Error).message, retryInMs: null });
      if (e instanceof NodeNotFoundError) void this.offerNodeSetting(e.message);
    }
  }

  /** No runtime fits: say so where it cannot be missed, with the setting that fixes it one click away. */
  private async offerNodeSetting(message: string): Promise<void> {
    const pick = await vscode.window.showErrorMessage(`MLOps: ${message}`, 'Set Node Path', 'Show Logs');
    if (pick === 'Set Node Path') await vscode.commands.executeCommand('workbench.action.openSettings', 'mlopsStudio.nodePath');
    if (pick === 'Show Logs') this.opts.output.show(true);
  }

  /** A user-requested restart: forgets earlier crashes. */
  async restart(): Promise<void> {
    this.crashes = 0;
    await this.stop('restarting');
    await this.start();
  }

  async stop(detail = 'stopped by the user'): Promise<void> {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.apiClient = undefined;
    this.scope.reset();
    this.setState({ kind: 'stopped', detail });
  }

  private async connect(ep: Endpoint): Promise<{ endpoint: Endpoint; pid: number | null }> {
    const client = new ApiClient(ep);
    await client.health();
    await client.experiments(); // fails fast with a clear message on a wrong token
    return { endpoint: ep, pid: null };
  }

  private async spawnBackend(gen: number): Promise<{ endpoint: Endpoint; pid: number }> {
    const { home, cliPath, output } = this.opts;
    if (!home) throw new Error('Open a folder: MLOps Studio keeps one store per workspace, in <folder>/.mlops.');
    const runtime = await chooseRuntime({ configured: this.opts.nodePath(), cliPath });
    output.appendLine(`[runtime] ${runtime.label}`);
    output.appendLine(`[spawn] ${runtime.command} ${cliPath} --home ${home} serve`);
    // ELECTRON_RUN_AS_NODE is set only for VS Code's own binary, so a `node` that is really Electron does not inherit it.
    const env = { ...process.env, ...runtime.env, MLOPS_TOKEN: undefined };
    const child = spawn(runtime.command, [cliPath, '--home', home, 'serve'], { cwd: this.opts.cwd ?? home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.scope.onDispose(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
    createInterface({ input: child.stderr }).on('line', (l) => output.appendLine(l));
    const handshake = await readHandshake(child, output);
    child.on('exit', (code, signal) => {
      if (gen === this.generation) this.onCrash(code, signal);
    });
    return { endpoint: { url: handshake.url, token: handshake.token }, pid: handshake.pid };
  }

  private onCrash(code: number | null, signal: NodeJS.Signals | null): void {
    this.crashes++;
    this.apiClient = undefined;
    this.scope.reset();
    const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
    const delay = backoffDelay(this.crashes);
    if (delay === null) {
      this.setState({ kind: 'error', detail: `The backend ${how} and crashed ${this.crashes} times in a row; see the logs, then Restart.`, retryInMs: null });
      return;
    }
    this.setState({ kind: 'error', detail: `The backend ${how}; restarting in ${delay / 1000}s`, retryInMs: delay });
    this.retryTimer = setTimeout(() => void this.start(), delay);
  }

  private async subscribe(ep: Endpoint, gen: number, owned: boolean): Promise<void> {
    const onData = (data: string) => {
      try {
        this.eventEmitter.fire((JSON.parse(data) as BackendEvent).topics);
      } catch {
        this.opts.output.appendLine(`[events] ignored a malformed event: ${data.slice(0, 200)}`);
      }
    };
    const onEnd = (why: string) => {
      if (gen !== this.generation || owned) return; // for a spawned backend, the process exit handler decides
      this.generation++;
      this.apiClient = undefined;
      this.scope.reset();
      this.crashes++;
      const delay = backoffDelay(this.crashes) ?? BACKOFF_MS[BACKOFF_MS.length - 1]!;
      this.setState({ kind: 'error', detail: `Lost the backend at ${ep.url} (${why}); reconnecting in ${delay / 1000}s`, retryInMs: delay });
      this.retryTimer = setTimeout(() => void this.start(), delay);
    };
    try {
      const close = await openEventStream(ep, '/api/v1/events', onData, onEnd);
      this.scope.onDispose(close);
    } catch (e) {
      this.opts.output.appendLine(`[events] no live updates (${(e as Error).message}); views refresh after your actions and on Refresh.`);
    }
  }

  dispose(): void {
    this.generation++;
    this.ext.dispose();
  }
}

function readHandshake(child: ChildProcess, output: vscode.OutputChannel): Promise<{ url: string; token: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let done = false;
    const finish = (err: Error | null, h?: { url: string; token: string; pid: number }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        if (child.exitCode === null) child.kill('SIGKILL');
        reject(err);
      } else resolve(h!);
    };
    const timer = setTimeout(() => finish(new Error(`The backend did not report ready within ${HANDSHAKE_TIMEOUT_MS / 1000}s; see MLOps logs.`)), HANDSHAKE_TIMEOUT_MS);
    lines.on('line', (line) => {
      if (done) {
        output.appendLine(line);
        return;
      }
      try {
        const h = JSON.parse(line) as { url?: unknown; token?: unknown; pid?: unknown };
        if (typeof h.url === 'string' && typeof h.token === 'string') return finish(null, { url: h.url, token: h.token, pid: Number(h.pid ?? child.pid) });
      } catch {
        // Not the handshake: an early log line.
      }
      output.appendLine(line);
    });
    child.on('error', (e) => finish(new Error(`Could not start the backend: ${e.message}`)));
    child.on('exit', (code, signal) => finish(new Error(`The backend exited before it was ready (${signal ?? `code ${code}`}); see MLOps logs.`)));
  });
}
