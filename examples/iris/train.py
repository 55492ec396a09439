"""Train a classifier on the iris CSV; log params and metrics to the job's MLflow run; save model.pkl."""
import argparse
import os
import pickle

import mlflow
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from common import FEATURES, TARGET, output_dir

parser = argparse.ArgumentParser()
parser.add_argument("--data", default="data/iris.csv")
parser.add_argument("--n-estimators", type=int, default=int(os.environ.get("MLOPS_PARAM_N_ESTIMATORS", 50)))
parser.add_argument("--max-depth", type=int, default=int(os.environ.get("MLOPS_PARAM_MAX_DEPTH", 3)))
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

df = pd.read_csv(args.data)
train, test = train_test_split(df, test_size=0.3, random_state=args.seed, stratify=df[TARGET])
out = output_dir()
train.to_csv(os.path.join(out, "train.csv"), index=False)
test.to_csv(os.path.join(out, "test.csv"), index=False)

# Inside a job MLFLOW_RUN_ID is set: start_run() resumes the run the job created.
with mlflow.start_run():
    mlflow.log_params({"model": "random_forest", "train_rows": len(train)})
    model = RandomForestClassifier(n_estimators=args.n_estimators, max_depth=args.max_depth, random_state=args.seed)
    model.fit(train[FEATURES], train[TARGET])
    acc = float(model.score(train[FEATURES], train[TARGET]))
    mlflow.log_metric("train_accuracy", acc)
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        pickle.dump(model, f)
    print(f"trained: train accuracy {acc:.3f}, model in {out}/model.pkl", flush=True)
