"""Score the trained model on the held-out rows; log accuracy; publish it for the pipeline's gate."""
import json
import os
import pickle

import mlflow
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from common import FEATURES, TARGET, input_dir, output_dir

src = input_dir("train")
with open(os.path.join(src, "model.pkl"), "rb") as f:
    model = pickle.load(f)
test = pd.read_csv(os.path.join(src, "test.csv"))
pred = model.predict(test[FEATURES])
accuracy = float(accuracy_score(test[TARGET], pred))
f1 = float(f1_score(test[TARGET], pred, average="macro"))

with mlflow.start_run():
    mlflow.log_metrics({"accuracy": accuracy, "f1_macro": f1})

with open(os.path.join(output_dir(), "outputs.json"), "w") as f:
    json.dump({"accuracy": accuracy, "f1_macro": f1}, f)
print(f"evaluated: accuracy {accuracy:.3f}, macro F1 {f1:.3f}", flush=True)
