"""Register the exported ONNX model as a new version of a registered model (the pipeline gates this step)."""
import os

import mlflow
from mlflow import MlflowClient

from common import input_dir

name = os.environ.get("MLOPS_PARAM_MODEL_NAME", "iris-classifier")
onnx_path = os.path.join(input_dir("export"), "model.onnx")

client = MlflowClient()
with mlflow.start_run() as run:
    mlflow.log_artifact(onnx_path, artifact_path="model")
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
print(f"registered {name} version {version.version}", flush=True)
