import { isActive, type JobItem } from './label';

/**
 * Which jobs ended since the last look: a job seen queued or running that is now finished, failed or cancelled, or
 * one first seen already ended that was created after the watch began (it ran between two looks). The first look
 * only learns what exists: jobs that ended before it are not news.
 */
export class JobEndWatcher {
  private readonly seen = new Map<string, string>();
  private primed = false;

  constructor(private readonly since: number) {}

  update(jobs: readonly JobItem[]): JobItem[] {
    const ended: JobItem[] = [];
    for (const j of jobs) {
      const before = this.seen.get(j.job_id);
      this.seen.set(j.job_id, j.status);
      if (!this.primed || isActive(j.status)) continue;
      if (before === undefined ? (j.created_at ?? 0) >= this.since : isActive(before)) ended.push(j);
    }
    this.primed = true;
    return ended;
  }
}
