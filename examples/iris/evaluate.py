"""Score the trained model on the held-out rows (--holdout FILE, a retrain's, else train.py's test.csv); log accuracy;
publish it for the pipeline's gate."""
import argparse
import json
import os
import pickle

import mlflow
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from common import FEATURES, TARGET, input_dir, output_dir

parser = argparse.ArgumentParser()
parser.add_argument("--holdout", default="")
args = parser.parse_args()

src = input_dir("train")
with open(os.path.join(src, "model.pkl"), "rb") as f:
    model = pickle.load(f)
test = pd.read_csv(args.holdout or os.path.join(src, "test.csv"))
pred = model.predict(test[FEATURES])
accuracy = float(accuracy_score(test[TARGET], pred))
f1 = float(f1_score(test[TARGET], pred, average="macro"))

with mlflow.start_run():
    mlflow.log_metrics({"accuracy": accuracy, "f1_macro": f1, "eval_rows": len(test)})

with open(os.path.join(output_dir(), "outputs.json"), "w") as f:
    json.dump({"accuracy": accuracy, "f1_macro": f1, "rows": len(test)}, f)
print(f"evaluated on {len(test)} rows ({args.holdout or 'test.csv'}): accuracy {accuracy:.3f}, macro F1 {f1:.3f}", flush=True)
