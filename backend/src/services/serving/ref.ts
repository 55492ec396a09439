import { invalid } from '../../util/errors';

/** A registered model version: `NAME/3`, `NAME@alias`, or MLflow's `models:/NAME/3` / `models:/NAME@alias`. */
export interface ModelRef {
  readonly name: string;
  readonly version?: number;
  readonly alias?: string;
}

export function parseModelRef(text: string): ModelRef {
  const s = text.trim().replace(/^models:\//, '');
  const at = s.lastIndexOf('@');
  if (at > 0) {
    const name = s.slice(0, at);
    const alias = s.slice(at + 1);
    if (/^[A-Za-z0-9_-]+$/.test(alias)) return { name, alias };
  }
  const slash = s.lastIndexOf('/');
  if (slash > 0) {
    const v = s.slice(slash + 1);
    if (/^[1-9][0-9]*$/.test(v)) return { name: s.slice(0, slash), version: Number(v) };
  }
  throw invalid(`Invalid model reference '${text}': expected NAME/VERSION or NAME@ALIAS (e.g. iris/3, iris@champion)`);
}

export const formatRef = (r: ModelRef): string => (r.alias ? `${r.name}@${r.alias}` : `${r.name}/${r.version}`);
