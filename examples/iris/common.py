"""Paths shared by the steps: a pipeline step writes to $MLOPS_OUTPUT_DIR and reads what it needs from
$MLOPS_INPUT_<STEP>; run on its own (mlops train) everything goes to ./outputs."""
import os

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
TARGET = "species"


def output_dir() -> str:
    path = os.environ.get("MLOPS_OUTPUT_DIR", "outputs")
    os.makedirs(path, exist_ok=True)
    return path


def input_dir(step: str) -> str:
    return os.environ.get(f"MLOPS_INPUT_{step.upper()}", "outputs")
