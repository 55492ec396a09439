import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { IncidentList, IncidentView, MonitoringApplied, MonitorList, MonitorResults, MonitorResultView, MonitorView } from '../../api/v1/contract-monitors';
import { alertRules, grafanaDashboard, prometheusRulesYaml, RULE_DEFAULTS } from '../../services/monitors/export';
import { CliError, emit, fmtTime, formatNumber, formatTable, readYamlFile } from '../output';
import { backend } from './serving';

/**
 * `mlops monitor list|show|set|pause|resume|run-now` and `mlops incidents list|show|ack|resolve`: the running
 * backend schedules the monitors, so these talk to it.
 */
export function registerMonitor(program: Command): void {
  const home = (): string => program.opts<{ home: string }>().home;
  const path = (endpoint: string, kind: string) => `/api/v1/monitors/${encodeURIComponent(endpoint)}/${encodeURIComponent(kind)}`;
  const monitor = program.command('monitor').description("scheduled checks of an endpoint: data drift, prediction drift, concept drift, performance (created at an endpoint's first deploy)");
  monitor
    .command('list')
    .argument('[endpoint]')
    .option('--json', 'print JSON')
    .action(async (endpoint: string | undefined, o: { json?: boolean }) => {
      const r = await backend<MonitorList>(home(), 'GET', `/api/v1/monitors${endpoint === undefined ? '' : `?endpoint=${encodeURIComponent(endpoint)}`}`);
      emit(o.json ?? false, r, () => (r.monitors.length ? monitorTable(r.monitors) : 'no monitors (an endpoint gets its monitors at its first deploy)'));
    });
  monitor
    .command('show')
    .argument('<endpoint>')
    .argument('<kind>', 'data_drift | prediction_drift | concept_drift | performance')
    .option('--results <n>', 'how many recent results to show', '10')
    .option('--json', 'print JSON')
    .action(async (endpoint: string, kind: string, o: { results: string; json?: boolean }) => {
      const n = Number(o.results);
      if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new CliError(`--results must be an integer in [1, 10000], got '${o.results}'`, 2);
      const m = await backend<MonitorView>(home(), 'GET', path(endpoint, kind));
      const r = await backend<MonitorResults>(home(), 'GET', `${path(endpoint, kind)}/results?limit=${n}`);
      emit(o.json ?? false, { ...m, results: r.results }, () => showMonitor(m, r.results));
    });
  monitor
    .command('set')
    .argument('<endpoint>')
    .argument('<kind>')
    .argument('<settings...>', 'KEY=VALUE pairs, e.g. interval_minutes=1 min_rows=100 severity=critical baseline_metric=val_accuracy')
    .option('--json', 'print JSON')
    .action(async (endpoint: string, kind: string, pairs: string[], o: { json?: boolean }) => {
      const body: Record<string, unknown> = {};
      for (const p of pairs) {
        const eq = p.indexOf('=');
        if (eq <= 0) throw new CliError(`expected KEY=VALUE, got '${p}'`, 2);
        const [k, v] = [p.slice(0, eq), p.slice(eq + 1)];
        body[k] = v === 'null' ? null : v === 'true' ? true : v === 'false' ? false : v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
      }
      const m = await backend<MonitorView>(home(), 'PATCH', path(endpoint, kind), body);
      emit(o.json ?? false, m, () => showMonitor(m, []));
    });
  for (const [name, action, what] of [
    ['pause', 'pause', 'stop scheduling the checks (open incidents stay open)'],
    ['resume', 'resume', 'schedule the checks again, the next one an interval from now'],
  ] as const) {
    monitor
      .command(name)
      .argument('<endpoint>')
      .argument('<kind>')
      .description(what)
      .action(async (endpoint: string, kind: string) => {
        const m = await backend<MonitorView>(home(), 'POST', `${path(endpoint, kind)}/${action}`);
        process.stdout.write(`${m.endpoint} ${m.kind}: ${m.paused ? 'paused' : `next check ${fmtTime(m.next_run_at)}`}\n`);
      });
  }
  monitor
    .command('run-now')
    .argument('<endpoint>')
    .argument('<kind>')
    .description('check now; the next scheduled check comes an interval later')
    .option('--json', 'print JSON')
    .action(async (endpoint: string, kind: string, o: { json?: boolean }) => {
      const r = await backend<{ result: MonitorResultView; incident: IncidentView | null }>(home(), 'POST', `${path(endpoint, kind)}/run`);
      emit(o.json ?? false, r, () => `${r.result.status.toUpperCase()}: ${r.result.summary}${r.incident ? `\nincident #${r.incident.id} (${r.incident.status}, ${r.incident.severity})` : ''}`);
    });

  monitor
    .command('apply')
    .argument('[file]', "a YAML file with a monitoring: section (default ./mlops.yaml)")
    .description("apply mlops.yaml's monitoring: section: each listed endpoint's monitors become the defaults with its settings; endpoints not deployed yet get them at their first deploy")
    .option('--json', 'print JSON')
    .action(async (fileArg: string | undefined, o: { json?: boolean }) => {
      const file = resolve(fileArg ?? 'mlops.yaml');
      const doc = readYamlFile(file);
      const monitoring = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as { monitoring?: unknown }).monitoring : undefined;
      if (!monitoring || typeof monitoring !== 'object' || Array.isArray(monitoring)) throw new CliError(`${file} has no monitoring: section (monitoring: endpoints: NAME: KIND: settings)`, 2);
      const r = await backend<MonitoringApplied>(home(), 'POST', '/api/v1/monitors/apply', { ...monitoring, source: file });
      emit(o.json ?? false, r, () =>
        formatTable(r.applied, [
          { header: 'endpoint', get: (a) => a.endpoint },
          { header: 'kind', get: (a) => a.kind },
          { header: 'status', get: (a) => (a.status === 'pending' ? 'at first deploy' : a.status) },
          { header: 'every', get: (a) => `${formatNumber(a.config.interval_minutes)} min` },
          { header: 'window', get: (a) => a.config.window_rows, align: 'right' },
          { header: 'min rows', get: (a) => a.config.min_rows, align: 'right' },
        ]),
      );
    });

  monitor
    .command('export')
    .description('write Prometheus alerting rules and/or a Grafana dashboard for the metrics /metrics exposes (no backend needed)')
    .option('--prometheus-rules <file>', 'alerting rules (check with: promtool check rules FILE)')
    .option('--grafana <file>', "a dashboard in Grafana's classic JSON model (Dashboards → Import)")
    .option('--p99-ms <ms>', 'latency rule: p99 above this for 10 min', String(RULE_DEFAULTS.p99Ms))
    .option('--error-rate <share>', 'error rule: error share above this for 5 min', String(RULE_DEFAULTS.errorRate))
    .option('--accuracy-drop <share>', 'accuracy rule: this far below its 7-day best for 30 min', String(RULE_DEFAULTS.accuracyDrop))
    .action((o: { prometheusRules?: string; grafana?: string; p99Ms: string; errorRate: string; accuracyDrop: string }) => {
      if (!o.prometheusRules && !o.grafana) throw new CliError('give --prometheus-rules FILE and/or --grafana FILE', 2);
      const share = (flag: string, v: string) => {
        const n = Number(v);
        if (!(n > 0 && n < 1)) throw new CliError(`${flag} must be a number in (0, 1), got '${v}'`, 2);
        return n;
      };
      const p99Ms = Number(o.p99Ms);
      if (!(p99Ms > 0)) throw new CliError(`--p99-ms must be a positive number, got '${o.p99Ms}'`, 2);
      const opts = { p99Ms, errorRate: share('--error-rate', o.errorRate), accuracyDrop: share('--accuracy-drop', o.accuracyDrop) };
      if (o.prometheusRules) {
        writeFileSync(o.prometheusRules, prometheusRulesYaml(opts));
        process.stdout.write(`wrote ${alertRules(opts).length} alerting rules to ${o.prometheusRules}\n`);
      }
      if (o.grafana) {
        writeFileSync(o.grafana, JSON.stringify(grafanaDashboard(), null, 2) + '\n');
        process.stdout.write(`wrote the Grafana dashboard to ${o.grafana}\n`);
      }
    });

  const incidents = program.command('incidents').description('incidents opened by failing monitors');
  incidents
    .command('list')
    .option('--status <s>', 'open | acknowledged | resolved | unresolved | all', 'unresolved')
    .option('--endpoint <name>')
    .option('--json', 'print JSON')
    .action(async (o: { status: string; endpoint?: string; json?: boolean }) => {
      const q = new URLSearchParams({ status: o.status, ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
      const r = await backend<IncidentList>(home(), 'GET', `/api/v1/incidents?${q}`);
      emit(o.json ?? false, r, () => (r.incidents.length ? incidentTable(r.incidents) : `no ${o.status === 'all' ? '' : `${o.status} `}incidents`));
    });
  incidents
    .command('show')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const i = await backend<IncidentView>(home(), 'GET', `/api/v1/incidents/${incidentId(id)}`);
      emit(o.json ?? false, i, () => showIncident(i));
    });
  for (const [name, action] of [
    ['ack', 'acknowledge'],
    ['resolve', 'resolve'],
  ] as const) {
    incidents
      .command(name)
      .argument('<id>')
      .requiredOption('--reason <text>', 'why (written to the audit log)')
      .action(async (id: string, o: { reason: string }) => {
        const i = await backend<IncidentView>(home(), 'POST', `/api/v1/incidents/${incidentId(id)}/${action}`, { reason: o.reason });
        process.stdout.write(`incident #${i.id} ${i.status}\n`);
      });
  }
}

function incidentId(v: string): number {
  const n = Number(v.replace(/^#/, ''));
  if (!Number.isInteger(n) || n < 1) throw new CliError(`an incident id is a positive integer, got '${v}'`, 2);
  return n;
}

function monitorTable(ms: readonly MonitorView[]): string {
  return formatTable(ms, [
    { header: 'endpoint', get: (m) => m.endpoint },
    { header: 'kind', get: (m) => m.kind },
    { header: 'every', get: (m) => `${formatNumber(m.config.interval_minutes)} min` },
    { header: 'last', get: (m) => m.last_status ?? '-' },
    { header: 'next', get: (m) => (m.paused ? 'paused' : fmtTime(m.next_run_at)) },
    { header: 'incident', get: (m) => (m.incident ? `#${m.incident.id} ${m.incident.status}` : '') },
  ]);
}

function showMonitor(m: MonitorView, results: readonly MonitorResultView[]): string {
  const cfg = Object.entries(m.config).map(([k, v]) => `  ${k} = ${v === null ? 'null' : String(v)}`);
  const head = [
    `${m.endpoint} · ${m.kind} · ${m.paused ? 'PAUSED' : `next check ${fmtTime(m.next_run_at)}`}`,
    `last: ${m.last_status ?? 'never run'}${m.last_summary ? ` · ${m.last_summary}` : ''}`,
    m.incident ? `incident #${m.incident.id} ${m.incident.status} (${m.incident.severity}) since ${fmtTime(m.incident.opened_at)}` : 'no open incident',
    'settings:',
    ...cfg,
  ];
  if (!results.length) return head.join('\n');
  const table = formatTable(results, [
    { header: 'checked', get: (r) => fmtTime(r.checked_at) },
    { header: 'status', get: (r) => r.status },
    { header: 'rows', get: (r) => r.rows, align: 'right' },
    { header: 'summary', get: (r) => (r.summary.length > 110 ? `${r.summary.slice(0, 107)}...` : r.summary) },
  ]);
  return [...head, '', table].join('\n');
}

function incidentTable(is: readonly IncidentView[]): string {
  return formatTable(is, [
    { header: 'id', get: (i) => `#${i.id}` },
    { header: 'status', get: (i) => i.status },
    { header: 'severity', get: (i) => i.severity },
    { header: 'endpoint', get: (i) => i.endpoint },
    { header: 'kind', get: (i) => i.kind },
    { header: 'opened', get: (i) => fmtTime(i.opened_at) },
    { header: 'summary', get: (i) => (i.summary.length > 90 ? `${i.summary.slice(0, 87)}...` : i.summary) },
  ]);
}

function showIncident(i: IncidentView): string {
  return [
    `incident #${i.id} · ${i.status} · ${i.severity} · ${i.endpoint} ${i.kind}`,
    `opened ${fmtTime(i.opened_at)}: ${i.summary}`,
    i.acknowledged_at ? `acknowledged ${fmtTime(i.acknowledged_at)} by ${i.acknowledged_by}: ${i.ack_reason}` : '',
    i.resolved_at ? `resolved ${fmtTime(i.resolved_at)} by ${i.resolved_by}: ${i.resolve_reason}` : '',
    `evidence: results ${i.evidence.opened_result_id ?? '-'} .. ${i.evidence.last_result_id ?? '-'}${i.evidence.features.length ? `, features ${i.evidence.features.join(', ')}` : ''}`,
    ...figureLines(i.evidence.figures),
  ]
    .filter(Boolean)
    .join('\n');
}

/** A performance incident's figures, as stored with it (the failing variants of the result that opened it). */
interface Figure {
  variant?: string;
  failed?: string[];
  error_rate?: number | null;
  requests?: number;
  latency?: { p99_ms: number; limit_ms: number; n: number; over: number; p_value: number; alpha: number } | null;
  accuracy?: number | null;
  labelled?: number;
  baseline?: { key: string; value: number } | null;
}

/** One line per failing variant: what failed, and the numbers the verdict came from. */
function figureLines(figures: unknown): string[] {
  if (!Array.isArray(figures)) return [];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return (figures as Figure[]).map((f) => {
    const parts: string[] = [];
    const l = f.latency;
    if (l) parts.push(`p99 ${formatNumber(l.p99_ms)} ms over ${l.n} requests, ${l.over} over ${formatNumber(l.limit_ms)} ms (binomial p ${l.p_value < 0.001 ? l.p_value.toExponential(1) : formatNumber(l.p_value)}, α ${l.alpha})`);
    if (typeof f.error_rate === 'number') parts.push(`error rate ${pct(f.error_rate)} of ${f.requests ?? '?'} requests`);
    if (typeof f.accuracy === 'number') parts.push(`accuracy ${pct(f.accuracy)} over ${f.labelled ?? '?'} labelled rows${f.baseline ? ` vs ${f.baseline.key} ${pct(f.baseline.value)}` : ''}`);
    return `  ${f.variant ?? '?'}: failed ${(f.failed ?? []).join(', ') || '?'}${parts.length ? ` · ${parts.join(' · ')}` : ''}`;
  });
}
