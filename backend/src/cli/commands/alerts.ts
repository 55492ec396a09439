import type { Command } from 'commander';
import type { DeliveryList, DeliveryView, WebhookView } from '../../api/v1/contract-alerts';
import { CliError, emit, fmtTime, formatTable } from '../output';
import { backend } from './serving';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * `mlops alerts webhook add|list|remove|test` and `mlops alerts deliveries`: where incidents are sent (Alertmanager's
 * webhook JSON, HMAC-signed) and what became of each notification. A signing secret never goes on the command line
 * (other users can read it in the process list): name the backend's environment variable, or pipe it in.
 */
export function registerAlerts(program: Command): void {
  const home = (): string => program.opts<{ home: string }>().home;
  const alerts = program.command('alerts').description('alert channels: webhooks that receive incidents in Alertmanager format');
  const webhook = alerts.command('webhook').description('webhook receivers');
  webhook
    .command('add')
    .argument('<name>')
    .argument('<url>', 'http:// or https:// URL that receives POSTs')
    .option('--secret-env <VAR>', "sign with HMAC-SHA256 using the backend's environment variable VAR")
    .option('--secret-stdin', 'sign with a secret read from standard input (stored in the store, masked everywhere)')
    .option('--group-wait <s>', "seconds a new group waits before its first notification (Alertmanager's 30)")
    .option('--group-interval <s>', 'seconds between notifications of a changed group (300)')
    .option('--repeat-interval <s>', 'seconds before a still-firing group is sent again (14400)')
    .action(async (name: string, url: string, o: { secretEnv?: string; secretStdin?: boolean; groupWait?: string; groupInterval?: string; repeatInterval?: string }) => {
      const secs = (flag: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new CliError(`${flag} must be a number of seconds, got '${v}'`, 2);
        return n;
      };
      const body = {
        name,
        url,
        ...(o.secretEnv ? { secret_env: o.secretEnv } : {}),
        ...(o.secretStdin ? { secret: await readStdin() } : {}),
        ...(o.groupWait !== undefined ? { group_wait_s: secs('--group-wait', o.groupWait) } : {}),
        ...(o.groupInterval !== undefined ? { group_interval_s: secs('--group-interval', o.groupInterval) } : {}),
        ...(o.repeatInterval !== undefined ? { repeat_interval_s: secs('--repeat-interval', o.repeatInterval) } : {}),
      };
      const w = await backend<WebhookView>(home(), 'POST', '/api/v1/alerts/webhooks', body);
      process.stdout.write(`webhook ${w.name} → ${w.url} (${w.signed ? 'signed' : 'unsigned'})\n`);
    });
  webhook
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const r = await backend<{ webhooks: WebhookView[] }>(home(), 'GET', '/api/v1/alerts/webhooks');
      emit(o.json ?? false, r, () =>
        r.webhooks.length
          ? formatTable(r.webhooks, [
              { header: 'name', get: (w) => w.name },
              { header: 'url', get: (w) => w.url },
              { header: 'signed', get: (w) => (w.signed ? (w.secret_env ? `yes ($${w.secret_env})` : 'yes') : 'no') },
              { header: 'wait/interval/repeat', get: (w) => `${w.group_wait_s}s/${w.group_interval_s}s/${w.repeat_interval_s}s` },
            ])
          : 'no webhooks (add one: mlops alerts webhook add NAME URL)',
      );
    });
  webhook
    .command('remove')
    .argument('<name>')
    .action(async (name: string) => {
      await backend(home(), 'DELETE', `/api/v1/alerts/webhooks/${encodeURIComponent(name)}`);
      process.stdout.write(`removed webhook ${name}\n`);
    });
  webhook
    .command('test')
    .argument('<name>')
    .description('send a test notification (alertname MLOpsTest) now')
    .action(async (name: string) => {
      const d = await backend<DeliveryView>(home(), 'POST', `/api/v1/alerts/webhooks/${encodeURIComponent(name)}/test`);
      process.stdout.write(`${d.status === 'delivered' ? 'delivered' : `not delivered (${d.last_error ?? d.status}${d.status === 'pending' ? ', will retry' : ''})`}: HTTP ${d.last_http_status ?? '-'}\n`);
      if (d.status === 'failed') process.exitCode = 1;
    });
  alerts
    .command('deliveries')
    .option('--receiver <name>')
    .option('--limit <n>', 'newest first', '20')
    .option('--json', 'print JSON')
    .action(async (o: { receiver?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ limit: o.limit, ...(o.receiver ? { receiver: o.receiver } : {}) });
      const r = await backend<DeliveryList>(home(), 'GET', `/api/v1/alerts/deliveries?${q}`);
      emit(o.json ?? false, r, () =>
        r.deliveries.length
          ? formatTable(r.deliveries, [
              { header: 'id', get: (d) => d.id },
              { header: 'receiver', get: (d) => d.receiver },
              { header: 'created', get: (d) => fmtTime(d.created_at) },
              { header: 'alerts', get: (d) => `${d.alerts} ${d.alert_status}` },
              { header: 'status', get: (d) => d.status },
              { header: 'attempts', get: (d) => `${d.attempts} (${d.tries.map((x) => x.http_status ?? x.error).join(', ')})` },
              { header: 'group', get: (d) => d.group_key },
            ])
          : 'no deliveries yet',
      );
    });
}
