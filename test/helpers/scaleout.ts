import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './backend';

/** The scale-out tests' venv (tritonclient, kubernetes-validate), created by .ci/setup-scaleout.sh when needed. */
export function scaleoutVenv(): string {
  if (process.env.MLOPS_SCALEOUT_VENV) return process.env.MLOPS_SCALEOUT_VENV;
  const out = execFileSync('bash', [join(ROOT, '.ci', 'setup-scaleout.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MLOPS_SCALEOUT_VENV = out.trim().split('\n').pop()!;
  return process.env.MLOPS_SCALEOUT_VENV;
}

export const scaleoutPython = (): string => join(scaleoutVenv(), 'bin', 'python');
