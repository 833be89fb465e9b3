"""Fuse a trained GRU ensemble into one ONNX file following the model contract (ARCHITECTURE.md).

Per target the `n` networks become one GRU of hidden n*h: input weights stacked, recurrence weights
block-diagonal, fully connected layers block-diagonal Gemms; the n tanh outputs are averaged by a
MatMul with a constant [n, 1] matrix. Mathematically identical to running the networks separately.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from music_mood_core.model_contract import (
    FEATURES_INPUT,
    FORMAT_FEATURES,
    N_FEATURES,
    NORMALISATION_EXCERPT,
)
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from .config import (
    HOP_S,
    SAMPLE_RATE,
    SEQUENCE_LENGTH,
    STEP_S,
    TARGETS,
    WINDOW_S,
)
from .gru import GRUEnsembleRegressor, ParallelGRUNetwork, Standardiser
from .targets import target_columns

IR_VERSION = 8
OPSET = 17
PARITY_TOLERANCE = 1e-5


class ExportError(Exception):
    """The exported graph does not reproduce the trained ensemble."""


def _numpy(tensor: object) -> NDArray[np.float32]:
    return np.asarray(tensor.detach().numpy(), dtype=np.float32)  # type: ignore[attr-defined]


def _block_diagonal(blocks: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    rows = sum(block.shape[0] for block in blocks)
    cols = sum(block.shape[1] for block in blocks)
    out = np.zeros((rows, cols), dtype=np.float32)
    r = c = 0
    for block in blocks:
        out[r : r + block.shape[0], c : c + block.shape[1]] = block
        r += block.shape[0]
        c += block.shape[1]
    return out


def _torch_gates_to_onnx(stacked: NDArray[np.float32], hidden: int) -> list[NDArray[np.float32]]:
    """torch stacks GRU gates as (r, z, n); ONNX wants (z, r, h)."""
    reset, update, new = (stacked[k * hidden : (k + 1) * hidden] for k in range(3))
    return [update, reset, new]


def fuse_gru(
    weight_ih: Sequence[NDArray[np.float32]],
    weight_hh: Sequence[NDArray[np.float32]],
    bias_ih: Sequence[NDArray[np.float32]],
    bias_hh: Sequence[NDArray[np.float32]],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """ONNX GRU W [1, 3nH, I], R [1, 3nH, nH], B [1, 6nH] from n networks' torch GRU parameters.

    Each argument holds one array per network in torch's layout (gates r, z, n stacked, hidden H).
    """
    hidden = weight_hh[0].shape[1]
    gates_w = [_torch_gates_to_onnx(weight, hidden) for weight in weight_ih]
    gates_r = [_torch_gates_to_onnx(weight, hidden) for weight in weight_hh]
    gates_wb = [_torch_gates_to_onnx(bias, hidden) for bias in bias_ih]
    gates_rb = [_torch_gates_to_onnx(bias, hidden) for bias in bias_hh]
    w = np.concatenate([np.concatenate([g[gate] for g in gates_w]) for gate in range(3)])
    r = np.concatenate([_block_diagonal([g[gate] for g in gates_r]) for gate in range(3)])
    wb = np.concatenate([np.concatenate([g[gate] for g in gates_wb]) for gate in range(3)])
    rb = np.concatenate([np.concatenate([g[gate] for g in gates_rb]) for gate in range(3)])
    return w[None], r[None], np.concatenate([wb, rb])[None]


def fused_gru_weights(
    networks: Sequence[ParallelGRUNetwork],
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """ONNX GRU W [1, 3nH, I], R [1, 3nH, nH], B [1, 6nH] for n networks of hidden H."""
    return fuse_gru(
        [_numpy(n.gru.weight_ih_l0) for n in networks],
        [_numpy(n.gru.weight_hh_l0) for n in networks],
        [_numpy(n.gru.bias_ih_l0) for n in networks],
        [_numpy(n.gru.bias_hh_l0) for n in networks],
    )


def fuse_linear(
    weights: Sequence[NDArray[np.float32]], biases: Sequence[NDArray[np.float32]]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """One Gemm's (weight, bias) for n networks' torch Linear layers of the same depth."""
    return _block_diagonal(weights), np.concatenate(biases)


FusedLayer = tuple[NDArray[np.float32], NDArray[np.float32]]
Branch = tuple[list[onnx.NodeProto], list[onnx.TensorProto]]


def target_branch(
    target: str,
    sequence_input: str,
    gru: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]],
    layers: Sequence[FusedLayer],
    n_networks: int,
) -> Branch:
    """One target's nodes and initialisers: fused GRU (from `fuse_gru`), its last step, the fused
    layers (from `fuse_linear`; ReLU between, tanh last), then the average of the n outputs."""
    w, r, b = gru
    initialisers = [
        numpy_helper.from_array(w, f"{target}_gru_W"),
        numpy_helper.from_array(r, f"{target}_gru_R"),
        numpy_helper.from_array(b, f"{target}_gru_B"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), f"{target}_squeeze_axes"),
        numpy_helper.from_array(
            np.full((n_networks, 1), 1.0 / n_networks, dtype=np.float32), f"{target}_average"
        ),
    ]
    nodes = [
        helper.make_node(
            "GRU",
            [sequence_input, f"{target}_gru_W", f"{target}_gru_R", f"{target}_gru_B"],
            ["", f"{target}_gru_last"],
            name=f"{target}_gru",
            hidden_size=r.shape[2],
            linear_before_reset=1,
            direction="forward",
            layout=0,
        ),
        helper.make_node(
            "Squeeze",
            [f"{target}_gru_last", f"{target}_squeeze_axes"],
            [f"{target}_hidden0"],
            name=f"{target}_squeeze",
        ),
    ]
    layer_nodes, layer_initialisers, previous = _fused_layers(target, f"{target}_hidden0", layers)
    nodes += layer_nodes
    initialisers += layer_initialisers
    nodes.append(
        helper.make_node(
            "MatMul", [previous, f"{target}_average"], [target], name=f"{target}_average"
        )
    )
    return nodes, initialisers


def _fused_layers(
    target: str, previous: str, layers: Sequence[FusedLayer]
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """Gemm + ReLU per layer, tanh after the last; returns the nodes, weights and output name."""
    nodes: list[onnx.NodeProto] = []
    initialisers: list[onnx.TensorProto] = []
    for depth, (weight, bias) in enumerate(layers):
        layer = f"fc{depth + 1}"
        initialisers += [
            numpy_helper.from_array(weight, f"{target}_{layer}_weight"),
            numpy_helper.from_array(bias, f"{target}_{layer}_bias"),
        ]
        gemm_out = f"{target}_{layer}_linear"
        nodes.append(
            helper.make_node(
                "Gemm",
                [previous, f"{target}_{layer}_weight", f"{target}_{layer}_bias"],
                [gemm_out],
                name=f"{target}_{layer}",
                transB=1,
            )
        )
        activation = "Relu" if depth < len(layers) - 1 else "Tanh"
        previous = f"{target}_{layer}_{activation.lower()}"
        nodes.append(
            helper.make_node(activation, [gemm_out], [previous], name=f"{target}_{layer}_act")
        )
    return nodes, initialisers, previous


def _target_branch(
    target: str, networks: Sequence[ParallelGRUNetwork], sequence_input: str
) -> Branch:
    layers = [
        fuse_linear(
            [_numpy(getattr(net, layer).weight) for net in networks],
            [_numpy(getattr(net, layer).bias) for net in networks],
        )
        for layer in ("fc1", "fc2", "fc3")
    ]
    return target_branch(target, sequence_input, fused_gru_weights(networks), layers, len(networks))


def ensemble_graph_model(
    standardiser: Standardiser,
    branches: Mapping[str, Branch],
    *,
    input_name: str = FEATURES_INPUT,
    sequence_length: int | str = SEQUENCE_LENGTH,
    n_features: int = N_FEATURES,
) -> onnx.ModelProto:
    """The model around the branches (each reading "time_major"), without metadata or checks.

    `input_name`, `sequence_length` and `n_features` differ from the contract only in test
    fixtures that must break it.
    """
    nodes = [
        helper.make_node("Sub", [input_name, "feature_mean"], ["centred"], name="centre"),
        helper.make_node("Mul", ["centred", "feature_scale"], ["standardised"], name="scale"),
        helper.make_node(
            "Transpose", ["standardised"], ["time_major"], name="time_major", perm=[1, 0, 2]
        ),
    ]
    initialisers = [
        numpy_helper.from_array(standardiser.mean.astype(np.float32), "feature_mean"),
        numpy_helper.from_array(standardiser.scale.astype(np.float32), "feature_scale"),
    ]
    for target in TARGETS:
        branch_nodes, branch_initialisers = branches[target]
        nodes += branch_nodes
        initialisers += branch_initialisers
    graph = helper.make_graph(
        nodes,
        "music_mood_gru_ensemble",
        [
            helper.make_tensor_value_info(
                input_name, TensorProto.FLOAT, ["batch", sequence_length, n_features]
            )
        ],
        [helper.make_tensor_value_info(t, TensorProto.FLOAT, ["batch", 1]) for t in TARGETS],
        initialisers,
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="music_mood.training",
        ir_version=IR_VERSION,
    )


def build_model(
    standardiser: Standardiser,
    networks: Mapping[str, Sequence[ParallelGRUNetwork]],
    metadata: dict[str, str],
) -> onnx.ModelProto:
    branches = {
        target: _target_branch(target, networks[target], "time_major") for target in TARGETS
    }
    model = ensemble_graph_model(standardiser, branches)
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def model_metadata(
    description: str,
    training_data: str,
    scores: dict[str, object],
    seeds: Sequence[int],
    extractor_version: str,
) -> dict[str, str]:
    return {
        "music_mood.format": FORMAT_FEATURES,
        "music_mood.feature_extractor_version": extractor_version,
        "music_mood.sample_rate": str(SAMPLE_RATE),
        "music_mood.window_s": str(WINDOW_S),
        "music_mood.step_s": str(STEP_S),
        "music_mood.sequence_length": str(SEQUENCE_LENGTH),
        "music_mood.hop_s": str(HOP_S),
        "music_mood.normalisation": NORMALISATION_EXCERPT,
        "music_mood.description": description,
        "music_mood.training_data": training_data,
        "music_mood.scores": json.dumps(scores, sort_keys=True),
        "music_mood.seeds": json.dumps(list(seeds)),
        "music_mood.created": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def run_onnxruntime(path: Path, features: NDArray[np.floating]) -> dict[str, NDArray[np.float32]]:

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    outputs = session.run(list(TARGETS), {FEATURES_INPUT: np.asarray(features, dtype=np.float32)})
    return {t: np.asarray(o, dtype=np.float32) for t, o in zip(TARGETS, outputs, strict=True)}


def parity_error(
    path: Path, ensemble: GRUEnsembleRegressor, features: NDArray[np.floating]
) -> float:
    """Largest absolute difference between onnxruntime and the torch ensemble on `features`."""
    onnx_out = run_onnxruntime(path, features)
    torch_out = target_columns(ensemble.predict(features))
    return max(
        float(np.max(np.abs(onnx_out[t][:, 0].astype(np.float64) - torch_out[t]))) for t in TARGETS
    )


def export_ensemble(
    ensemble: GRUEnsembleRegressor,
    path: Path,
    metadata: dict[str, str],
    check_features: NDArray[np.floating],
) -> float:
    """Write the ONNX file and verify it against torch on `check_features`; return the max error."""
    if ensemble.standardiser_ is None:
        raise RuntimeError("fit() the ensemble first")
    model = build_model(ensemble.standardiser_, ensemble.networks_, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    error = parity_error(path, ensemble, check_features)
    if not error <= PARITY_TOLERANCE:
        raise ExportError(f"ONNX output differs from torch by {error:.3g} (> {PARITY_TOLERANCE})")
    return error


def operator_types(path: Path) -> set[str]:
    return {node.op_type for node in onnx.load(str(path)).graph.node}
