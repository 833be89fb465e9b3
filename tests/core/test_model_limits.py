"""Crafted model files: every one is refused with a ModelError and a reason, within bounded memory.

The files are written here on the protobuf wire (tests/onnx_wire.py), because the ``onnx`` package
will not build most of them. Memory is measured with tracemalloc (numpy reports its buffers to it).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from music_mood_core import model as model_module
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import ModelError, load_model
from music_mood_core.onnx_cost import ResourceLimitError, RunLimits
from music_mood_core.onnx_numpy import NumpyGraph
from music_mood_core.onnx_proto import parse_model

from tests import onnx_wire as wire

MODELS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "models"
MIB = 1024 * 1024


def _crafted(**parts: object) -> bytes:
    return wire.mood_model(EXTRACTOR_VERSION, **parts)  # type: ignore[arg-type]


def _metadata(**overrides: str) -> dict[str, str]:
    return wire.mood_metadata(EXTRACTOR_VERSION, **overrides)


def _vector(name: str, count: int, shape: tuple[int, int]) -> bytes:
    values = np.linspace(0.0, 0.5, count, dtype="<f4")
    return wire.tensor(name, list(shape), raw=values.tobytes())


def _outer_sum(count: int) -> dict[str, object]:
    """A (count, count) tensor from two count-element vectors: tiny file, count² elements."""
    return {
        "extra_initializers": [
            _vector("row", count, (1, count)),
            _vector("column", count, (count, 1)),
        ],
        "extra_nodes": [
            wire.node("Add", ["row", "column"], ["square"]),
            wire.node("ReduceMean", ["square"], ["square_mean"], wire.attribute_int("keepdims", 0)),
        ],
        "extra_output": "square_mean",
    }


def _matrix_power(count: int) -> dict[str, object]:
    """square @ square: about 2·count³ operations from a file of a few dozen kB."""
    parts = _outer_sum(count)
    parts["extra_nodes"] = [
        wire.node("Add", ["row", "column"], ["square"]),
        wire.node("MatMul", ["square", "square"], ["product"]),
        wire.node("ReduceMean", ["product"], ["square_mean"], wire.attribute_int("keepdims", 0)),
    ]
    return parts


def _initializer(tensor: bytes) -> dict[str, object]:
    return {"extra_initializers": [tensor]}


@pytest.fixture
def write_model(tmp_path: Path) -> Callable[[bytes], Path]:
    def write(data: bytes) -> Path:
        path = tmp_path / "crafted.onnx"
        path.write_bytes(data)
        return path

    return write


def _refused(path: Path, peak_cap_mib: float = 64) -> ModelError:
    """Load ``path`` expecting a ModelError; the load's peak allocation must stay under the cap."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelError) as caught:
            load_model(path, engine="numpy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < peak_cap_mib * MIB, f"loading took {peak / MIB:.0f} MiB"
    assert path.name in str(caught.value)
    return caught.value


def test_the_crafting_tool_writes_a_model_that_loads(write_model: Callable[[bytes], Path]) -> None:
    """The refusals below are the files' faults, not the writer's."""
    model = load_model(write_model(_crafted(**_outer_sum(100))), engine="numpy")
    features = np.full((3, 60, 68), 0.25, np.float32)
    prediction = model.predict(features)
    # valence = mean(features) + mean(row + column) = 0.25 + (0.25 + 0.25); arousal = 0.25.
    np.testing.assert_allclose(prediction, [[0.75, 0.25]] * 3, rtol=0, atol=1e-6)


CRAFTED = [
    pytest.param(
        _initializer(wire.tensor("overflow", [2**32, 2**32], raw=b"")),
        "exceeds_limits",
        "claims 18,446,744,073,709,551,616 elements",
        id="dims-product-overflows-int64",
    ),
    pytest.param(
        _initializer(wire.tensor("wrap", [2**62, 4], raw=b"")),
        "exceeds_limits",
        "claims",
        id="dims-product-wraps-to-zero",
    ),
    pytest.param(
        _initializer(wire.tensor("deep", [1] * 65, raw=b"\0\0\0\0")),
        "exceeds_limits",
        "more than 16 dimensions",
        id="65-dimensions",
    ),
    pytest.param(
        _initializer(wire.tensor("big", [3], wire.INT32, int32_data=[1, 2**40, 3])),
        "not_onnx",
        "outside -2147483648..2147483647",
        id="int32-data-out-of-range",
    ),
    pytest.param(
        _initializer(wire.tensor("byte", [2], wire.UINT8, int32_data=[-1, 300])),
        "not_onnx",
        "outside 0..255",
        id="uint8-data-out-of-range",
    ),
    pytest.param(
        _initializer(wire.tensor("half", [1], wire.FLOAT16, int32_data=[70000])),
        "not_onnx",
        "outside 0..65535",
        id="float16-bits-out-of-range",
    ),
    pytest.param(
        _initializer(wire.tensor("flag", [1], wire.BOOL, int32_data=[2])),
        "not_onnx",
        "outside 0..1",
        id="bool-data-out-of-range",
    ),
    pytest.param(
        _initializer(wire.tensor("many", [2_000_000], wire.INT64, int64_data=[1] * 2_000_000)),
        "exceeds_limits",
        "individually encoded values",
        id="two-million-varints",
    ),
    pytest.param(
        {"graph_padding": wire.field_bytes(1, b"") * (8 * MIB)},
        "exceeds_limits",
        "more than 10,000 graph nodes",
        id="16-MiB-of-empty-nodes",
    ),
    pytest.param(
        {"graph_padding": wire.field_bytes(5, wire.tensor("", [0], raw=b"")) * 20_000},
        "exceeds_limits",
        "more than 10,000 initializers",
        id="20000-empty-initializers",
    ),
    pytest.param(
        {"graph_padding": wire.field_varint(99, 0) * (3 * MIB)},
        "exceeds_limits",
        "protobuf fields",
        id="3-million-unknown-fields",
    ),
    pytest.param(
        {"metadata": _metadata(scores="[" * 200_000)},
        "exceeds_limits",
        "longer than",
        id="metadata-value-of-200k-characters",
    ),
    pytest.param(
        {"metadata": _metadata(scores='{"a":' * 40 + "1" + "}" * 40)},
        "incompatible_metadata",
        "nests deeper than 32 levels",
        id="deeply-nested-json-scores",
    ),
    pytest.param(
        {"metadata": _metadata(scores="[1, 2]")},
        "incompatible_metadata",
        "not a JSON object",
        id="json-scores-not-an-object",
    ),
    pytest.param(
        {"metadata": {**_metadata(), **{f"extra.{i}": "x" for i in range(300)}}},
        "exceeds_limits",
        "metadata entries",
        id="300-metadata-entries",
    ),
    pytest.param(
        {"metadata": _metadata(sequence_length="1000000000")},
        "incompatible_metadata",
        "sequence length 1000000000 is outside 1..1000",
        id="huge-sequence-length",
    ),
    pytest.param(
        {"metadata": _metadata(sequence_length="9" * 5000)},
        "incompatible_metadata",
        "longer than 32 characters",
        id="5000-digit-sequence-length",
    ),
    pytest.param(
        {"metadata": _metadata(sequence_length="0")},
        "incompatible_metadata",
        "outside 1..1000",
        id="zero-sequence-length",
    ),
    pytest.param(
        {"metadata": _metadata(sequence_length="1000", step_s="0.1", window_s="0.1")},
        "incompatible_metadata",
        "longer than 60 s",
        id="excerpt-of-100-s",
    ),
    pytest.param(
        {"metadata": _metadata(window_s="5", step_s="5")},
        "incompatible_metadata",
        "window 5 s is outside",
        id="window-of-5-s",
    ),
    pytest.param(
        {"metadata": _metadata(window_s="0.0001", step_s="0.0001")},
        "incompatible_metadata",
        "outside 0.005..1 s",
        id="window-of-a-tenth-of-a-millisecond",
    ),
    pytest.param(
        {"metadata": _metadata(hop_s="0.001")},
        "incompatible_metadata",
        "hop 0.001 s is outside 0.1..10 s",
        id="hop-of-1-ms",
    ),
    pytest.param(
        {"metadata": _metadata(hop_s="1e9")},
        "incompatible_metadata",
        "hop 1e+09 s is outside",
        id="hop-of-a-billion-seconds",
    ),
    pytest.param(
        _outer_sum(20_000),
        "exceeds_limits",
        "would produce 1,526 MiB",
        id="160-kB-graph-allocating-1.5-GB",
    ),
    pytest.param(
        _matrix_power(3000),
        "exceeds_limits",
        "54.0 G operations",
        id="graph-taking-a-minute-per-prediction",
    ),
]


@pytest.mark.parametrize(("parts", "reason", "detail"), CRAFTED)
def test_crafted_files_are_refused_with_a_reason(
    write_model: Callable[[bytes], Path], parts: dict[str, object], reason: str, detail: str
) -> None:
    error = _refused(write_model(_crafted(**parts)))
    assert error.reason == reason
    assert detail in str(error)


def test_a_graph_whose_cost_is_refused_is_not_run(write_model: Callable[[bytes], Path]) -> None:
    """The 1.5 GB tensor is refused before numpy allocates it: the load stays small."""
    path = write_model(_crafted(**_outer_sum(20_000)))
    assert path.stat().st_size < 200_000
    _refused(path, peak_cap_mib=8)


def test_a_run_that_takes_too_long_stops_between_operators() -> None:
    graph = NumpyGraph(parse_model((MODELS_DIR / "tiny.onnx").read_bytes()))
    features = {"features": np.zeros((2, 60, 68), np.float32)}
    assert set(graph.run(features)) == {"valence", "arousal"}
    with pytest.raises(ResourceLimitError, match="took longer than 0 s"):
        graph.run(features, RunLimits(max_run_seconds=0.0))


def test_a_probe_slower_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The load measures its test prediction (on any engine) and refuses a model over the limit."""
    monkeypatch.setattr(model_module, "PROBE_TIME_LIMIT_S", 0.0)
    with pytest.raises(ModelError) as caught:
        load_model(MODELS_DIR / "tiny.onnx", engine="numpy")
    assert caught.value.reason == "exceeds_limits"
    assert "to predict 32 excerpts" in str(caught.value)


def test_large_batches_run_in_tested_sizes_and_agree_with_single_predictions() -> None:
    model = load_model(MODELS_DIR / "tiny.onnx", engine="numpy")
    rng = np.random.default_rng(5)
    features = rng.normal(0.0, 1.0, (70, 60, 68)).astype(np.float32)
    batched = model.predict(features)
    assert batched.shape == (70, 2)
    singles = np.concatenate([model.predict(features[i]) for i in (0, 33, 69)])
    np.testing.assert_allclose(batched[[0, 33, 69]], singles, rtol=0, atol=1e-5)


def test_no_fixture_model_comes_near_the_limits() -> None:
    """The shipped kind of model is far inside every bound (guards against limits set too tight)."""
    for name in ("ensemble.onnx", "tiny.onnx"):
        model = load_model(MODELS_DIR / name, engine="numpy")
        assert model.predict(np.zeros((32, 60, 68), np.float32)).shape == (32, 2)
