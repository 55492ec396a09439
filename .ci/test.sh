#!/usr/bin/env bash
# The whole test suite: installs what the tests need, builds, lints, type-checks, then runs every tier.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/bootstrap.sh
bash .ci/setup-system.sh
export MLOPS_TEST_VENV=$(bash .ci/setup-python.sh | tail -1)
# tritonclient, kubernetes-validate and kmock for the scale-out tests (a small venv of their own, cached the same way).
export MLOPS_SCALEOUT_VENV=$(bash .ci/setup-scaleout.sh | tail -1)
# ray[default] for the Ray launcher's tests (a real Ray head; ~380 MB, its own cached venv). Empty when Ray cannot be
# installed here: those tests then skip and print why.
export MLOPS_RAY_VENV=$(bash .ci/setup-ray.sh | tail -1)
# Node 20, 22 and 24 and a better-sqlite3 addon for each (cached under ~/.cache/mlops-studio; prints their folder).
export MLOPS_TEST_NODES=$(bash .ci/setup-node.sh | tail -1)
# code-server for the e2e tier (cached under ~/.cache/mlops-studio; prints its path).
export MLOPS_CODE_SERVER=$(bash .ci/setup-vscode.sh | tail -1)
npm run --silent typecheck
npm run --silent lint
node test/run.mjs unit backend webviews integration e2e
