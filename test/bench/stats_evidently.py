"""Times Evidently's drift report on the data stats-perf.bench.ts wrote: ValueDrift for each column with each of
PSI, KS, Wasserstein (normed) and Jensen-Shannon. Prints one JSON line: the time in ms and, per column, Evidently's
KS p-value and normalised Wasserstein distance (for the agreement check)."""
import json
import sys
import time

import numpy as np
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import ValueDrift

folder, rows, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = [f"f{i}" for i in range(features)]


def load(name):
    data = np.fromfile(f"{folder}/{name}.f64", dtype=np.float64).reshape(features, rows)
    return pd.DataFrame({n: data[i] for i, n in enumerate(names)})


ref, cur = load("ref"), load("cur")
definition = DataDefinition(numerical_columns=names)
methods = ["psi", "ks", "wasserstein", "jensenshannon"]
metrics = [ValueDrift(column=n, method=m) for n in names for m in methods]

t0 = time.perf_counter()
snapshot = Report(metrics).run(
    current_data=Dataset.from_pandas(cur, data_definition=definition),
    reference_data=Dataset.from_pandas(ref, data_definition=definition),
)
ms = (time.perf_counter() - t0) * 1000

ks, wass = {}, {}
for result in snapshot.dict()["metrics"]:
    config = result.get("config", {})
    column, method = config.get("column"), config.get("method")
    value = result.get("value")
    if method == "ks":
        ks[column] = float(value)
    elif method == "wasserstein":
        wass[column] = float(value)
print(json.dumps({"ms": ms, "ks": ks, "wass": wass}))
