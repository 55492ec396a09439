"""The real mlflow client against a gated @champion: logs two runs, registers both, and tries to promote each.

Prints one JSON line: the versions, and for each promotion attempt either "ok" or the MlflowException's message.
"""
import json
import os

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

name = os.environ["GATE_MODEL"]
stage = os.environ["GATE_STAGE"]
client = MlflowClient()
out = {}

if stage == "register":
    mlflow.set_experiment("gates")
    client.create_registered_model(name)
    versions = []
    for acc in (0.85, 0.93):
        with mlflow.start_run() as run:
            mlflow.log_metric("accuracy", acc)
            mlflow.log_metric("val_loss", 1 - acc)
        mv = client.create_model_version(name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
        versions.append(mv.version)
    out["versions"] = versions
else:
    attempts = {}
    for version in os.environ["GATE_VERSIONS"].split(","):
        try:
            client.set_registered_model_alias(name, "champion", version)
            attempts[version] = "ok"
        except MlflowException as e:
            attempts[version] = {"type": type(e).__name__, "error_code": e.error_code, "message": e.message}
    out["attempts"] = attempts
    out["champion"] = client.get_model_version_by_alias(name, "champion").version
print(json.dumps(out))
