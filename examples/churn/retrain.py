"""The churn model's retraining step (mlops demo's loop runs it when MLOPS_PYTHON is set): scikit-learn's logistic
regression on the CSV the retrain's data step exported ($TRAIN_CSV: the feature columns, then the label), converted
to ONNX with skl2onnx and checked against scikit-learn with onnxruntime; model.onnx and an MLmodel with the column
signature go to $MLOPS_OUTPUT_DIR. TRAIN_EPOCHS=0 fits shuffled labels: a model that learned nothing (the demo's
worse challenger)."""
import json
import os

import numpy as np
import onnxruntime as ort
import pandas as pd
from sklearn.linear_model import LogisticRegression
from skl2onnx import to_onnx

data = pd.read_csv(os.environ["TRAIN_CSV"])
features = list(data.columns[:-1])
x = data[features].to_numpy(dtype=np.float32)
y = data[data.columns[-1]].to_numpy().astype(np.int64)
epochs = int(os.environ.get("TRAIN_EPOCHS", "200"))
if epochs == 0:
    y = np.random.default_rng(0).permutation(y)
cut = int(len(x) * 0.8)
model = LogisticRegression(max_iter=max(epochs, 100)).fit(x[:cut], y[:cut])
val_accuracy = float(model.score(x[cut:], y[cut:]))

out = os.environ.get("MLOPS_OUTPUT_DIR", "outputs")
os.makedirs(out, exist_ok=True)
onx = to_onnx(model, x[:1], options={id(model): {"zipmap": False}}, target_opset=17)
path = os.path.join(out, "model.onnx")
with open(path, "wb") as f:
    f.write(onx.SerializeToString())
session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
labels = session.run(None, {session.get_inputs()[0].name: x})[0]
if not np.array_equal(labels, model.predict(x)):
    raise SystemExit("ONNX predictions differ from scikit-learn")

inputs = json.dumps([{"type": "double", "name": n, "required": True} for n in features])
with open(os.path.join(out, "MLmodel"), "w") as f:
    f.write(f"artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n    providers: [CPUExecutionProvider]\nsignature:\n  inputs: '{inputs}'\n")
with open(os.path.join(out, "outputs.json"), "w") as f:
    json.dump({"rows": len(x), "val_accuracy": val_accuracy, "epochs": epochs}, f)
print(f"scikit-learn LogisticRegression on {cut} rows ({', '.join(features)}): validation accuracy {val_accuracy:.3f}", flush=True)
