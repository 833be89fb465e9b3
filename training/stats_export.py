"""Export the "stats" candidate (training/stats_model.py) as one ONNX graph.

Format 2 when the model reads the loudness (inputs ``features`` [b, 60, 68] and ``loudness``
[b, 60]: raw frame levels in dBFS from ``features.frame_levels_dbfs``); format 1 (features only)
otherwise. Only operators of the numpy engine's set are used: Sub, Mul, Add, ReduceMean, Relu,
Slice, Concat, Gemm, Tanh, MatMul (|x| is written relu(x) + relu(-x)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from music_mood_core.model_contract import FEATURES_INPUT, LOUDNESS_INPUT, N_FEATURES
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from .config import SEQUENCE_LENGTH, TARGETS
from .export import IR_VERSION, OPSET, PARITY_TOLERANCE, ExportError, _block_diagonal, _numpy
from .stats_model import StatsEnsemble


def _mean_abs(
    nodes: list[onnx.NodeProto], source: str, centre: str | None, *, name: str, keep: int
) -> str:
    """Nodes for mean(|source - centre|) over the frames (axis 1); returns the output name."""
    value = source
    if centre is not None:
        nodes.append(helper.make_node("Sub", [source, centre], [f"{name}_centred"]))
        value = f"{name}_centred"
    nodes.append(helper.make_node("Relu", [value], [f"{name}_pos"]))
    nodes.append(helper.make_node("Mul", [value, "minus_one"], [f"{name}_neg_in"]))
    nodes.append(helper.make_node("Relu", [f"{name}_neg_in"], [f"{name}_neg"]))
    nodes.append(helper.make_node("Add", [f"{name}_pos", f"{name}_neg"], [f"{name}_abs"]))
    nodes.append(helper.make_node("ReduceMean", [f"{name}_abs"], [name], axes=[1], keepdims=keep))
    return name


def build_stats_model(ensemble: StatsEnsemble, metadata: dict[str, str]) -> onnx.ModelProto:
    assert ensemble.frame is not None
    assert ensemble.stats_mean is not None
    assert ensemble.stats_scale is not None
    loudness = ensemble.settings.loudness
    nets = ensemble.networks
    n = len(nets)
    inits = [
        numpy_helper.from_array(ensemble.frame.mean, "frame_mean"),
        numpy_helper.from_array(ensemble.frame.scale, "frame_scale"),
        numpy_helper.from_array(np.array(-1.0, np.float32), "minus_one"),
        numpy_helper.from_array(ensemble.stats_mean, "stats_mean"),
        numpy_helper.from_array(ensemble.stats_scale, "stats_scale"),
    ]
    nodes = [
        helper.make_node("Sub", [FEATURES_INPUT, "frame_mean"], ["frame_centred"]),
        helper.make_node("Mul", ["frame_centred", "frame_scale"], ["standardised"]),
        helper.make_node(
            "ReduceMean", ["standardised"], ["feature_mean_keep"], axes=[1], keepdims=1
        ),
        helper.make_node("ReduceMean", ["standardised"], ["feature_mean"], axes=[1], keepdims=0),
    ]
    parts = ["feature_mean"]
    parts.append(
        _mean_abs(nodes, "standardised", "feature_mean_keep", name="feature_spread", keep=0)
    )
    if loudness != "none":
        inits += [
            numpy_helper.from_array(np.array([1], np.int64), "slice_one"),
            numpy_helper.from_array(np.array([0], np.int64), "slice_zero"),
            numpy_helper.from_array(np.array([SEQUENCE_LENGTH], np.int64), "slice_end"),
            numpy_helper.from_array(np.array([SEQUENCE_LENGTH - 1], np.int64), "slice_last"),
            numpy_helper.from_array(np.array([1], np.int64), "slice_axis"),
        ]
        nodes.append(
            helper.make_node("ReduceMean", [LOUDNESS_INPUT], ["level_mean"], axes=[1], keepdims=1)
        )
        if loudness == "absolute":
            parts.append("level_mean")
        parts.append(_mean_abs(nodes, LOUDNESS_INPUT, "level_mean", name="level_spread", keep=1))
        nodes += [
            helper.make_node(
                "Slice",
                [LOUDNESS_INPUT, "slice_one", "slice_end", "slice_axis"],
                ["level_later"],
            ),
            helper.make_node(
                "Slice",
                [LOUDNESS_INPUT, "slice_zero", "slice_last", "slice_axis"],
                ["level_earlier"],
            ),
        ]
        nodes.append(helper.make_node("Sub", ["level_later", "level_earlier"], ["level_step"]))
        parts.append(_mean_abs(nodes, "level_step", None, name="level_change", keep=1))
    nodes += [
        helper.make_node("Concat", parts, ["statistics"], axis=1),
        helper.make_node("Sub", ["statistics", "stats_mean"], ["stats_centred"]),
        helper.make_node("Mul", ["stats_centred", "stats_scale"], ["stats_standardised"]),
    ]
    w1 = np.concatenate([_numpy(net.fc1.weight) for net in nets])
    b1 = np.concatenate([_numpy(net.fc1.bias) for net in nets])
    w2 = _block_diagonal([_numpy(net.fc2.weight) for net in nets])
    b2 = np.concatenate([_numpy(net.fc2.bias) for net in nets])
    w3 = _block_diagonal([_numpy(net.fc3.weight) for net in nets])
    b3 = np.concatenate([_numpy(net.fc3.bias) for net in nets])
    inits += [
        numpy_helper.from_array(w1, "fc1_weight"),
        numpy_helper.from_array(b1, "fc1_bias"),
        numpy_helper.from_array(w2, "fc2_weight"),
        numpy_helper.from_array(b2, "fc2_bias"),
        numpy_helper.from_array(w3, "fc3_weight"),
        numpy_helper.from_array(b3, "fc3_bias"),
    ]
    nodes += [
        helper.make_node(
            "Gemm", ["stats_standardised", "fc1_weight", "fc1_bias"], ["h1"], transB=1
        ),
        helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "fc2_weight", "fc2_bias"], ["h2"], transB=1),
        helper.make_node("Relu", ["h2"], ["a2"]),
        helper.make_node("Gemm", ["a2", "fc3_weight", "fc3_bias"], ["h3"], transB=1),
        helper.make_node("Tanh", ["h3"], ["members"]),
    ]
    # Member k's outputs are columns 2k (valence) and 2k + 1 (arousal).
    for column, target in enumerate(TARGETS):
        average = np.zeros((2 * n, 1), np.float32)
        average[column::2, 0] = 1.0 / n
        inits.append(numpy_helper.from_array(average, f"{target}_average"))
        nodes.append(helper.make_node("MatMul", ["members", f"{target}_average"], [target]))
    for index, node in enumerate(nodes):
        node.name = f"{node.op_type.lower()}_{index}"
    inputs = [
        helper.make_tensor_value_info(
            FEATURES_INPUT, TensorProto.FLOAT, ["batch", SEQUENCE_LENGTH, N_FEATURES]
        )
    ]
    if loudness != "none":
        inputs.append(
            helper.make_tensor_value_info(
                LOUDNESS_INPUT, TensorProto.FLOAT, ["batch", SEQUENCE_LENGTH]
            )
        )
    graph = helper.make_graph(
        nodes,
        "music_mood_excerpt_statistics",
        inputs,
        [helper.make_tensor_value_info(t, TensorProto.FLOAT, ["batch", 1]) for t in TARGETS],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="music_mood.training",
        ir_version=IR_VERSION,
    )
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def onnxruntime_outputs(
    path: Path, features: NDArray[np.floating], levels: NDArray[np.floating] | None
) -> NDArray[np.float64]:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {FEATURES_INPUT: np.asarray(features, np.float32)}
    if LOUDNESS_INPUT in {i.name for i in session.get_inputs()}:
        assert levels is not None
        feeds[LOUDNESS_INPUT] = np.asarray(levels, np.float32)
    outputs = session.run(list(TARGETS), feeds)
    return np.concatenate([np.asarray(o, np.float64) for o in outputs], axis=1)


def export_stats(
    ensemble: StatsEnsemble,
    path: Path,
    metadata: dict[str, str],
    check_features: NDArray[np.float32],
    check_levels: NDArray[np.float32],
) -> float:
    """Write the file and check onnxruntime against torch; returns the largest difference."""
    model = build_stats_model(ensemble, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    error = float(
        np.max(
            np.abs(
                onnxruntime_outputs(path, check_features, check_levels)
                - ensemble.predict(check_features, check_levels)
            )
        )
    )
    if not error <= PARITY_TOLERANCE:
        raise ExportError(f"ONNX output differs from torch by {error:.3g} (> {PARITY_TOLERANCE})")
    return error
