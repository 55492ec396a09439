import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { CliError, emit, fmtTime, formatTable } from '../output';
import { withStore } from '../with-store';
import { connectBackend, followJobLogs } from '../../services/jobs/client';
import { JobRepo } from '../../services/jobs/repository';
import type { Job, JobStatus } from '../../services/jobs/types';
import { maskEnv } from '../../services/jobs/spec';
import { ApiError } from '../../util/errors';

const STATUSES = ['queued', 'running', 'finished', 'failed', 'cancelled'];

const duration = (j: Job): string => {
  if (!j.started_at) return '';
  const s = ((j.ended_at ?? Date.now()) - j.started_at) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
};

/** Reads the store directly: listing and reading finished logs need no backend. */
function findJob(repo: JobRepo, id: string): Job {
  try {
    return repo.find(id);
  } catch (err) {
    throw err instanceof ApiError ? new CliError(err.message) : err;
  }
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('training jobs: list, show, logs, cancel');
  jobs
    .command('list')
    .description('jobs, newest first')
    .option('--status <s>', `only jobs in this state (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'JSON output')
    .action(async (o: { status?: string; limit: string; json?: boolean }) => {
      if (o.status && !STATUSES.includes(o.status)) throw new CliError(`--status must be one of ${STATUSES.join(', ')}`, 2);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit expects a positive integer', 2);
      const list = await withStore(program, (ctx) => new JobRepo(ctx.db).list({ ...(o.status ? { status: o.status as JobStatus } : {}), limit }));
      emit(o.json ?? false, list.map((j) => ({ ...j, spec: { ...j.spec, env: maskEnv(j.spec.env) } })), () =>
        formatTable(list, [
          { header: 'JOB', get: (j) => j.job_id.slice(0, 12) },
          { header: 'STATUS', get: (j) => j.status },
          { header: 'REASON', get: (j) => (j.reason && j.reason !== 'exit' ? j.reason : '') },
          { header: 'EXIT', get: (j) => j.exit_code, align: 'right' },
          { header: 'LAUNCHER', get: (j) => j.launcher },
          { header: 'IMAGE/COMMAND', get: (j) => (j.spec.image ?? j.spec.command.join(' ')).slice(0, 40) },
          { header: 'CREATED', get: (j) => fmtTime(j.created_at) },
          { header: 'TIME', get: duration, align: 'right' },
          { header: 'RUN', get: (j) => j.run_id?.slice(0, 12) },
        ]),
      );
    });
  jobs
    .command('show <job>')
    .description('one job as JSON (id or unique prefix)')
    .action(async (id: string) => {
      const j = await withStore(program, (ctx) => findJob(new JobRepo(ctx.db), id));
      emit(true, { ...j, spec: { ...j.spec, env: maskEnv(j.spec.env) } }, () => '');
    });
  jobs
    .command('logs <job>')
    .description("a job's output; -f follows it live until the job ends")
    .option('-f, --follow', 'stream new output as it arrives')
    .action(async (id: string, o: { follow?: boolean }) => {
      const job = await withStore(program, (ctx) => findJob(new JobRepo(ctx.db), id));
      const live = job.status === 'queued' || job.status === 'running';
      if (!o.follow || !live) {
        process.stdout.write(await readFile(job.log_file, 'utf8').catch(() => ''));
        return;
      }
      const c = await connectBackend(program.opts<{ home: string }>().home);
      try {
        await followJobLogs(c, job.job_id, (chunk) => (chunk.stream === 'stderr' || chunk.stream === 'system' ? process.stderr : process.stdout).write(chunk.text));
      } finally {
        await c.close();
      }
    });
  jobs
    .command('cancel <job>')
    .description('stop a job: SIGTERM, then SIGKILL after its grace period; a queued job ends at once')
    .action(async (id: string) => {
      const c = await connectBackend(program.opts<{ home: string }>().home);
      try {
        const job = await c.call<Job>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/cancel`).catch((err: Error) => {
          throw new CliError(err.message);
        });
        let now = job;
        // A backend started just for this command must see the job end before it stops, or the end goes unrecorded.
        for (let i = 0; c.embedded && now.status === 'running' && i < (job.spec.stopGraceS + 10) * 10; i++) {
          await new Promise((r) => setTimeout(r, 100));
          now = await c.call<Job>('GET', `/api/v1/jobs/${job.job_id}`);
        }
        process.stderr.write(`mlops: job ${now.job_id} ${now.status === 'running' ? 'is stopping' : now.status}\n`);
      } finally {
        await c.close();
      }
    });
}
