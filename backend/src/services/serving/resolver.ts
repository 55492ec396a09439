import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoreContext } from '../../context';
import { artifactPathOf } from '../../artifacts/store';
import { invalid, notFound } from '../../util/errors';
import { formatRef, type ModelRef } from './ref';
import { parseMlModel, type MlModel } from './signature';

/** A registered model version, found on disk, ready to load. */
export interface ResolvedModel {
  readonly name: string;
  readonly version: number;
  /** Absolute folder of the model version's artifacts. */
  readonly dir: string;
  /** Artifact path of that folder (relative to the artifact root), for the edge bundle's metadata. */
  readonly artifactPath: string;
  readonly onnxFile: string;
  readonly onnxBytes: number;
  readonly mlmodel: MlModel | null;
  readonly mlmodelText: string | null;
  readonly description: string | null;
  readonly runId: string | null;
}

/** Finds a model version's ONNX file: the registry in production, anything in tests that need no registry. */
export interface ModelResolver {
  resolve(ref: ModelRef): Promise<ResolvedModel>;
}

/**
 * Resolves through the registry: alias → version → storage_location (or source) → artifact folder.
 */
export class RegistryResolver implements ModelResolver {
  constructor(private readonly ctx: Pick<CoreContext, 'registry' | 'artifacts'>) {}

  async resolve(ref: ModelRef): Promise<ResolvedModel> {
    const mv = this.ctx.registry.resolveRef(formatRef(ref));
    const label = `${mv.name}/${mv.version}`;
    if (mv.status !== 'READY') throw invalid(`Model version ${label} is ${mv.status}, not READY`);
    const uri = mv.storage_location ?? mv.source;
    const rel = artifactPathOf(uri);
    if (rel === null) throw invalid(`Model version ${label} lives at '${uri}'; only mlflow-artifacts:/ locations can be served`);
    const found = await locateModel(this.ctx.artifacts.resolve(rel), label);
    return { ...found, name: mv.name, version: Number(mv.version), artifactPath: rel, description: mv.description ?? null, runId: mv.run_id ?? null };
  }
}

/** Reads MLmodel (if any) and picks the ONNX file: the onnx flavour's `data`, else the only *.onnx file. */
export async function locateModel(dir: string, label: string): Promise<Pick<ResolvedModel, 'dir' | 'onnxFile' | 'onnxBytes' | 'mlmodel' | 'mlmodelText'>> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw notFound(`Artifacts of model version ${label} are missing (${dir})`);
  const mlmodelText = await readFile(join(dir, 'MLmodel'), 'utf8').catch(() => null);
  let mlmodel: MlModel | null = null;
  if (mlmodelText !== null) {
    try {
      mlmodel = parseMlModel(mlmodelText);
    } catch (err) {
      throw invalid(`Model version ${label} has an unreadable MLmodel file: ${(err as Error).message}`);
    }
  }
  let onnxFile = mlmodel?.onnxFile ?? null;
  if (onnxFile === null) {
    const onnxFiles = (await readdir(dir)).filter((n) => n.endsWith('.onnx'));
    if (onnxFiles.length !== 1) {
      const flavors = mlmodel ? ` (flavours: ${mlmodel.flavors.join(', ')})` : '';
      throw invalid(
        onnxFiles.length === 0
          ? `Model version ${label} has no ONNX file${flavors}; convert it (e.g. skl2onnx) and log it with mlflow.onnx.log_model`
          : `Model version ${label} has several ONNX files (${onnxFiles.join(', ')}) and no onnx flavour naming one`,
      );
    }
    onnxFile = onnxFiles[0]!;
  }
  if (onnxFile.includes('..') || onnxFile.startsWith('/')) throw invalid(`Model version ${label} names an ONNX file outside its folder: '${onnxFile}'`);
  const fst = await stat(join(dir, onnxFile)).catch(() => null);
  if (!fst?.isFile()) throw invalid(`Model version ${label}: its ONNX file '${onnxFile}' is missing`);
  return { dir, onnxFile, onnxBytes: fst.size, mlmodel, mlmodelText };
}
