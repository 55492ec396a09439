"""Convert the model to ONNX with skl2onnx, check it against scikit-learn with onnxruntime, log it as an artifact.
Beside model.onnx: an MLmodel with the column signature (requests, the prediction log and drift name the features)
and reference_data.csv, the training rows (the registered version's drift baseline)."""
import json
import os
import pickle

import mlflow
import numpy as np
import onnxruntime as ort
import pandas as pd
from skl2onnx import to_onnx

from common import FEATURES, input_dir, output_dir

src = input_dir("train")
with open(os.path.join(src, "model.pkl"), "rb") as f:
    model = pickle.load(f)
x = pd.read_csv(os.path.join(src, "test.csv"))[FEATURES].to_numpy(dtype=np.float32)

out = output_dir()
onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset=17)
path = os.path.join(out, "model.onnx")
with open(path, "wb") as f:
    f.write(onx.SerializeToString())

session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
labels = session.run(None, {session.get_inputs()[0].name: x})[0]
agree = float(np.mean(labels == model.predict(x)))
if agree < 1.0:
    raise SystemExit(f"ONNX predictions differ from scikit-learn on {100 * (1 - agree):.1f}% of rows")

inputs = json.dumps([{"type": "double", "name": n, "required": True} for n in FEATURES])
with open(os.path.join(out, "MLmodel"), "w") as f:
    f.write(f"artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n    providers: [CPUExecutionProvider]\nsignature:\n  inputs: '{inputs}'\n")
pd.read_csv(os.path.join(src, "train.csv")).to_csv(os.path.join(out, "reference_data.csv"), index=False)

with mlflow.start_run():
    mlflow.log_metric("onnx_agreement", agree)
    mlflow.log_artifact(path, artifact_path="model")
    mlflow.log_artifact(os.path.join(out, "MLmodel"), artifact_path="model")
print(f"exported {path} ({os.path.getsize(path)} bytes) with its signature; predictions match scikit-learn", flush=True)
