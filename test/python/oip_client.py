"""Drives an endpoint through the real Open Inference Protocol client (tritonclient[http] from PyPI), unchanged
but for a plugin that adds our bearer token. argv: URL (host:port), token, model name, JSON rows.
Prints one JSON line of what the client saw, for the Node test to compare."""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient._plugin import InferenceServerClientPlugin
from tritonclient.utils import InferenceServerException


class Bearer(InferenceServerClientPlugin):
    def __init__(self, token):
        self.value = f"Bearer {token}"

    def __call__(self, request):
        request.headers["authorization"] = self.value


url, token, model, rows_json = sys.argv[1:5]
rows = np.array(json.loads(rows_json), dtype=np.float32)
client = httpclient.InferenceServerClient(url=url)
out = {"unauthenticated_live": client.is_server_live()}
client.register_plugin(Bearer(token))
out["live"] = client.is_server_live()
out["ready"] = client.is_server_ready()
out["model_ready"] = client.is_model_ready(model)
out["missing_ready"] = client.is_model_ready("no-such-endpoint")
out["server"] = client.get_server_metadata()
out["metadata"] = client.get_model_metadata(model)

# Binary tensors both ways (the client's default).
x = httpclient.InferInput("X", list(rows.shape), "FP32")
x.set_data_from_numpy(rows)
res = client.infer(model, [x], request_id="triton-1")
label = res.as_numpy("label")
out["binary"] = {"dtype": str(label.dtype), "shape": list(label.shape), "data": label.tolist(), "id": res.get_response()["id"]}

# JSON tensors both ways.
x = httpclient.InferInput("X", list(rows.shape), "FP32")
x.set_data_from_numpy(rows, binary_data=False)
res = client.infer(model, [x], outputs=[httpclient.InferRequestedOutput("label", binary_data=False)])
out["json"] = {"data": res.as_numpy("label").tolist(), "response": res.get_response()}

# The model's features as one FP64 column each (MLServer's pandas style), gzip-compressed.
cols = []
for i, name in enumerate(json.loads(sys.argv[5])):
    c = httpclient.InferInput(name, [rows.shape[0], 1], "FP64")
    c.set_data_from_numpy(rows[:, i : i + 1].astype(np.float64))
    cols.append(c)
res = client.infer(model, cols, request_compression_algorithm="gzip")
out["columns"] = res.as_numpy("label").tolist()

try:
    bad = httpclient.InferInput("X", [rows.shape[0], 3], "FP32")
    bad.set_data_from_numpy(rows[:, :3].copy())
    client.infer(model, [bad])
    out["error"] = None
except InferenceServerException as e:
    out["error"] = {"status": e.status(), "message": e.message()}
print(json.dumps(out))
