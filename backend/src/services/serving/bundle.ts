import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../util/errors';
import { LoadedModel } from './model';
import type { ResolvedModel } from './resolver';

export const DEFAULT_MAX_BUNDLE_BYTES = 5 * 1024 ** 3;

export interface BundleResult {
  dir: string;
  files: { path: string; bytes: number; sha256: string }[];
  totalBytes: number;
}

/**
 * An edge bundle: the ONNX file (and its external-weight files), the MLmodel signature, metadata, a model card
 * and SHA256SUMS, everything a device needs to run the model with any ONNX runtime and to check it arrived whole.
 * The model is loaded once first, so a broken model is refused here rather than on the device.
 */
export async function exportBundle(resolved: ResolvedModel, out: string, maxBytes = DEFAULT_MAX_BUNDLE_BYTES): Promise<BundleResult> {
  const label = `${resolved.name}/${resolved.version}`;
  const siblings = (await readdir(resolved.dir)).filter((n) => n !== resolved.onnxFile && /\.(onnx_data|data|bin)$/.test(n));
  const payload = [resolved.onnxFile, ...siblings];
  let total = 0;
  for (const f of payload) total += (await stat(join(resolved.dir, f))).size;
  if (total > maxBytes) throw invalid(`Model ${label} is ${fmtBytes(total)}; the bundle limit is ${fmtBytes(maxBytes)} (raise it with --max-size)`);
  const model = await LoadedModel.load(resolved);
  const io = { inputs: model.plan.inputs, features: model.featureNames, output: model.outputName };
  await model.dispose();
  await mkdir(out, { recursive: true });
  const existing = await readdir(out);
  if (existing.length > 0) throw invalid(`Output folder '${out}' is not empty`);
  for (const f of payload) await copyFile(join(resolved.dir, f), join(out, f));
  if (resolved.mlmodelText !== null) await writeFile(join(out, 'MLmodel'), resolved.mlmodelText);
  const signature = { inputs: resolved.mlmodel?.inputs ?? null, outputs: resolved.mlmodel?.outputs ?? null, onnx: io };
  await writeFile(join(out, 'signature.json'), JSON.stringify(signature, null, 2) + '\n');
  const metadata = {
    name: resolved.name,
    version: resolved.version,
    run_id: resolved.runId,
    source: `mlflow-artifacts:/${resolved.artifactPath}`,
    onnx_file: resolved.onnxFile,
    exported_at: new Date().toISOString(),
    exported_by: 'mlops-studio',
  };
  await writeFile(join(out, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  await writeFile(join(out, 'README.md'), modelCard(resolved, io));
  const files: BundleResult['files'] = [];
  for (const f of (await readdir(out)).sort()) {
    const bytes = (await stat(join(out, f))).size;
    files.push({ path: f, bytes, sha256: await sha256(join(out, f)) });
  }
  await writeFile(join(out, 'SHA256SUMS'), files.map((f) => `${f.sha256}  ${f.path}`).join('\n') + '\n');
  return { dir: out, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0) };
}

function modelCard(r: ResolvedModel, io: { features: readonly string[]; output: string }): string {
  return [
    `# ${r.name} version ${r.version}`,
    '',
    r.description ?? 'No description was registered for this version.',
    '',
    '## Inputs',
    '',
    ...io.features.map((f) => `- \`${f}\``),
    '',
    `## Output`,
    '',
    `\`${io.output}\` (the first output of \`${r.onnxFile}\`).`,
    '',
    '## Run it',
    '',
    `Load \`${r.onnxFile}\` with any ONNX runtime (onnxruntime, onnxruntime-node, onnxruntime-web). Check the files`,
    'first with `sha256sum -c SHA256SUMS`.',
    '',
    `Source run: ${r.runId ?? 'unknown'}.`,
    '',
  ].join('\n');
}

function sha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => done(h.digest('hex')))
      .on('error', fail);
  });
}

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$/i.exec(text);
  if (!m) throw invalid(`Invalid size '${text}': use e.g. 500MB, 5GB or a number of bytes`);
  const unit = (m[2] ?? '').toLowerCase().replace(/i?b$/, '');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit];
  if (mult === undefined) throw invalid(`Invalid size unit in '${text}'`);
  return Math.round(Number(m[1]) * mult);
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(1))} ${units[i]}`;
}
