import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { ArtifactStore } from '../../artifacts/store';
import { artifactPathOf } from '../../artifacts/store';
import type { MlflowRemote } from './client';
import type { SyncRepo } from './repository';
import type { Report } from './report';
import { trimTrailingSlashes } from '../../util/strings';

/**
 * The path below the remote's proxied artifact root for an artifact URI the remote handed out, or null when the
 * remote keeps artifacts where REST cannot reach them (s3:, gs:, file:, ...).
 */
export function remoteArtifactPath(uri: string): string | null {
  const direct = artifactPathOf(uri);
  if (direct !== null) return direct;
  const m = /^https?:\/\/[^/]+(?:\/.*)?\/api\/2\.0\/mlflow-artifacts\/artifacts\/(.*)$/.exec(uri);
  return m ? trimTrailingSlashes(decodeURI(m[1]!)) : null;
}

/**
 * Uploads every file below the local artifact folder `localRel` to `remoteRel`, skipping files whose size and
 * modification time match what was last uploaded. Files are streamed, never held in memory.
 */
export async function uploadTree(
  store: ArtifactStore,
  client: MlflowRemote,
  repo: SyncRepo,
  remote: string,
  localRel: string,
  remoteRel: string,
  report: Report,
  onBytes: (n: number) => void,
): Promise<number> {
  let sent = 0;
  for (const f of await store.listFiles(localRel)) {
    const abs = store.resolve(`${localRel}/${f.path}`);
    const st = await stat(abs);
    const key = `${localRel}/${f.path}`;
    const prev = repo.artifactState(remote, key);
    if (prev && prev.size === st.size && prev.mtime_ms === Math.floor(st.mtimeMs)) continue;
    await client.putArtifact(`${remoteRel}/${f.path}`, { stream: () => createReadStream(abs), length: st.size });
    repo.setArtifactState(remote, key, st.size, Math.floor(st.mtimeMs));
    report.summary.artifactFiles++;
    report.summary.artifactBytes += st.size;
    report.summary.writes++;
    onBytes(st.size);
    sent++;
  }
  return sent;
}

/** Downloads every file below `remoteRel` into the local artifact folder `localRel`, streaming each one. */
export async function downloadTree(store: ArtifactStore, client: MlflowRemote, remoteRel: string, localRel: string, report: Report, onBytes: (n: number) => void): Promise<number> {
  let files = 0;
  const walk = async (sub: string): Promise<void> => {
    for (const e of await client.listArtifacts(sub ? `${remoteRel}/${sub}` : remoteRel)) {
      const name = e.path.split('/').pop()!;
      const p = sub ? `${sub}/${name}` : name;
      if (e.is_dir) {
        await walk(p);
        continue;
      }
      await client.downloadArtifact(`${remoteRel}/${p}`, async (res) => {
        let n = 0;
        const count = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            n += chunk.length;
            cb(null, chunk);
          },
        });
        res.on('error', (err) => count.destroy(err));
        res.on('aborted', () => count.destroy(Object.assign(new Error('download aborted'), { code: 'ECONNRESET' })));
        await store.write(`${localRel}/${p}`, res.pipe(count));
        report.summary.artifactFiles++;
        report.summary.artifactBytes += n;
        onBytes(n);
      });
      files++;
    }
  };
  await walk('');
  return files;
}
