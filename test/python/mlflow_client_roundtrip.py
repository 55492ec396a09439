"""Drives the real mlflow client against an MLOps Studio backend and reads every value back.

Env: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN. Prints one JSON line with what it observed; any mismatch
raises (exit code 1) with the field named.
"""
import json
import math
import os
import sys
import tempfile

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression


def check(cond, what):
    if not cond:
        raise AssertionError(what)


out = {}
client = MlflowClient()
exp = mlflow.set_experiment("roundtrip")
out["experiment_id"] = exp.experiment_id
check(exp.lifecycle_stage == "active", "experiment lifecycle")

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
y = (X[:, 0] - X[:, 1] > 0).astype(int)
model = LogisticRegression().fit(X, y)

tmp = tempfile.mkdtemp()
with open(os.path.join(tmp, "report.txt"), "w") as f:
    f.write("hello artifacts\n")
os.makedirs(os.path.join(tmp, "plots"))
with open(os.path.join(tmp, "plots", "a.csv"), "w") as f:
    f.write("x,y\n1,2\n")

with mlflow.start_run(run_name="first") as run:
    rid = run.info.run_id
    mlflow.log_param("alpha", 0.5)
    mlflow.log_params({"l1": 0.1, "solver": "lbfgs"})
    for i, v in enumerate([1.0, 0.7, 0.4]):
        mlflow.log_metric("rmse", v, step=i)
    mlflow.log_metrics({"r2": 0.9, "mae": 0.2}, step=2)
    mlflow.log_metric("nan_metric", float("nan"))
    mlflow.set_tag("team", "ops")
    mlflow.log_artifact(os.path.join(tmp, "report.txt"))
    mlflow.log_artifacts(os.path.join(tmp, "plots"), artifact_path="plots")
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="RoundTrip", input_example=X[:2])
    out["model_id"] = info.model_id

with mlflow.start_run(run_name="second") as run2:
    rid2 = run2.info.run_id
    mlflow.log_param("alpha", 0.1)
    mlflow.log_metric("rmse", 2.5, step=0)

# read back the run
r = client.get_run(rid)
check(r.data.params == {"alpha": "0.5", "l1": "0.1", "solver": "lbfgs"}, f"params {r.data.params}")
check(r.data.metrics["rmse"] == 0.4, f"latest rmse {r.data.metrics}")
check(r.data.metrics["r2"] == 0.9 and r.data.metrics["mae"] == 0.2, "r2/mae")
check(math.isnan(r.data.metrics["nan_metric"]), "NaN metric round trip")
check(r.data.tags["team"] == "ops", "tag")
check(r.info.status == "FINISHED" and r.info.end_time is not None, "status FINISHED")
check(r.info.run_name == "first", "run name")

hist = client.get_metric_history(rid, "rmse")
check([(m.step, m.value) for m in hist] == [(0, 1.0), (1, 0.7), (2, 0.4)], f"history {[(m.step, m.value) for m in hist]}")
out["history"] = [[m.step, m.value] for m in hist]

arts = sorted(a.path for a in client.list_artifacts(rid))
check("report.txt" in arts and "plots" in arts, f"artifacts {arts}")
d = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="report.txt", dst_path=tempfile.mkdtemp())
check(open(d).read() == "hello artifacts\n", "artifact bytes")
d2 = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="plots", dst_path=tempfile.mkdtemp())
check(open(os.path.join(d2, "a.csv")).read() == "x,y\n1,2\n", "nested artifact bytes")

# registry
client.set_registered_model_alias("RoundTrip", "champion", "1")
mv = client.get_model_version_by_alias("RoundTrip", "champion")
check(mv.version == "1" and mv.run_id == rid, f"alias -> version {mv.version} run {mv.run_id}")
rm = client.get_registered_model("RoundTrip")
check(rm.aliases == {"champion": "1"}, f"aliases {rm.aliases}")
loaded = mlflow.pyfunc.load_model("models:/RoundTrip@champion")
pred = loaded.predict(X[:20])
check(list(pred) == list(model.predict(X[:20])), "predictions of the downloaded model")
out["predictions"] = [int(p) for p in pred[:5]]

# search
found = mlflow.search_runs(experiment_ids=[exp.experiment_id], filter_string="metrics.rmse < 1 and params.alpha = '0.5'", order_by=["metrics.rmse ASC"])
check(list(found["run_id"]) == [rid], f"filtered search {list(found['run_id'])}")
ordered = mlflow.search_runs(experiment_ids=[exp.experiment_id], order_by=["metrics.rmse DESC"])
check(list(ordered["run_id"]) == [rid2, rid], "order_by metrics.rmse DESC")
out["search_columns"] = sorted(c for c in found.columns if c.startswith("metrics."))

# delete and restore
client.delete_run(rid2)
check(client.get_run(rid2).info.lifecycle_stage == "deleted", "deleted")
active = mlflow.search_runs(experiment_ids=[exp.experiment_id])
check(list(active["run_id"]) == [rid], "deleted run hidden from search")
client.restore_run(rid2)
check(client.get_run(rid2).info.lifecycle_stage == "active", "restored")

# errors the client relies on
check(mlflow.get_experiment_by_name("no-such-experiment") is None, "missing experiment is None")
try:
    client.log_param(rid, "alpha", "0.9")
    raise AssertionError("changing a param must fail")
except mlflow.exceptions.MlflowException as e:
    check(e.error_code == "INVALID_PARAMETER_VALUE", f"param change error {e.error_code}")

out["run_id"] = rid
out["run_id2"] = rid2
out["ok"] = True
print(json.dumps(out))
