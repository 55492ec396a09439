import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, emit, formatTable } from '../output';
import { connectBackend } from '../../services/jobs/client';
import { outcome, type PipelineRun, type StepRecord } from '../../services/pipelines/repository';
import { keyValues } from './train';

const MARK: Record<string, string> = { finished: '✓', cached: '↺', skipped: '–', failed: '✗', cancelled: '⊘', running: '…', pending: ' ' };

const stepTable = (steps: StepRecord[]): string =>
  formatTable(steps, [
    { header: '', get: (s) => MARK[s.status] ?? '' },
    { header: 'STEP', get: (s) => s.step },
    { header: 'STATUS', get: (s) => s.status },
    { header: 'TIME', get: (s) => (s.started_at && s.ended_at ? `${((s.ended_at - s.started_at) / 1000).toFixed(1)}s` : ''), align: 'right' },
    { header: 'RUN', get: (s) => s.run_id?.slice(0, 12) },
    { header: 'MESSAGE', get: (s) => s.message ?? '' },
  ]);

export function registerPipeline(program: Command): void {
  const p = program.command('pipeline').description('pipelines of steps from mlops.yaml');
  p.command('run [file]')
    .description('run a pipeline (default ./mlops.yaml); prints each step as it ends; exit 1 when a step failed')
    .option('--param <k=v>', 'override a pipeline parameter (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--local', 'run every step as a local process')
    .option('--docker', 'run every step in Docker')
    .option('--json', 'print the pipeline run as JSON at the end')
    .action(async (fileArg: string | undefined, o: { param: string[]; local?: boolean; docker?: boolean; json?: boolean }) => {
      const file = resolve(fileArg ?? 'mlops.yaml');
      if (!existsSync(file)) throw new CliError(`no pipeline file at ${file}`, fileArg ? 1 : 2);
      if (o.local && o.docker) throw new CliError('use only one of --local and --docker', 2);
      const c = await connectBackend(program.opts<{ home: string }>().home);
      try {
        const body = { file, params: keyValues(o.param, '--param'), ...(o.local ? { launcher: 'local' } : o.docker ? { launcher: 'docker' } : {}) };
        let run = await c.call<PipelineRun>('POST', '/api/v1/pipelines/runs', body).catch((err: Error) => {
          throw new CliError(err.message);
        });
        process.stderr.write(`mlops: pipeline ${run.name} run ${run.pipeline_run_id} (MLflow run ${run.run_id})\n`);
        const id = run.pipeline_run_id;
        const onInt = () => {
          process.stderr.write(`\nmlops: cancelling pipeline run ${id}...\n`);
          c.call('POST', `/api/v1/pipelines/runs/${id}/cancel`, { reason: 'interrupted (Ctrl-C) in mlops pipeline run' }).catch(() => undefined);
        };
        process.on('SIGINT', onInt);
        const reported = new Set<string>();
        for (;;) {
          run = await c.call<PipelineRun>('GET', `/api/v1/pipelines/runs/${run.pipeline_run_id}`);
          for (const s of run.steps) {
            const key = `${s.step}:${s.status}`;
            if (reported.has(key) || s.status === 'pending') continue;
            reported.add(key);
            process.stderr.write(`${MARK[s.status] ?? ''} ${s.step}: ${s.status}${s.message ? ` — ${s.message}` : ''}\n`);
          }
          if (run.status !== 'running') break;
          await new Promise((r) => setTimeout(r, 300));
        }
        process.off('SIGINT', onInt);
        emit(o.json ?? false, run, () => stepTable(run.steps));
        if (run.status === 'cancelled') throw new CliError(`pipeline ${run.name} was ${run.message ?? 'cancelled'}`);
        if (run.status !== 'finished') throw new CliError(`pipeline ${run.name} failed: ${run.message}`);
      } finally {
        await c.close();
      }
    });
  p.command('cancel <run>')
    .description('cancel a running pipeline run (id or unique prefix): running steps are stopped (SIGTERM, then SIGKILL), steps not started never start')
    .option('--reason <text>', 'why (kept with the run and in the audit log)')
    .option('--json', 'print the pipeline run as JSON once it has ended')
    .action(async (id: string, o: { reason?: string; json?: boolean }) => {
      const c = await connectBackend(program.opts<{ home: string }>().home);
      try {
        let run = await c.call<PipelineRun>('POST', `/api/v1/pipelines/runs/${encodeURIComponent(id)}/cancel`, o.reason ? { reason: o.reason } : {}).catch((err: Error) => {
          throw new CliError(err.message);
        });
        process.stderr.write(`mlops: cancelling pipeline ${run.name} run ${run.pipeline_run_id}...\n`);
        // Steps get their jobs' grace period (10 s by default) to stop; wait a little longer than that for the end.
        for (let i = 0; run.status === 'running' && i < 600; i++) {
          await new Promise((r) => setTimeout(r, 100));
          run = await c.call<PipelineRun>('GET', `/api/v1/pipelines/runs/${run.pipeline_run_id}`);
        }
        emit(o.json ?? false, run, () => stepTable(run.steps));
        process.stderr.write(`mlops: pipeline run ${run.pipeline_run_id} ${run.status === 'running' ? 'is still stopping' : outcome(run)}\n`);
      } finally {
        await c.close();
      }
    });
}
