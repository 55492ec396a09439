"""A GPU training job for the device check: fits a logistic regression on the GPU with PyTorch and logs its
loss per step into the MLflow run the job was given, through the plain MLflow REST API (no mlflow package there)."""
import json
import os
import sys
import time
import urllib.request

import torch

uri = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
run_id = os.environ["MLFLOW_RUN_ID"]
hold = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0


def log_batch(**body):
    req = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/runs/log-batch",
        data=json.dumps({"run_id": run_id, **body}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    urllib.request.urlopen(req, timeout=30).read()


print("CUDA_VISIBLE_DEVICES =", os.environ.get("CUDA_VISIBLE_DEVICES"), flush=True)
if not torch.cuda.is_available():
    print("no CUDA device visible to the job", flush=True)
    sys.exit(3)
dev = torch.device("cuda")
name = torch.cuda.get_device_name(0)
print("device:", name, flush=True)
log_batch(tags=[{"key": "gpu.name", "value": name}], params=[{"key": "device", "value": "cuda"}])

g = torch.Generator(device="cuda").manual_seed(0)
x = torch.randn(200_000, 64, device=dev, generator=g)
w_true = torch.randn(64, 1, device=dev, generator=g)
y = (x @ w_true > 0).float()
w = torch.zeros(64, 1, device=dev, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.5)
metrics = []
now = int(time.time() * 1000)
for step in range(50):
    opt.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w, y)
    loss.backward()
    opt.step()
    metrics.append({"key": "loss", "value": loss.item(), "timestamp": now + step, "step": step})
acc = float(((x @ w > 0).float() == y).float().mean())
metrics.append({"key": "accuracy", "value": acc, "timestamp": now + 50, "step": 50})
log_batch(metrics=metrics)
print(f"final loss {metrics[-2]['value']:.4f} accuracy {acc:.4f}", flush=True)
if hold:
    time.sleep(hold)
