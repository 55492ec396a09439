import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { withStore } from '../with-store';
import { emit, fmtTime, formatTable, CliError } from '../output';
import { wrap } from './tracking';
import type { RegisteredModel } from '../../store/registry';
import { registerCompareCommand, registerGateCommands } from './gates';

export function registerRegistry(program: Command): void {
  const models = program.command('models').description('registered models: list, versions, alias');
  models
    .command('list')
    .description('list registered models with their aliases')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        const all: RegisteredModel[] = [];
        let token: string | undefined;
        do {
          const page = ctx.registry.searchModels({ maxResults: 1000, pageToken: token });
          all.push(...page.items);
          token = page.next_page_token;
        } while (token);
        emit(o.json ?? false, all, () =>
          formatTable(all, [
            { header: 'NAME', get: (m) => m.name },
            { header: 'LATEST', get: (m) => Math.max(0, ...(m.latest_versions ?? []).map((v) => Number(v.version))) || '' },
            { header: 'ALIASES', get: (m) => (m.aliases ?? []).map((a) => `@${a.alias}=v${a.version}`).join(' ') },
            { header: 'UPDATED', get: (m) => fmtTime(m.last_updated_timestamp) },
          ]),
        );
      }),
    );
  models
    .command('versions <name>')
    .description('versions of a registered model')
    .option('--json', 'print JSON')
    .action((name: string, o: { json?: boolean }) =>
      withStore(program, (ctx) => {
        wrap(() => ctx.registry.getModel(name));
        const items = ctx.registry.searchVersions({ filter: `name = '${name.replace(/'/g, "\\'")}'`, maxResults: 200_000 }).items;
        emit(o.json ?? false, items, () =>
          formatTable(items, [
            { header: 'VERSION', get: (v) => v.version, align: 'right' },
            { header: 'ALIASES', get: (v) => (v.aliases ?? []).map((a) => '@' + a).join(' ') },
            { header: 'STAGE', get: (v) => v.current_stage },
            { header: 'STATUS', get: (v) => v.status },
            { header: 'RUN', get: (v) => v.run_id ?? '' },
            { header: 'SOURCE', get: (v) => v.source },
            { header: 'CREATED', get: (v) => fmtTime(v.creation_timestamp) },
          ]),
        );
      }),
    );
  models
    .command('alias <name> <version> <alias>')
    .description('point ALIAS (e.g. champion) at VERSION; @champion must pass the model\'s promotion gate; the move is written to the audit log')
    .option('--reason <text>', 'why (kept in the audit log; required with --override)')
    .option('--override', "move @champion although the promotion gate fails (needs --reason; audited as alias.gate_override)")
    .option('--json', 'print JSON')
    .action((name: string, version: string, alias: string, o: { reason?: string; override?: boolean; json?: boolean }) =>
      withStore(program, (ctx) => {
        const clean = alias.replace(/^@/, '');
        const move = wrap(() => ctx.gates.setAlias(name, clean, version, { actor: actorName(ctx.defaultActor), reason: o.reason ?? null }, o.override ?? false));
        const v = ctx.registry.versionByAlias(name, clean);
        emit(o.json ?? false, v, () => `${name}@${clean} -> version ${v.version}${move.overridden ? ' (promotion gate overridden)' : ''}`);
      }),
    );
  registerGateCommands(program, models, () => actorName('unknown'));
  registerCompareCommand(program, models, () => actorName('unknown'));

  program
    .command('audit')
    .description('the append-only audit log of registry and deployment actions (newest first)')
    .option('--object <id>', 'object id, e.g. "churn/3" or "churn@champion"')
    .option('--type <type>', 'object type: registered_model, model_version, alias, endpoint, ...')
    .option('--action <action>', 'e.g. alias.move, model_version.create')
    .option('--actor <who>', 'who acted')
    .option('--limit <n>', 'at most this many events', '50')
    .option('--json', 'print JSON')
    .action((o: { object?: string; type?: string; action?: string; actor?: string; limit: string; json?: boolean }) =>
      withStore(program, (ctx) => {
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new CliError(`--limit must be 1..10000, got ${o.limit}`, 2);
        const events = ctx.audit.list({ objectId: o.object, objectType: o.type, action: o.action, actor: o.actor, limit });
        emit(o.json ?? false, events, () =>
          formatTable(events, [
            { header: 'ID', get: (e) => e.id, align: 'right' },
            { header: 'TIME', get: (e) => fmtTime(e.ts) },
            { header: 'ACTOR', get: (e) => e.actor },
            { header: 'ACTION', get: (e) => e.action },
            { header: 'OBJECT', get: (e) => e.object_id },
            { header: 'FROM', get: (e) => brief(e.before) },
            { header: 'TO', get: (e) => brief(e.after) },
            { header: 'REASON', get: (e) => e.reason ?? '' },
          ]),
        );
      }),
    );
}

function brief(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && v && 'version' in v && Object.keys(v).length === 1) return `v${String((v as { version: unknown }).version)}`;
  const s = JSON.stringify(v);
  return s.length > 50 ? s.slice(0, 47) + '...' : s;
}

function actorName(fallback: string): string {
  try {
    return process.env.MLOPS_ACTOR || userInfo().username;
  } catch {
    return fallback;
  }
}
