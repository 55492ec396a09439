/**
 * Every command id, view id and context key the extension contributes, in one typed place.
 * test/unit/extension/ids.test.ts diffs these against package.json `contributes`, so they cannot drift apart.
 */

/** Palette commands (category "MLOps"), `mlops.<verbNoun>`. */
export const PALETTE_COMMANDS = {
  'mlops.launchTraining': 'Launch Training',
  'mlops.runPipeline': 'Run Pipeline',
  'mlops.cancelJob': 'Cancel Job',
  'mlops.showJobLog': 'Show Job Log',
  'mlops.compareRuns': 'Compare Runs',
  'mlops.openExperimentsTable': 'Open Experiments Table',
  'mlops.registerModel': 'Register Model',
  'mlops.promoteModel': 'Promote (Set Alias)',
  'mlops.deployModel': 'Deploy',
  'mlops.rollBack': 'Roll Back',
  'mlops.setTrafficWeight': 'Set Traffic Weight',
  'mlops.sendTestRequest': 'Send Test Request',
  'mlops.copyCurl': 'Copy curl',
  'mlops.startAbTest': 'Start A/B Test',
  'mlops.showAbResults': 'Show A/B Results',
  'mlops.runDriftCheck': 'Run Drift Check',
  'mlops.showDriftReport': 'Show Drift Report',
  'mlops.openMonitoring': 'Open Monitoring Dashboard',
  'mlops.showAuditLog': 'Show Audit Log',
  'mlops.showReport': 'Show Report',
  'mlops.retrainNow': 'Retrain Now',
  'mlops.cancelRetrain': 'Cancel Retrain',
  'mlops.acknowledgeIncident': 'Acknowledge Incident',
  'mlops.resolveIncident': 'Resolve Incident',
  'mlops.showIncident': 'Show Incident Evidence',
  'mlops.runMonitorNow': 'Run Monitor Now',
  'mlops.openRun': 'Open Run',
  'mlops.openModelCard': 'Open Model Card',
  'mlops.restartBackend': 'Restart Backend',
  'mlops.stopBackend': 'Stop Backend',
  'mlops.showLogs': 'Show Backend Logs',
  'mlops.showBackendLogFile': 'Show Backend Log File',
  'mlops.refresh': 'Refresh Views',
} as const;

/** Commands only reachable from view items and code lenses, `mlops.views.<view>.<action>`; hidden from the palette. */
export const ITEM_COMMANDS = {
  'mlops.views.experiments.loadMore': 'Load More Runs',
  'mlops.views.experiments.copyRunId': 'Copy Run ID',
  'mlops.views.jobs.openRun': 'Open Run',
} as const;

export type PaletteCommandId = keyof typeof PALETTE_COMMANDS;
export type ItemCommandId = keyof typeof ITEM_COMMANDS;
export type CommandId = PaletteCommandId | ItemCommandId;

export const CATEGORY = 'MLOps';
export const VIEW_CONTAINER = 'mlops';
export const VIEW_NAMES = ['experiments', 'models', 'endpoints', 'monitors', 'drift', 'jobs', 'retrains'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];
export type ViewId = `mlops.${ViewName}`;
export const viewId = (name: ViewName): ViewId => `mlops.${name}`;

export const VIEW_TITLES: Record<ViewName, string> = {
  experiments: 'Experiments',
  models: 'Models',
  endpoints: 'Endpoints',
  monitors: 'Monitors',
  drift: 'Drift',
  jobs: 'Jobs',
  retrains: 'Retrains',
};

/** Context keys and the type of value each holds; set only through vscode/context.ts `setContext`. */
export interface ContextKeys {
  'mlops.backend.running': boolean;
  'mlops.backend.state': 'starting' | 'running' | 'stopped' | 'error';
}

/** `contextValue`s of tree items; `view/item/context` menus match on them. */
export type ItemContext =
  | 'experiment'
  | 'run'
  | 'run.running'
  | 'model'
  | 'modelVersion'
  | 'modelVersion.deployed'
  | 'endpoint'
  | 'variant'
  | 'driftEndpoint'
  | 'driftFeature'
  | 'incident'
  | 'incident.open'
  | 'monitor'
  | 'job'
  | 'job.active'
  | 'pipeline'
  | 'pipeline.active'
  | 'pipelineStep'
  | 'retrain'
  | 'retrain.active'
  | 'message'
  | 'loadMore';

/** Settings under `mlopsStudio.*`. */
export interface Settings {
  nodePath: string;
  backendUrl: string;
  token: string;
  runsPageSize: number;
  pythonPath: string;
}
