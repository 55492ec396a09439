import type { Command } from 'commander';
import type { ReportView } from '../../api/v1/contract-report';
import { CliError, emit, fmtTime } from '../output';
import { backend } from './serving';

/** The report as people read it: each figure, then the line saying how it is computed. */
export function reportText(r: ReportView): string {
  const width = Math.max(...r.figures.map((f) => f.title.length));
  return [
    `MLOps Studio report: ${fmtTime(r.from)} to ${fmtTime(r.to)} UTC (${Math.round(r.days * 10) / 10} days)`,
    '',
    ...r.figures.flatMap((f) => [`${f.title.padEnd(width)}  ${f.text}`, `${''.padEnd(width)}  how: ${f.how}`]),
  ].join('\n');
}

/** `mlops report [--since 30d] [--json]`: the success metrics of the running backend's store. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('success metrics measured live: deployments, tracking, A/B tests, retrains, drift to fix, rollbacks, detection')
    .option('--since <duration>', 'the window back from now: 12h, 30d, 8w', '30d')
    .option('--json', 'print JSON')
    .action(async (o: { since: string; json?: boolean }) => {
      if (!/^[1-9][0-9]{0,5}[hdw]$/.test(o.since)) throw new CliError(`--since takes a duration such as 12h, 30d or 8w, not '${o.since}'`, 2);
      const r = await backend<ReportView>(program.opts<{ home: string }>().home, 'GET', `/api/v1/report?since=${o.since}`);
      emit(o.json ?? false, r, () => reportText(r));
    });
}
