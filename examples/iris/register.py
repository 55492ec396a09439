"""Register the exported ONNX model (with its MLmodel signature and reference data) as a new version of a registered
model (the pipeline gates this step)."""
import os

import mlflow
from mlflow import MlflowClient

from common import input_dir

name = os.environ.get("MLOPS_PARAM_MODEL_NAME", "iris-classifier")
exported = input_dir("export")

client = MlflowClient()
with mlflow.start_run() as run:
    for file in ("model.onnx", "MLmodel", "reference_data.csv"):
        mlflow.log_artifact(os.path.join(exported, file), artifact_path="model")
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
print(f"registered {name} version {version.version}", flush=True)
