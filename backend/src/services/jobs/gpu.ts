import { loadExeca } from './execa';

/**
 * The GPUs this backend hands out, by device id. Admission gives a job only free devices unless sharing is
 * allowed; an empty inventory means "unknown" for Docker (the daemon decides, and says so at once) and
 * "none" for the local launcher.
 */
export class GpuPool {
  private readonly busy = new Map<string, number>();

  constructor(
    readonly ids: readonly string[],
    private readonly allowSharing = false,
  ) {}

  /** Device ids for a request, or null when they are not free now. `want` -1 means all. */
  take(want: number, ids?: string[]): string[] | null {
    const pick = ids?.length ? ids : want < 0 ? [...this.ids] : this.ids.filter((id) => this.allowSharing || !this.busy.get(id)).slice(0, want);
    if (!ids?.length && want >= 0 && pick.length < want) return null;
    if (!this.allowSharing && pick.some((id) => this.busy.get(id))) return null;
    for (const id of pick) this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
    return pick;
  }

  give(ids: readonly string[]): void {
    for (const id of ids) {
      const n = (this.busy.get(id) ?? 0) - 1;
      if (n > 0) this.busy.set(id, n);
      else this.busy.delete(id);
    }
  }

  /** Why a request can never be met here, or null when it can (now or later). */
  impossible(want: number, ids?: string[]): string | null {
    if (ids?.length) {
      const unknown = ids.filter((id) => !this.ids.includes(id));
      return unknown.length ? `GPU ${unknown.join(', ')} does not exist here (devices: ${this.ids.join(', ') || 'none'})` : null;
    }
    if (want > this.ids.length) return `the job asks for ${want} GPU(s); this host has ${this.ids.length}`;
    return null;
  }
}

/** GPU ids from MLOPS_GPUS ("0,1"), else from nvidia-smi; none when neither says anything. */
export async function detectGpus(env = process.env): Promise<string[]> {
  if (env.MLOPS_GPUS !== undefined) return env.MLOPS_GPUS.split(',').map((s) => s.trim()).filter(Boolean);
  const { execa } = await loadExeca();
  const r = await execa('nvidia-smi', ['--query-gpu=index', '--format=csv,noheader'], { reject: false, timeout: 5000 }).catch(() => null);
  if (!r || r.exitCode !== 0) return [];
  return String(r.stdout).split('\n').map((s) => s.trim()).filter(Boolean);
}
