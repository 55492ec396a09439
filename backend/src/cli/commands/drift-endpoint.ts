import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EndpointDrift, VariantDrift } from '../../api/v1/contract';
import { readHandshake } from '../../server';
import { DriftService, profileInfo } from '../../services/drift/service';
import type { StoredProfile } from '../../services/drift/repository';
import { ApiError } from '../../util/errors';
import { backendCaller, ClientError } from '../../util/http-client';
import { CliError, emit, fmtTime, formatNumber, formatTable } from '../output';
import { withStore } from '../with-store';

/**
 * `mlops drift endpoint NAME` (asks the running backend, which holds the endpoints and their prediction log) and
 * `mlops models profile NAME/VERSION [--reference FILE]` (works on the store directly, like `mlops models alias`).
 * Added to the `drift` and `models` groups that drift.ts and registry.ts create.
 */
export function registerDriftEndpoint(program: Command): void {
  const group = (name: string): Command => {
    const g = program.commands.find((c) => c.name() === name);
    if (!g) throw new Error(`command group '${name}' must be registered first`);
    return g;
  };
  group('drift')
    .command('endpoint <name>')
    .description("drift of an endpoint's recent served inputs against each served version's reference profile (or its first served window)")
    .option('--window <rows>', 'newest logged rows to compare (default 1000)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { window?: string; json?: boolean }) => {
      const query = o.window === undefined ? '' : `?window=${rows(o.window)}`;
      const report = await backend<EndpointDrift>(program, `/api/v1/endpoints/${encodeURIComponent(name)}/drift${query}`);
      emit(o.json ?? false, report, () => endpointTable(report));
    });
  group('models')
    .command('profile <model>')
    .description("show or set the reference profile of NAME/VERSION (what endpoint drift compares served inputs with)")
    .option('--reference <file>', 'training data: a CSV with a header row, or a profile JSON from `mlops drift profile`')
    .option('--json', 'print JSON')
    .action((model: string, o: { reference?: string; json?: boolean }) =>
      withStore(program, async (ctx) => {
        const cut = model.lastIndexOf('/');
        if (cut <= 0) throw new CliError(`expected NAME/VERSION, got '${model}'`, 2);
        const [name, version] = [model.slice(0, cut), model.slice(cut + 1)];
        const drift = new DriftService(ctx);
        try {
          const p = o.reference ? await drift.setProfile(name, version, { file: resolve(o.reference) }, ctx.defaultActor) : await drift.profile(name, version);
          emit(o.json ?? false, profileInfo(p), () => profileTable(p));
        } catch (err) {
          if (err instanceof ApiError) throw new CliError(err.message);
          throw err;
        }
      }),
    );
}

function rows(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 30 || n > 50_000) throw new CliError(`--window must be an integer in [30, 50000], got '${v}'`, 2);
  return n;
}

async function backend<T>(program: Command, path: string): Promise<T> {
  const home = program.opts<{ home: string }>().home;
  const h = readHandshake(home);
  if (!h) throw new CliError(`no backend is running for ${resolve(home)}; start one with 'mlops serve' (endpoints live in the backend)`);
  try {
    return await backendCaller(h.url, h.token)<T>('GET', path);
  } catch (err) {
    if (err instanceof ClientError) throw new CliError(err.message);
    throw err;
  }
}

function endpointTable(r: EndpointDrift): string {
  if (r.variants.length === 0) return `${r.endpoint}: serves nothing`;
  return r.variants.map((v) => variantBlock(r.endpoint, v)).join('\n\n');
}

function variantBlock(endpoint: string, v: VariantDrift): string {
  const ref = v.reference ? `${v.reference.kind === 'training' ? 'training profile' : 'FALLBACK: first served window'} (${v.reference.source})` : 'none';
  const head = [
    `${endpoint} · ${v.variant} (${v.role}) · reference: ${ref}`,
    `current window: ${v.window.rows} rows${v.window.from_ts ? `, ${fmtTime(v.window.from_ts)} .. ${fmtTime(v.window.to_ts)}` : ''}`,
  ];
  if (v.status !== 'ok') return [...head, `${v.status}: ${v.message ?? ''}`].join('\n');
  const cell = (f: VariantDrift['features'][number], m: string) => {
    const x = f.methods.find((y) => y.method === m);
    return x ? `${formatNumber(x.p_value ?? x.score)}${x.drift ? '*' : ''}` : '';
  };
  const table = formatTable(v.features, [
    { header: 'feature', get: (f) => f.feature },
    { header: 'PSI', get: (f) => cell(f, 'psi'), align: 'right' },
    { header: 'KS p', get: (f) => cell(f, 'ks'), align: 'right' },
    { header: 'Wass/σ', get: (f) => cell(f, 'wasserstein_norm'), align: 'right' },
    { header: 'JS', get: (f) => cell(f, 'jensen_shannon'), align: 'right' },
    { header: 'votes', get: (f) => `${f.votes}/${f.methods.length}`, align: 'right' },
    { header: 'severity', get: (f) => f.severity },
    { header: 'drift', get: (f) => (f.drift ? 'DRIFT' : 'ok') },
  ]);
  const skipped = v.skipped.map((s) => `skipped ${s.feature}: ${s.reason}`);
  return [...head, table, ...skipped, `* = method says drift; a feature drifts with >= 2 votes. ${v.drift ? 'DRIFT' : 'no drift'}: ${v.drifted_features}/${v.features.length} features drifted`].join('\n');
}

function profileTable(p: StoredProfile): string {
  const head = `${p.name}/${p.version}: ${p.status === 'ready' ? `${p.kind === 'training' ? 'training profile' : 'first-served-window profile'} from ${p.source}${p.rows !== null ? `, ${p.rows} rows` : ''}` : `no profile (${p.status}${p.message ? `: ${p.message}` : ''})`}`;
  if (!p.profile) return head;
  const rows = Object.entries(p.profile.features).map(([feature, f]) => ({ feature, f }));
  return [
    head,
    formatTable(rows, [
      { header: 'feature', get: (r) => r.feature },
      { header: 'kind', get: (r) => r.f.kind },
      { header: 'count', get: (r) => r.f.count, align: 'right' },
      { header: 'missing', get: (r) => r.f.missing, align: 'right' },
      { header: 'mean', get: (r) => (r.f.kind === 'numeric' ? r.f.mean : null), align: 'right' },
      { header: 'std', get: (r) => (r.f.kind === 'numeric' ? r.f.std : null), align: 'right' },
      { header: 'min', get: (r) => (r.f.kind === 'numeric' ? r.f.min : null), align: 'right' },
      { header: 'max', get: (r) => (r.f.kind === 'numeric' ? r.f.max : null), align: 'right' },
    ]),
  ].join('\n');
}
