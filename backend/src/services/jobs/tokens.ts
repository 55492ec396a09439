import { createHash, randomBytes } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../../store/db';
import { JOB_TOKEN_PREFIX } from '../../util/mask';

/** What a job token stands for: which job, in which experiment. Revoked tokens are still found (to say so). */
export interface JobScope {
  hash: string;
  jobId: string;
  experimentId: string;
  revoked: boolean;
}

export type GrantKind = 'run' | 'model';

/**
 * sha256 is enough here: the tokens are 256 random bits, so there is nothing to brute-force that a slow
 * password hash would protect; a lookup by hash is one primary-key read per request.
 */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Per-job bearer tokens. A job gets one when an attempt starts (instead of the backend's own token) and it is
 * revoked when the attempt ends; only the hash is stored, so a stolen database holds no live credential.
 */
export class JobTokens {
  private readonly statements = new Map<string, Statement>();
  constructor(private readonly db: Db) {}

  private q(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  /** A new token for the job's attempt, allowed to write `runId`; returned once, stored only as its hash. */
  issue(jobId: string, experimentId: string, runId: string | null): string {
    const token = JOB_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const hash = tokenHash(token);
    this.db.transaction(() => {
      this.q('INSERT INTO job_tokens (token_hash, job_id, experiment_id, created_at) VALUES (?, ?, ?, ?)').run(hash, jobId, experimentId, Date.now());
      if (runId) this.grant(hash, 'run', runId);
    })();
    return token;
  }

  resolve(token: string): JobScope | null {
    if (!token.startsWith(JOB_TOKEN_PREFIX)) return null;
    const hash = tokenHash(token);
    const row = this.q('SELECT job_id, experiment_id, revoked_at FROM job_tokens WHERE token_hash = ?').get(hash) as { job_id: string; experiment_id: string; revoked_at: number | null } | undefined;
    return row ? { hash, jobId: row.job_id, experimentId: row.experiment_id, revoked: row.revoked_at !== null } : null;
  }

  grant(hash: string, kind: GrantKind, id: string): void {
    this.q('INSERT OR IGNORE INTO job_token_grants (token_hash, kind, object_id) VALUES (?, ?, ?)').run(hash, kind, id);
  }

  owns(hash: string, kind: GrantKind, id: string): boolean {
    return this.q('SELECT 1 FROM job_token_grants WHERE token_hash = ? AND kind = ? AND object_id = ?').get(hash, kind, id) !== undefined;
  }

  /** Ends every live token of the job (its attempt ended or the job is being retried). */
  revokeJob(jobId: string): void {
    this.q('UPDATE job_tokens SET revoked_at = ? WHERE job_id = ? AND revoked_at IS NULL').run(Date.now(), jobId);
  }

  /** After a restart: tokens of jobs that are not running any more (local jobs, containers gone) end. */
  revokeEnded(): void {
    this.q("UPDATE job_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND job_id NOT IN (SELECT job_id FROM jobs WHERE status = 'running')").run(Date.now());
  }
}
