import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { PolicyView, RetrainView } from '../../api/v1/contract-retrain';
import { CliError, emit, fmtTime, formatTable, readYamlFile } from '../output';
import { backend } from './serving';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The retrain: section of an mlops.yaml: one policy or a list; `pipeline` defaults to the file itself. */
export function retrainSection(file: string): Obj[] {
  const doc = readYamlFile(file);
  const section = isObj(doc) ? doc.retrain : undefined;
  const list = Array.isArray(section) ? section : isObj(section) ? [section] : null;
  if (!list || !list.length || !list.every(isObj)) throw new CliError(`${file} has no retrain: section (retrain: {model: NAME, endpoint: NAME, triggers: ..., rollout: ...})`, 2);
  return list.map((p) => ({ pipeline: file, ...p, ...(typeof p.pipeline === 'string' ? { pipeline: resolve(file, '..', p.pipeline) } : {}) }));
}

const policyText = (p: PolicyView): string => {
  const s = p.policy as { pipeline: string; triggers: Obj; cooldown_s: number; max_concurrent: number; daily_budget: number; rollout: Obj; promotion: Obj };
  return [
    `policy #${p.id}: ${p.model} on ${p.endpoint}`,
    `pipeline      ${s.pipeline}`,
    `triggers      ${JSON.stringify(s.triggers)}`,
    `next schedule ${p.next_scheduled_at ? fmtTime(p.next_scheduled_at) : '-'}`,
    `bounds        cool-down ${s.cooldown_s} s, at most ${s.max_concurrent} at once, ${s.daily_budget} a day`,
    `rollout       ${JSON.stringify(s.rollout)}`,
    `promotion     ${JSON.stringify(s.promotion)}`,
    ...(p.deferred ? [`held          incident ${String(p.deferred.incident_id)} (cool-down)`] : []),
  ].join('\n');
};

const retrainTable = (rs: readonly RetrainView[]) =>
  formatTable(rs, [
    { header: 'id', get: (r) => `#${r.id}` },
    { header: 'model', get: (r) => `${r.model}${r.challenger_version ? `/${r.challenger_version}` : ''}` },
    { header: 'endpoint', get: (r) => r.endpoint },
    { header: 'trigger', get: (r) => r.trigger },
    { header: 'status', get: (r) => r.status },
    { header: 'started', get: (r) => fmtTime(r.created_at) },
    { header: 'reason', get: (r) => (r.reason.length > 80 ? `${r.reason.slice(0, 77)}...` : r.reason) },
  ]);

const showRetrain = (r: RetrainView): string =>
  [
    `retrain #${r.id}: ${r.model} on ${r.endpoint}, ${r.status}`,
    `trigger   ${r.trigger} ${JSON.stringify(r.evidence)}`,
    `pipeline  ${r.pipeline_run_id ?? '-'}`,
    `data      ${r.data_file ?? '-'}`,
    `versions  champion ${r.champion_version ?? '-'}, challenger ${r.challenger_version ?? '-'}`,
    `now       ${r.reason}`,
    ...(r.decision ? [`decision  ${JSON.stringify(r.decision)}`] : []),
    'transitions:',
    ...r.transitions.map((t) => `  ${fmtTime(t.at)}  ${t.status.padEnd(11)} ${t.reason}`),
  ].join('\n');

/** `mlops retrain policy set|show|list` and `mlops retrain list|show|run|cancel`: the running backend owns the loop. */
export function registerRetrain(program: Command): void {
  const home = (): string => program.opts<{ home: string }>().home;
  const retrain = program.command('retrain').description('retraining: policies (triggers, bounds, rollout) and the ledger of retrains');
  const policy = retrain.command('policy').description('retraining policies per model and endpoint');
  policy
    .command('set')
    .argument('[file]', "an mlops.yaml with a retrain: section (default ./mlops.yaml); its pipeline defaults to that file")
    .option('--json', 'print JSON')
    .action(async (fileArg: string | undefined, o: { json?: boolean }) => {
      const out: PolicyView[] = [];
      for (const p of retrainSection(resolve(fileArg ?? 'mlops.yaml'))) out.push(await backend<PolicyView>(home(), 'PUT', '/api/v1/retrain/policies', p));
      emit(o.json ?? false, { policies: out }, () => out.map(policyText).join('\n\n'));
    });
  const findPolicy = async (model: string, endpoint: string): Promise<PolicyView> => {
    const all = await backend<{ policies: PolicyView[] }>(home(), 'GET', `/api/v1/retrain/policies?endpoint=${encodeURIComponent(endpoint)}`);
    const p = all.policies.find((x) => x.model === model);
    if (!p) throw new CliError(`no retrain policy for ${model} on ${endpoint}`);
    return p;
  };
  policy
    .command('show')
    .argument('<model>')
    .argument('<endpoint>')
    .option('--json', 'print JSON')
    .action(async (model: string, endpoint: string, o: { json?: boolean }) => {
      const p = await findPolicy(model, endpoint);
      emit(o.json ?? false, p, () => policyText(p));
    });
  policy
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const r = await backend<{ policies: PolicyView[] }>(home(), 'GET', '/api/v1/retrain/policies');
      emit(o.json ?? false, r, () =>
        r.policies.length
          ? formatTable(r.policies, [
              { header: 'id', get: (p) => `#${p.id}` },
              { header: 'model', get: (p) => p.model },
              { header: 'endpoint', get: (p) => p.endpoint },
              { header: 'next schedule', get: (p) => (p.next_scheduled_at ? fmtTime(p.next_scheduled_at) : '-') },
              { header: 'held incident', get: (p) => (p.deferred ? String(p.deferred.incident_id) : '-') },
            ])
          : 'no retrain policies',
      );
    });

  retrain
    .command('list')
    .option('--model <name>')
    .option('--endpoint <name>')
    .option('--status <s>')
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; endpoint?: string; status?: string; json?: boolean }) => {
      const q = new URLSearchParams({ ...(o.model ? { model: o.model } : {}), ...(o.endpoint ? { endpoint: o.endpoint } : {}), ...(o.status ? { status: o.status } : {}) });
      const r = await backend<{ retrains: RetrainView[] }>(home(), 'GET', `/api/v1/retrains${q.size ? `?${q}` : ''}`);
      emit(o.json ?? false, r, () => (r.retrains.length ? retrainTable(r.retrains) : 'no retrains'));
    });
  const id = (s: string) => {
    const n = Number(s.replace(/^#/, ''));
    if (!Number.isInteger(n) || n < 1) throw new CliError(`a retrain id is a positive integer, got '${s}'`, 2);
    return n;
  };
  retrain
    .command('show')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (s: string, o: { json?: boolean }) => {
      const r = await backend<RetrainView>(home(), 'GET', `/api/v1/retrains/${id(s)}`);
      emit(o.json ?? false, r, () => showRetrain(r));
    });
  retrain
    .command('run')
    .argument('<model>')
    .argument('<endpoint>')
    .option('--reason <text>')
    .option('--wait', 'wait until the challenger is deployed on the endpoint or the retrain ends, then show it (exit 1 when rejected, failed or cancelled)')
    .option('--json', 'print JSON')
    .action(async (model: string, endpoint: string, o: { reason?: string; wait?: boolean; json?: boolean }) => {
      let r = await backend<RetrainView>(home(), 'POST', '/api/v1/retrains', { model, endpoint, ...(o.reason ? { reason: o.reason } : {}) });
      if (!o.wait) return emit(o.json ?? false, r, () => `retrain #${r.id} started (${r.reason})`);
      // rolling_out is set before the challenger is deployed; its rollout (role, weight) is recorded once it is.
      const rolledOut = (x: RetrainView) => x.status === 'rolling_out' && x.decision?.rollout !== undefined;
      while (!rolledOut(r) && !['deployed', 'rejected', 'failed', 'cancelled'].includes(r.status)) {
        await new Promise((res) => setTimeout(res, 250));
        r = await backend<RetrainView>(home(), 'GET', `/api/v1/retrains/${r.id}`);
      }
      emit(o.json ?? false, r, () => showRetrain(r));
      if (r.status !== 'deployed' && r.status !== 'rolling_out') process.exitCode = 1;
    });
  retrain
    .command('cancel')
    .argument('<id>')
    .option('--reason <text>')
    .action(async (s: string, o: { reason?: string }) => {
      const r = await backend<RetrainView>(home(), 'POST', `/api/v1/retrains/${id(s)}/cancel`, o.reason ? { reason: o.reason } : {});
      process.stdout.write(`retrain #${r.id} ${r.status}: ${r.reason}\n`);
    });
}
