"""The run-cost estimates: never below what an operator really allocates, and enforced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from music_mood_core.onnx_cost import COST_FUNCTIONS, ResourceLimitError, RunLimits
from music_mood_core.onnx_numpy import SUPPORTED_OPERATORS, NumpyGraph
from music_mood_core.onnx_proto import parse_model
from numpy.typing import NDArray

MODELS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "models"
REFERENCE = np.load(MODELS_DIR / "reference_outputs.npz")
# Together these graphs use every supported operator and option (see test_onnx_numpy.py).
OPS_MODELS = ("ops_opset17", "ops_opset11", "ops_opset18", "ensemble", "tiny")
# Operators that hand out a tensor that already exists.
NO_NEW_TENSOR = {"Identity", "Constant"}


def _feeds(name: str) -> dict[str, NDArray[Any]]:
    if name in ("ensemble", "tiny"):
        return {"features": REFERENCE[f"{name}.batch{4 if name == 'ensemble' else 3}.features"]}
    prefix = f"{name}.in."
    return {k[len(prefix) :]: REFERENCE[k] for k in REFERENCE.files if k.startswith(prefix)}


def test_every_operator_has_a_cost() -> None:
    assert set(COST_FUNCTIONS) == SUPPORTED_OPERATORS


@pytest.mark.parametrize("name", OPS_MODELS)
def test_estimates_cover_what_each_operator_really_produces(name: str) -> None:
    graph = NumpyGraph(parse_model((MODELS_DIR / f"{name}.onnx").read_bytes()))
    values: dict[str, NDArray[Any]] = {**graph._constants, **_feeds(name)}
    checked = set()
    for step in graph._steps:
        arguments = [values[input_name] if input_name else None for input_name in step.inputs]
        estimated_bytes, operations = step.cost(step.node, arguments)
        produced = step.kernel(arguments)
        real_bytes = sum(tensor.nbytes for tensor in produced if tensor.base is None)
        if step.node.op_type not in NO_NEW_TENSOR:
            assert estimated_bytes >= real_bytes, step.label
            assert operations > 0 or real_bytes == 0, step.label
        checked.add(step.node.op_type)
        for output_name, tensor in zip(step.outputs, produced, strict=False):
            if output_name:
                values[output_name] = tensor
    assert checked


def test_each_limit_stops_a_run() -> None:
    graph = NumpyGraph(parse_model((MODELS_DIR / "ensemble.onnx").read_bytes()))
    feeds = {"features": REFERENCE["ensemble.batch4.features"]}
    assert set(graph.run(feeds, None)) == {"valence", "arousal"}
    for limits, message in (
        (RunLimits(max_tensor_bytes=1024), "one tensor may take at most"),
        (RunLimits(max_run_bytes=64 * 1024), "MiB are allowed"),
        (RunLimits(max_run_operations=1_000_000), "G are allowed"),
    ):
        with pytest.raises(ResourceLimitError, match=message):
            graph.run(feeds, limits)
