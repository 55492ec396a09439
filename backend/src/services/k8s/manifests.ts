import { randomBytes } from 'node:crypto';
import { DEFAULT_SECRET, MANAGED_BY, ManifestError, dnsLabel, durationSeconds, mlflowEnv, resources, type Manifest, type ResourceAsk, type SecretRef } from './common';

export interface TrainJobOptions extends ResourceAsk {
  image: string;
  command: string[];
  env?: Record<string, string>;
  params?: Record<string, string>;
  experiment?: string;
  runName?: string;
  timeout?: string;
  retries?: number;
  namespace?: string;
  secret?: SecretRef;
  /** The Job name's last part (default: 5 random characters, like generateName, but `kubectl apply` works). */
  suffix?: string;
}

/** 5 random lowercase alphanumerics: what the API server adds to a generateName. */
export const randomSuffix = (): string => randomBytes(4).readUInt32LE(0).toString(36).padStart(5, '0').slice(0, 5);

/** `mlops train --k8s-manifest`: a batch Job running the training command once, with the MLFLOW_* env from a Secret. */
export function trainJob(o: TrainJobOptions): Manifest {
  if (o.command.length === 0 && !o.image) throw new ManifestError('nothing to run: give --image and a command after --');
  const labels = { ...MANAGED_BY, 'mlops.studio/kind': 'train' };
  const env = [
    ...Object.entries(o.env ?? {}).map(([name, value]) => ({ name, value })),
    ...Object.entries(o.params ?? {}).map(([k, value]) => ({ name: `MLOPS_PARAM_${k.toUpperCase()}`, value })),
    ...mlflowEnv(o.secret ?? DEFAULT_SECRET, o.experiment),
    ...(o.runName ? [{ name: 'MLFLOW_RUN_NAME', value: o.runName }] : []),
  ];
  const res = resources(o);
  const gpu = typeof o.gpus === 'number' && o.gpus > 0;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${dnsLabel(o.experiment ?? 'train', 40)}-train-${o.suffix ?? randomSuffix()}`, ...(o.namespace ? { namespace: o.namespace } : {}), labels },
    spec: {
      backoffLimit: o.retries ?? 0,
      ...(o.timeout ? { activeDeadlineSeconds: durationSeconds(o.timeout) } : {}),
      ttlSecondsAfterFinished: 7 * 86400,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'train', image: o.image, ...(o.command.length ? { command: o.command } : {}), env, ...(res ? { resources: res } : {}) }],
          // GPU nodes are usually tainted so that only pods asking for GPUs land there.
          ...(gpu ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
        },
      },
    },
  };
}

export interface KServeOptions {
  endpoint: string;
  modelName: string;
  modelVersion: number;
  /** Where the cluster finds the model folder (s3://, gs://, pvc://...). */
  storageUri: string;
  canaryPercent?: number;
  namespace?: string;
  minReplicas?: number;
  maxReplicas?: number;
}

/** `mlops export MODEL --format kserve`: an InferenceService on KServe's ONNX runtime, speaking the V2 protocol. */
export function inferenceService(o: KServeOptions): Manifest {
  if (o.canaryPercent !== undefined && (!Number.isInteger(o.canaryPercent) || o.canaryPercent < 0 || o.canaryPercent > 100)) {
    throw new ManifestError(`canary percent must be a whole number 0-100, got ${o.canaryPercent}`);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\/.+/.test(o.storageUri)) throw new ManifestError(`storage URI '${o.storageUri}' is not like s3://bucket/path, gs://..., pvc://claim/path`);
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: dnsLabel(o.endpoint, 45),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      labels: { ...MANAGED_BY },
      annotations: { 'mlops.studio/model': `${o.modelName}/${o.modelVersion}` },
    },
    spec: {
      predictor: {
        ...(o.canaryPercent !== undefined ? { canaryTrafficPercent: o.canaryPercent } : {}),
        minReplicas: o.minReplicas ?? 1,
        ...(o.maxReplicas !== undefined ? { maxReplicas: o.maxReplicas } : {}),
        model: {
          modelFormat: { name: 'onnx' },
          protocolVersion: 'v2',
          storageUri: o.storageUri,
          resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        },
      },
    },
  };
}

export interface AnalysisOptions {
  endpoint: string;
  provider: 'prometheus' | 'web';
  /** Prometheus server address (prometheus) or the backend's base URL (web). */
  address: string;
  maxErrorRate?: number;
  maxP99Ms?: number;
  interval?: string;
  failureLimit?: number;
  namespace?: string;
  /** Name of a Secret key holding the backend's bearer token (web provider). */
  tokenSecret?: { name: string; key: string };
}

/**
 * `mlops export MODEL --format argo-rollouts`: an AnalysisTemplate judging the canary on our own metrics, the
 * same two guardrails the local engine applies (error rate and p99 latency), over the Prometheus series
 * ml_endpoint_requests_total / ml_prediction_latency_seconds, or over the backend's endpoint view (web).
 * The canary's variant id comes in as the `canary` argument (NAME/VERSION).
 */
export function analysisTemplate(o: AnalysisOptions): Manifest {
  const maxErr = o.maxErrorRate ?? 0.05;
  const maxP99 = o.maxP99Ms ?? 100;
  const common = { interval: o.interval ?? '1m', count: 5, failureLimit: o.failureLimit ?? 1 };
  const ep = o.endpoint.replace(/["\\]/g, '');
  const metrics =
    o.provider === 'prometheus'
      ? [
          {
            name: 'error-rate',
            ...common,
            successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] <= ${maxErr}`,
            provider: {
              prometheus: {
                address: o.address,
                query: `sum(rate(ml_endpoint_requests_total{endpoint="${ep}",variant="{{args.canary}}",outcome!="ok"}[5m])) / sum(rate(ml_endpoint_requests_total{endpoint="${ep}",variant="{{args.canary}}"}[5m]))`,
              },
            },
          },
          {
            name: 'p99-latency-ms',
            ...common,
            successCondition: `len(result) == 0 || isNaN(result[0]) || result[0] <= ${maxP99}`,
            provider: {
              prometheus: {
                address: o.address,
                query: `1000 * histogram_quantile(0.99, sum by (le) (rate(ml_prediction_latency_seconds_bucket{model_name="{{args.model-name}}",model_version="{{args.model-version}}"}[5m])))`,
              },
            },
          },
        ]
      : [
          {
            name: 'canary-window',
            ...common,
            successCondition: `result.errorRate <= ${maxErr} && (result.p99Ms == nil || result.p99Ms <= ${maxP99})`,
            provider: {
              web: {
                url: `${o.address.replace(/\/$/, '')}/endpoints/${encodeURIComponent(o.endpoint)}`,
                headers: [{ key: 'Authorization', value: 'Bearer {{args.token}}' }],
                jsonPath: "{$.variants[?(@.id=='{{args.canary}}')].window}",
                timeoutSeconds: 10,
              },
            },
          },
        ];
  const args =
    o.provider === 'prometheus'
      ? [{ name: 'canary' }, { name: 'model-name' }, { name: 'model-version' }]
      : [{ name: 'canary' }, { name: 'token', ...(o.tokenSecret ? { valueFrom: { secretKeyRef: o.tokenSecret } } : {}) }];
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: `${dnsLabel(o.endpoint, 40)}-canary-health`, ...(o.namespace ? { namespace: o.namespace } : {}), labels: { ...MANAGED_BY } },
    spec: { args, metrics },
  };
}
