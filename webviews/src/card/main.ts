import '../shared/elements';
import type { CardToHost, CardToWebview, ModelCard } from '../protocol/card';
import { clear, el, fmt } from '../shared/dom';
import { Host } from '../shared/host';
import { dataTable as table } from '../shared/table';

const host = new Host<CardToHost, CardToWebview, Record<string, never>>();
const app = document.getElementById('app')!;

const time = (ms: number) => new Date(ms).toLocaleString();
const ACTIONS: Record<string, string> = {
  'alias.set': 'set',
  'alias.move': 'moved',
  'alias.delete': 'removed',
  'alias.gate_override': 'gate overridden',
  'alias.gate_refused': 'refused by the gate',
  'endpoint.deploy': 'deploy',
  'endpoint.promote': 'promote',
  'endpoint.rollback': 'roll back',
  'endpoint.weights': 'weights',
  'endpoint.canary_step': 'canary step',
  'endpoint.delete': 'delete',
};

function button(label: string, onClick: () => void): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('secondary', '');
  b.addEventListener('click', onClick);
  return b;
}

function signature(c: ModelCard): HTMLElement[] {
  const s = c.signature;
  const rows = (xs: ModelCard['signature']['inputs']) => (xs ?? []).map((x) => [x.name ?? '(unnamed)', x.type, x.required ? 'required' : 'optional']);
  return [
    el('p', { class: 'muted' }, `Flavours: ${s.flavors.join(', ') || '–'}${s.message ? ` · ${s.message}` : ''}`),
    table('inputs', 'Signature inputs', ['Input', 'Type', ''], rows(s.inputs), 'No input signature.'),
    table('outputs', 'Signature outputs', ['Output', 'Type', ''], rows(s.outputs), 'No output signature.'),
  ];
}

function profile(c: ModelCard): HTMLElement[] {
  const p = c.profile;
  const head = p.status === 'ready' ? `${p.kind === 'first_window' ? 'First served window' : 'Training data'}: ${p.source ?? ''}${p.rows !== null ? ` · ${p.rows} rows` : ''}` : `No training data profile${p.message ? `: ${p.message}` : ''}`;
  const rows = p.features.map((f) =>
    f.kind === 'numeric'
      ? [f.feature, f.kind, String(f.count), String(f.missing), fmt(f.min), fmt(f.max), fmt(f.mean), fmt(f.std)]
      : [f.feature, `${f.kind} (${f.categories ?? 0})`, String(f.count), String(f.missing), f.top.map((t) => `${t.value} ${Math.round(t.share * 1000) / 10}%`).join(', '), '', '', ''],
  );
  return [el('p', { class: 'muted', id: 'profile-source' }, head), table('profile', 'Training data profile', ['Feature', 'Kind', 'Rows', 'Missing', 'Min / top', 'Max', 'Mean', 'Std'], rows, 'No features profiled.')];
}

function lineage(c: ModelCard): HTMLElement {
  const rows: (string | Node)[][] = [];
  if (c.run) rows.push(['Run', el('span', {}, `${c.run.name} (${c.run.run_id}) `, button('Open Run', () => host.send({ type: 'card/openRun', runId: c.run!.run_id })))]);
  rows.push(['Source', c.source]);
  const l = c.lineage;
  if (l?.source_name) rows.push(['Script', l.source_name]);
  if (l?.code_commit) rows.push(['Commit', `${l.code_commit}${l.code_dirty ? ' (with uncommitted changes)' : ''}`]);
  if (l?.image_digest) rows.push(['Image', l.image_digest]);
  if (l?.command) rows.push(['Command', l.command]);
  for (const d of l?.datasets ?? []) rows.push([`Data: ${d.name}`, `${d.digest}${d.source ? ` (${d.source})` : ''}`]);
  return table('lineage', 'Lineage', ['What', 'Value'], rows, 'No lineage.');
}

function gate(c: ModelCard): HTMLElement[] {
  const g = c.gate;
  if (!g?.configured) return [el('p', { class: 'muted', id: 'gate' }, 'No promotion gate is configured for this model.')];
  return [
    el('p', { id: 'gate', class: g.passed ? 'passed' : 'error' }, g.passed ? 'Gate passed: this version may become @champion.' : 'Gate failed: moving @champion here needs an override and a reason.'),
    table('gate-conditions', 'Gate conditions', ['Condition', 'Actual', 'Result'], g.results.map((r) => [r.condition, r.actual === null ? '–' : String(r.actual), r.passed ? 'pass' : `fail: ${r.message}`]), 'No conditions.'),
  ];
}

function history(id: string, label: string, subject: string, events: ModelCard['alias_history'], empty: string): HTMLElement {
  return table(id, label, ['When', subject, 'Change', 'What', 'Who', 'Why'], events.map((e) => [time(e.ts), e.subject, e.change, ACTIONS[e.action] ?? e.action, e.actor, e.reason ?? '']), empty);
}

function show(c: ModelCard): void {
  clear(app);
  const aliases = c.aliases.map((a) => el('vscode-badge', {}, `@${a}`));
  app.append(
    el('div', { class: 'toolbar' }, el('h2', { id: 'title', tabindex: '-1' }, `Model card: ${c.name} version ${c.version}`), ...aliases, button('Refresh', () => host.send({ type: 'card/refresh' }))),
    el('p', { class: 'muted', id: 'summary' }, `${c.status} · registered ${time(c.created_at)}${c.user ? ` by ${c.user}` : ''}${c.stage !== 'None' ? ` · stage ${c.stage}` : ''}`),
    ...(c.description ? [el('p', { id: 'description' }, c.description)] : []),
    el('h3', {}, 'Metrics'),
    table('metrics', 'Metrics', ['Metric', 'Value'], c.metrics.map((m) => [m.key, fmt(m.value)]), c.run ? 'The run logged no metrics.' : 'No run recorded for this version.'),
    el('h3', {}, 'Signature'),
    ...signature(c),
    el('h3', {}, 'Training data'),
    ...profile(c),
    el('h3', {}, 'Lineage'),
    lineage(c),
    el('h3', {}, 'Promotion gate'),
    ...gate(c),
    el('h3', {}, 'Alias history'),
    history('aliases', 'Alias history', 'Alias', c.alias_history, 'No alias was ever on this version.'),
    el('h3', {}, 'Deployment history'),
    history('deployments', 'Deployment history', 'Endpoint', c.deployments, 'Never deployed.'),
  );
}

host.listen({
  'card/data': (m) => show(m.card),
  'card/error': (m) => {
    clear(app);
    app.append(el('p', { class: 'error', id: 'error' }, m.message));
  },
});
host.send({ type: 'card/ready' });
