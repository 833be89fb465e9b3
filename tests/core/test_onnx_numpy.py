"""The numpy executor against onnxruntime (live, or its committed outputs) and torch."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from music_mood_core.onnx_numpy import (
    SUPPORTED_OPERATORS,
    GraphError,
    NumpyGraph,
    UnsupportedOperatorError,
)
from music_mood_core.onnx_proto import Graph, Model, Node, ValueInfo, parse_model
from numpy.typing import NDArray

MODELS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "models"
REFERENCE = np.load(MODELS_DIR / "reference_outputs.npz")
OPS_MODELS = ("ops_opset17", "ops_opset11", "ops_opset18")
CONTRACT_OPERATORS = {
    "Sub",
    "Mul",
    "Transpose",
    "GRU",
    "Squeeze",
    "Gemm",
    "Relu",
    "Tanh",
    "MatMul",
    "Slice",
}
TOLERANCE = 1e-5


def _graph(name: str) -> NumpyGraph:
    return NumpyGraph(parse_model((MODELS_DIR / f"{name}.onnx").read_bytes()))


def _feeds(name: str) -> dict[str, NDArray[Any]]:
    prefix = f"{name}.in."
    return {k[len(prefix) :]: REFERENCE[k] for k in REFERENCE.files if k.startswith(prefix)}


def _ort_session(name: str):  # type: ignore[no-untyped-def]
    ort = pytest.importorskip(
        "onnxruntime", reason="onnxruntime is not installed in this environment"
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        str(MODELS_DIR / f"{name}.onnx"), options, providers=["CPUExecutionProvider"]
    )


def test_supported_operators_cover_the_export_contract() -> None:
    assert isinstance(SUPPORTED_OPERATORS, frozenset)
    assert CONTRACT_OPERATORS <= SUPPORTED_OPERATORS


def test_operator_fixtures_use_every_supported_operator() -> None:
    used = {
        node.op_type
        for name in OPS_MODELS
        for node in parse_model((MODELS_DIR / f"{name}.onnx").read_bytes()).graph.nodes
    }
    assert used == SUPPORTED_OPERATORS


@pytest.mark.parametrize("name", OPS_MODELS)
def test_operators_match_recorded_onnxruntime_outputs(name: str) -> None:
    outputs = _graph(name).run(_feeds(name))
    assert outputs
    for key, actual in outputs.items():
        expected = REFERENCE[f"{name}.out.{key}"]
        assert actual.shape == expected.shape, key
        assert actual.dtype == expected.dtype, key
        np.testing.assert_allclose(actual, expected, rtol=0, atol=TOLERANCE, err_msg=key)


@pytest.mark.parametrize("name", OPS_MODELS)
def test_operators_match_live_onnxruntime_on_fresh_inputs(name: str) -> None:
    session = _ort_session(name)
    rng = np.random.default_rng(11)
    feeds = {
        k: (rng.standard_normal(v.shape) * 3).astype(v.dtype) if v.dtype == np.float32 else v
        for k, v in _feeds(name).items()
    }
    names = [o.name for o in session.get_outputs()]
    expected = dict(zip(names, session.run(names, feeds), strict=True))
    actual = _graph(name).run(feeds)
    for key in names:
        assert actual[key].shape == expected[key].shape, key
        np.testing.assert_allclose(actual[key], expected[key], rtol=0, atol=TOLERANCE, err_msg=key)


@pytest.mark.parametrize(
    ("name", "label"), [("ensemble", "batch1"), ("ensemble", "batch4"), ("tiny", "batch3")]
)
def test_ensemble_matches_recorded_onnxruntime_outputs(name: str, label: str) -> None:
    features = REFERENCE[f"{name}.{label}.features"]
    outputs = _graph(name).run({"features": features})
    for target in ("valence", "arousal"):
        assert outputs[target].dtype == np.float32
        np.testing.assert_allclose(
            outputs[target], REFERENCE[f"{name}.{label}.{target}"], rtol=0, atol=TOLERANCE
        )


def test_ensemble_matches_live_onnxruntime_on_many_inputs() -> None:
    session = _ort_session("ensemble")
    rng = np.random.default_rng(5)
    base = REFERENCE["ensemble.batch4.features"]
    features = (base[rng.integers(0, 4, 16)] * rng.uniform(0.5, 1.5, (16, 1, 68))).astype(
        np.float32
    )
    expected = session.run(["valence", "arousal"], {"features": features})
    actual = _graph("ensemble").run({"features": features})
    assert np.ptp(expected[0]) > 0.01  # the inputs really differ
    np.testing.assert_allclose(actual["valence"], expected[0], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(actual["arousal"], expected[1], rtol=0, atol=TOLERANCE)


def _gru_onnx_weights(
    rng: np.random.Generator, inputs: int, hidden: int
) -> tuple[NDArray[Any], ...]:
    w = rng.uniform(-0.5, 0.5, (1, 3 * hidden, inputs)).astype(np.float32)
    r = rng.uniform(-0.5, 0.5, (1, 3 * hidden, hidden)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, (1, 6 * hidden)).astype(np.float32)
    return w, r, b


def _gru_model(
    w: NDArray[Any], r: NDArray[Any], b: NDArray[Any], linear_before_reset: int
) -> Model:
    hidden = r.shape[2]
    node = Node(
        "GRU",
        "",
        "gru",
        ("x", "w", "r", "b"),
        ("y", "y_h"),
        {"hidden_size": hidden, "linear_before_reset": linear_before_reset},
    )
    graph = Graph(
        "g",
        (node,),
        {"w": w, "r": r, "b": b},
        (ValueInfo("x", 1, None),),
        (ValueInfo("y", 1, None), ValueInfo("y_h", 1, None)),
    )
    return Model(8, {"": 17}, graph, {})


def _sigmoid(v: NDArray[Any]) -> NDArray[Any]:
    return np.asarray(1.0 / (1.0 + np.exp(-v)))


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_gru_follows_the_onnx_equations(linear_before_reset: int) -> None:
    """An independent float64 transcription of the ONNX GRU definition, step by step."""
    rng = np.random.default_rng(3)
    w, r, b = _gru_onnx_weights(rng, 5, 4)
    x = rng.standard_normal((9, 2, 5)).astype(np.float32)
    out = NumpyGraph(_gru_model(w, r, b, linear_before_reset)).run({"x": x})
    wz, wr, wh = np.split(w[0].astype(np.float64), 3)
    rz, rr, rh = np.split(r[0].astype(np.float64), 3)
    wbz, wbr, wbh, rbz, rbr, rbh = np.split(b[0].astype(np.float64), 6)
    h = np.zeros((2, 4))
    for t in range(9):
        xt = x[t].astype(np.float64)
        z = _sigmoid(xt @ wz.T + h @ rz.T + wbz + rbz)
        reset = _sigmoid(xt @ wr.T + h @ rr.T + wbr + rbr)
        if linear_before_reset:
            candidate = np.tanh(xt @ wh.T + reset * (h @ rh.T + rbh) + wbh)
        else:
            candidate = np.tanh(xt @ wh.T + (reset * h) @ rh.T + rbh + wbh)
        h = (1 - z) * candidate + z * h
        np.testing.assert_allclose(out["y"][t, 0], h, rtol=0, atol=1e-5)
    np.testing.assert_allclose(out["y_h"][0], h, rtol=0, atol=1e-5)
    assert out["y"].dtype == np.float32


def test_gru_with_linear_before_reset_equals_torch_gru() -> None:
    """torch.nn.GRU (gates r, z, n) is what training runs; the ONNX order is z, r, h."""
    torch = pytest.importorskip("torch", reason="torch is only in the training environment")
    rng = np.random.default_rng(4)
    w, r, b = _gru_onnx_weights(rng, 6, 5)
    gru = torch.nn.GRU(6, 5)

    def to_torch(stacked: NDArray[Any]) -> NDArray[Any]:
        z, reset, n = np.split(stacked, 3)
        return np.concatenate([reset, z, n])

    with torch.no_grad():
        gru.weight_ih_l0.copy_(torch.from_numpy(to_torch(w[0])))
        gru.weight_hh_l0.copy_(torch.from_numpy(to_torch(r[0])))
        gru.bias_ih_l0.copy_(torch.from_numpy(to_torch(b[0, :15])))
        gru.bias_hh_l0.copy_(torch.from_numpy(to_torch(b[0, 15:])))
        x = rng.standard_normal((12, 3, 6)).astype(np.float32)
        expected_y, expected_h = gru(torch.from_numpy(x))
    out = NumpyGraph(_gru_model(w, r, b, 1)).run({"x": x})
    np.testing.assert_allclose(out["y"][:, 0], expected_y.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(out["y_h"], expected_h.numpy(), rtol=0, atol=1e-5)


def _single_node_model(node: Node, opset: int = 17) -> Model:
    graph = Graph("g", (node,), {}, (ValueInfo("x", 1, None),), (ValueInfo("y", 1, None),))
    return Model(8, {"": opset}, graph, {})


@pytest.mark.parametrize(
    ("node", "match"),
    [
        (Node("Softmax", "", "", ("x",), ("y",), {}), "Softmax"),
        (Node("LSTM", "", "", ("x",), ("y",), {}), "LSTM"),
        (Node("Relu", "com.microsoft", "", ("x",), ("y",), {}), "com.microsoft.Relu"),
        (
            Node(
                "GRU",
                "",
                "",
                ("x", "x", "x"),
                ("y",),
                {"hidden_size": 2, "direction": b"bidirectional"},
            ),
            "direction",
        ),
        (
            Node("GRU", "", "", ("x", "x", "x", "", "x"), ("y",), {"hidden_size": 2}),
            "sequence_lens",
        ),
        (Node("GRU", "", "", ("x", "x", "x"), ("y",), {"hidden_size": 2, "clip": 1.0}), "clip"),
        (Node("GRU", "", "", ("x", "x", "x"), ("y",), {"hidden_size": 2, "layout": 1}), "layout"),
        (Node("Relu", "", "", ("x",), ("y",), {}, ("subgraph",)), "subgraph"),
    ],
)
def test_unsupported_operators_and_options_are_named(node: Node, match: str) -> None:
    with pytest.raises(UnsupportedOperatorError, match=match):
        NumpyGraph(_single_node_model(node))


def test_opsets_before_slice_inputs_are_refused() -> None:
    with pytest.raises(UnsupportedOperatorError, match="set version 9"):
        NumpyGraph(_single_node_model(Node("Relu", "", "", ("x",), ("y",), {}), opset=9))


def test_dangling_and_missing_values_are_graph_errors() -> None:
    with pytest.raises(GraphError, match="nothing produces"):
        NumpyGraph(_single_node_model(Node("Add", "", "", ("x", "ghost"), ("y",), {})))
    with pytest.raises(GraphError, match="never produced"):
        NumpyGraph(_single_node_model(Node("Relu", "", "", ("x",), ("z",), {})))
    graph = NumpyGraph(_single_node_model(Node("Relu", "", "", ("x",), ("y",), {})))
    with pytest.raises(GraphError, match="missing inputs"):
        graph.run({})


def test_runs_do_not_modify_inputs_or_initializers() -> None:
    graph = _graph("ensemble")
    features = REFERENCE["ensemble.batch4.features"].copy()
    features.flags.writeable = False  # any in-place write to the feed would raise
    first = graph.run({"features": features})
    second = graph.run({"features": features})
    np.testing.assert_array_equal(first["valence"], second["valence"])


def test_concurrent_runs_equal_serial_runs() -> None:
    graph = _graph("ensemble")
    rng = np.random.default_rng(8)
    base = REFERENCE["ensemble.batch1.features"]
    inputs = [(base * rng.uniform(0.5, 1.5, (1, 1, 68))).astype(np.float32) for _ in range(8)]
    serial = [graph.run({"features": x})["arousal"] for x in inputs]
    results: dict[int, NDArray[Any]] = {}

    def work(index: int) -> None:
        for _ in range(5):
            results[index] = graph.run({"features": inputs[index]})["arousal"]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, expected in enumerate(serial):
        np.testing.assert_array_equal(results[index], expected)
