/** The JSON shapes of MLflow's REST API that sync reads and writes (proto field names, snake_case). */

import type { KV } from '../../store/types';

export type { KV };

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  tags?: KV[];
}

/** A metric point; `value` is a number or one of "NaN", "Infinity", "-Infinity" (protobuf JSON). */
export interface Metric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  user_id?: string;
  status?: string;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage?: string;
}

export interface DatasetInput {
  tags?: KV[];
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
}

export interface Run {
  info: RunInfo;
  data?: { metrics?: Metric[]; params?: KV[]; tags?: KV[] };
  inputs?: { dataset_inputs?: DatasetInput[]; model_inputs?: { model_id: string }[] };
  outputs?: { model_outputs?: { model_id: string; step?: number }[] };
}

export interface LoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    artifact_uri: string;
    status?: string;
    model_type?: string;
    source_run_id?: string;
    creation_timestamp_ms?: number;
    tags?: KV[];
  };
  data?: { params?: KV[]; metrics?: Metric[] };
}

export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  run_link?: string;
  status?: string;
  status_message?: string;
  tags?: KV[];
  aliases?: string[];
  model_id?: string;
}

export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  tags?: KV[];
  aliases?: { alias: string; version: string }[];
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** Protobuf JSON for a double: NaN and ±Infinity travel as strings. */
export function wireValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export function numberOf(v: number | string | undefined): number {
  if (v === undefined) return 0;
  return typeof v === 'number' ? v : Number(v);
}
