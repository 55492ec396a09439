import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RetrainView } from '../../backend/src/api/v1/contract-retrain';
import type { EventTopic } from '../../backend/src/api/v1/contract-ui';
import { AuditView } from './audit/view';
import type { ApiClient } from './backend/client';
import * as api from './backend/features';
import { BackendLog } from './backend/logView';
import { BackendManager } from './backend/process';
import { BackendStatusItem } from './backend/status';
import { RunLens } from './codelens/provider';
import type { ComparePanel } from './compare/panel';
import { registerDriftCommands } from './drift/commands';
import { DriftModel } from './drift/model';
import { registerEndpointCommands } from './endpoints/commands';
import { EndpointsModel } from './endpoints/model';
import { registerTryIt } from './endpoints/tryIt';
import { registerExperimentCommands, runItems } from './experiments/commands';
import { ExperimentsModel, type ExperimentNode } from './experiments/model';
import { RunPages } from './experiments/runPage';
import { registerTableCommand } from './experiments/table';
import { VIEW_NAMES, viewId, type ViewName } from './ids';
import { registerJobCommands, watchJobEnds } from './jobs/commands';
import { JobLogChannels } from './jobs/logs';
import { JobsModel, type JobNode } from './jobs/model';
import { registerModelCommands } from './models/commands';
import { registerModelCardCommand } from './models/cardPage';
import { ModelsModel } from './models/model';
import { registerMonitorCommands } from './monitors/commands';
import { MonitorsModel } from './monitors/model';
import { IncidentNotifier } from './monitors/notify';
import { registerReportCommands } from './report/commands';
import { registerRetrainCommands } from './retrains/commands';
import { RetrainsModel } from './retrains/model';
import { Disposer } from './util/disposable';
import { pick, registerCommand } from './vscode/commands';
import { setting } from './vscode/config';
import { setContext } from './vscode/context';
import { ModelTreeProvider, type TreeModel } from './vscode/tree';

/** The extension: one backend, its status item, the six views, the commands and the code lenses. */
export class Extension implements vscode.Disposable {
  private readonly d = new Disposer();
  readonly output = this.d.track(vscode.window.createOutputChannel('MLOps Studio'));
  readonly backend: BackendManager;
  readonly experiments: ExperimentsModel;
  private readonly panels = new Set<ComparePanel>();
  private experimentSelection: () => readonly ExperimentNode[] = () => [];

  constructor(private readonly context: vscode.ExtensionContext) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    this.backend = this.d.track(
      new BackendManager({
        cliPath: context.asAbsolutePath(path.join('dist', 'backend', 'cli.mjs')),
        home: folder ? path.join(folder, '.mlops') : undefined,
        cwd: folder,
        output: this.output,
        nodePath: () => setting('nodePath'),
        remote: () => {
          const url = setting('backendUrl');
          return url ? { url, token: setting('token') || process.env.MLOPS_TOKEN || '' } : undefined;
        },
      }),
    );
    this.d.track(new BackendStatusItem(this.backend));
    const log = this.d.track(new BackendLog(folder ? path.join(folder, '.mlops') : undefined, this.output));
    const client = () => this.backend.ready();
    const jobs = this.d.track(new JobsModel(async () => withClient(await client(), (c) => ({ jobs: () => api.jobs(c), pipelines: () => api.pipelineRuns(c) }))));
    this.experiments = new ExperimentsModel(client, () => setting('runsPageSize'));
    const models: Record<ViewName, TreeModel<unknown>> = {
      experiments: this.experiments as TreeModel<unknown>,
      models: new ModelsModel(async () => {
        const c = await client();
        return { models: () => c.models(), deployed: () => api.deployedVersions(c) };
      }) as TreeModel<unknown>,
      endpoints: this.d.track(new EndpointsModel(async () => withClient(await client(), (c) => ({ endpoints: () => api.endpoints(c) })))) as TreeModel<unknown>,
      monitors: new MonitorsModel(async () => withClient(await client(), (c) => ({ monitors: () => api.monitors(c), incidents: () => api.incidents(c) }))) as TreeModel<unknown>,
      drift: new DriftModel(async () => withClient(await client(), (c) => ({ drift: () => api.drift(c) }))) as TreeModel<unknown>,
      jobs: jobs as TreeModel<unknown>,
      retrains: new RetrainsModel(async () => withClient(await client(), (c) => ({ retrains: async () => (await c.get<{ retrains: RetrainView[] }>('/api/v1/retrains', { limit: 100 })).retrains }))) as TreeModel<unknown>,
    };
    const views = new Map<ViewName, vscode.TreeView<unknown>>();
    for (const name of VIEW_NAMES) {
      const provider = this.d.track(new ModelTreeProvider(models[name]));
      views.set(name, this.d.track(vscode.window.createTreeView(viewId(name), { treeDataProvider: provider, canSelectMany: name === 'experiments', showCollapseAll: name !== 'jobs' && name !== 'retrains' })));
    }
    this.experimentSelection = () => (views.get('experiments')?.selection ?? []) as ExperimentNode[];
    const lens = this.d.track(new RunLens(() => this.backend.client));
    const jobDeps = { client, model: jobs, logs: this.d.track(new JobLogChannels(client, (l) => this.output.appendLine(l))), state: context.workspaceState, selection: () => views.get('jobs')?.selection[0] as JobNode | undefined };
    const jobEnds = watchJobEnds(jobDeps, (l) => this.output.appendLine(l));
    const refreshAll = (topics: readonly EventTopic[]) => {
      jobEnds(topics);
      for (const m of Object.values(models)) m.invalidate(topics);
      lens.invalidate(topics);
      for (const p of this.panels) p.onBackendChange(topics);
    };
    this.d.track(this.backend.onDidChange(refreshAll));
    const incidents = new IncidentNotifier(client, context.workspaceState);
    this.d.track(this.backend.onDidChange((topics) => topics.includes('drift') && incidents.check()));
    this.d.track(
      this.backend.onDidChangeState((s) => {
        void setContext('mlops.backend.running', s.kind === 'running');
        void setContext('mlops.backend.state', s.kind);
        this.terminalEnv(s.kind === 'running' ? this.backend.client?.endpoint : undefined);
        if (s.kind !== 'running') refreshAll(['experiments', 'runs', 'models', 'endpoints', 'jobs', 'drift', 'retrains']);
        else {
          incidents.check();
          // A connected backend keeps its log in its own home.
          void this.backend.client
            ?.get<{ home?: string }>('/api/v1/health')
            .then((h) => h.home && log.follow(h.home))
            .catch(() => undefined);
        }
      }),
    );
    this.registerCommands(client, refreshAll);
    registerJobCommands(this.d, jobDeps);
    registerCommand(this.d, 'mlops.showBackendLogFile', () => log.show());
    this.d.track(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('mlopsStudio.nodePath') || e.affectsConfiguration('mlopsStudio.backendUrl') || e.affectsConfiguration('mlopsStudio.token')) void this.backend.restart();
      }),
    );
  }

  private registerCommands(client: () => Promise<ApiClient>, refreshAll: (t: readonly EventTopic[]) => void): void {
    const d = this.d;
    const uri = this.context.extensionUri;
    registerCommand(d, 'mlops.restartBackend', () => this.backend.restart());
    registerCommand(d, 'mlops.stopBackend', () => this.backend.stop());
    registerCommand(d, 'mlops.showLogs', () => this.output.show(true));
    registerCommand(d, 'mlops.refresh', () => refreshAll(['experiments', 'runs', 'models', 'endpoints', 'jobs', 'drift', 'audit', 'retrains']));
    const audit = d.track(new AuditView(client));
    registerCommand(d, 'mlops.showAuditLog', () => audit.show());
    registerExperimentCommands(d, {
      model: this.experiments,
      pages: d.track(new RunPages({ extensionUri: uri, client, log: (l) => this.output.appendLine(l) })),
      client,
      panels: this.panels,
      selection: () => this.experimentSelection(),
      compare: { extensionUri: uri, client, log: (l) => this.output.appendLine(l) },
    });
    registerTableCommand(d, { extensionUri: uri, client, onBackendChange: this.backend.onDidChange, log: (l) => this.output.appendLine(l), selection: () => this.experimentSelection() });
    registerModelCommands(d, client, async () => {
      const items = await runItems({ model: this.experiments, client });
      if (items.length === 0) throw new Error('No runs yet: log a run first (MLOps: Launch Training, or python train.py in a terminal).');
      return (await pick(items, { placeHolder: 'Run whose model to register', matchOnDescription: true, matchOnDetail: true })).runId;
    });
    registerModelCardCommand(d, { extensionUri: uri, client });
    registerEndpointCommands(d, client, uri);
    registerTryIt(d, client);
    registerDriftCommands(d, client, uri, () => refreshAll(['drift']), (l) => this.output.appendLine(l));
    registerMonitorCommands(d, client, () => refreshAll(['drift']));
    registerReportCommands(d, client, uri);
    registerRetrainCommands(d, client, () => refreshAll(['retrains']));
  }

  /**
   * New terminals get MLFLOW_TRACKING_URI/TOKEN of the running backend, so `python train.py` logs into this store with
   * no setup. Not persisted: the port and token change with every backend start.
   */
  private terminalEnv(ep: { url: string; token: string } | undefined): void {
    const env = this.context.environmentVariableCollection;
    env.persistent = false;
    if (!ep) return env.clear();
    env.replace('MLFLOW_TRACKING_URI', ep.url);
    env.replace('MLFLOW_TRACKING_TOKEN', ep.token);
  }

  dispose(): void {
    for (const p of this.panels) p.dispose();
    this.d.dispose();
  }
}

const withClient = <T>(c: ApiClient, f: (c: ApiClient) => T): T => f(c);
