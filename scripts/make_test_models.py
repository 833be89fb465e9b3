"""Write the ONNX fixtures of tests/fixtures/models/ and their onnxruntime reference outputs.

Needs the training environment (torch, onnx, onnxruntime). Run from the repository root:

    python scripts/make_test_models.py

Weights are random with a fixed seed; the ensemble graphs are built by training.export's own
functions, so they are what the exporter emits (the fused 5-network GRU ensemble per target of
docs/ARCHITECTURE.md), apart from the deliberate variations each fixture names. The reference
outputs are computed here by onnxruntime so that environments without onnxruntime can still check
the numpy engine against it.
Regenerate whenever music_mood_core.features.EXTRACTOR_VERSION changes.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

from music_mood_core.features import EXTRACTOR_VERSION  # noqa: E402
from music_mood_core.model_contract import (  # noqa: E402
    DEFAULT_HOP_S,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_SEQUENCE_LENGTH,
    DEFAULT_STEP_S,
    DEFAULT_WINDOW_S,
    FEATURES_INPUT,
    FORMAT_FEATURES,
    N_FEATURES,
    NORMALISATION_EXCERPT,
    OUTPUT_NAMES,
)

from training.export import (  # noqa: E402
    Branch,
    ensemble_graph_model,
    fuse_gru,
    fuse_linear,
    target_branch,
)
from training.gru import Standardiser  # noqa: E402

OUT_DIR = REPO_ROOT / "tests" / "fixtures" / "models"
NETWORKS = 5
HIDDEN = 30
FC_SIZES = (30, 30)
INT64_MAX = np.iinfo(np.int64).max

Array = NDArray[np.float32]


def metadata(**overrides: str) -> dict[str, str]:
    values = {
        "music_mood.format": FORMAT_FEATURES,
        "music_mood.feature_extractor_version": EXTRACTOR_VERSION,
        "music_mood.sample_rate": str(DEFAULT_SAMPLE_RATE),
        "music_mood.window_s": str(DEFAULT_WINDOW_S),
        "music_mood.step_s": str(DEFAULT_STEP_S),
        "music_mood.sequence_length": str(DEFAULT_SEQUENCE_LENGTH),
        "music_mood.hop_s": str(DEFAULT_HOP_S),
        "music_mood.normalisation": NORMALISATION_EXCERPT,
        "music_mood.description": "test fixture: random weights, fused 5-network GRU ensemble",
        "music_mood.training_data": "none (random weights)",
        "music_mood.scores": '{"evaluation": {"arousal": {"rmse": 0.5}, "valence": {"rmse": 0.5}}}',
        "music_mood.seeds": "[0, 1, 2, 3, 4]",
        "music_mood.created": "2026-11-25T00:00:00+00:00",
    }
    values.update(overrides)
    return values


def uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> Array:
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(np.float32)


def feature_statistics(rng: np.random.Generator, n_features: int) -> tuple[Array, Array]:
    """Means and spreads on pyAudioAnalysis feature scales (MFCCs ~ -20, chroma ~ 0.01)."""
    mean = rng.uniform(-20.0, 5.0, n_features).astype(np.float32) * rng.choice(
        [0.001, 0.1, 1.0], n_features
    ).astype(np.float32)
    std = (np.abs(mean) * 0.3 + rng.uniform(0.001, 1.0, n_features)).astype(np.float32)
    return mean, std


def random_branch(
    rng: np.random.Generator,
    target: str,
    *,
    n_features: int,
    networks: int,
    hidden: int,
    last_step_by_slice: bool,
    average_gain: float = 1.0,
) -> Branch:
    """One target as the exporter fuses it, from random per-network weights in torch's layout."""
    gru = fuse_gru(
        [uniform(rng, (3 * hidden, n_features), hidden) for _ in range(networks)],
        [uniform(rng, (3 * hidden, hidden), hidden) for _ in range(networks)],
        [uniform(rng, (3 * hidden,), hidden) for _ in range(networks)],
        [uniform(rng, (3 * hidden,), hidden) for _ in range(networks)],
    )
    layers = []
    for fan_in, fan_out in itertools.pairwise((hidden, *FC_SIZES, 1)):
        # A larger last layer spreads the outputs over [-1, 1] so parity is checked on real values.
        gain = 4.0 if fan_out == 1 else 1.0
        layers.append(
            fuse_linear(
                [gain * uniform(rng, (fan_out, fan_in), fan_in) for _ in range(networks)],
                [uniform(rng, (fan_out,), fan_in) for _ in range(networks)],
            )
        )
    nodes, inits = target_branch(target, "time_major", gru, layers, networks)
    if average_gain != 1.0:
        _replace_initialiser(
            inits, f"{target}_average", np.full((networks, 1), average_gain / networks, np.float32)
        )
    if last_step_by_slice:
        _read_last_step_by_slice(target, nodes, inits)
    return nodes, inits


def _replace_initialiser(inits: list[onnx.TensorProto], name: str, value: NDArray[Any]) -> None:
    initialiser = next(init for init in inits if init.name == name)
    initialiser.CopyFrom(numpy_helper.from_array(value, name))


def _read_last_step_by_slice(
    target: str, nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto]
) -> None:
    """Take the last step from the GRU's full output by Slice instead of its final state.

    The exporter reads the final state; this variant puts Slice inside a real ensemble graph.
    Y [seq, 1, batch, H] -> last step via Slice -> squeeze the seq and direction axes.
    """
    gru = next(node for node in nodes if node.op_type == "GRU")
    del gru.output[:]
    gru.output.extend([f"{target}_gru_all", ""])
    squeeze = next(node for node in nodes if node.op_type == "Squeeze")
    squeeze.input[0] = f"{target}_gru_sliced"
    _replace_initialiser(inits, f"{target}_squeeze_axes", np.array([0, 1], np.int64))
    inits += [
        numpy_helper.from_array(np.array([-1], np.int64), f"{target}_last_start"),
        numpy_helper.from_array(np.array([INT64_MAX], np.int64), f"{target}_last_end"),
        numpy_helper.from_array(np.array([0], np.int64), f"{target}_last_axis"),
        numpy_helper.from_array(np.array([1], np.int64), f"{target}_last_step"),
    ]
    nodes.insert(
        nodes.index(squeeze),
        helper.make_node(
            "Slice",
            [
                f"{target}_gru_all",
                f"{target}_last_start",
                f"{target}_last_end",
                f"{target}_last_axis",
                f"{target}_last_step",
            ],
            [f"{target}_gru_sliced"],
            name=f"{target}_last",
        ),
    )


def ensemble_model(
    seed: int,
    *,
    networks: int = NETWORKS,
    hidden: int = HIDDEN,
    input_name: str = FEATURES_INPUT,
    n_features: int = N_FEATURES,
    sequence_length: int | str = DEFAULT_SEQUENCE_LENGTH,
    meta: dict[str, str] | None = None,
    arousal_activation_override: str | None = None,
    average_gain: float = 1.0,
) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    mean, std = feature_statistics(rng, n_features)
    standardiser = Standardiser(mean=mean, scale=(1.0 / std).astype(np.float32))
    branches = {
        target: random_branch(
            rng,
            target,
            n_features=n_features,
            networks=networks,
            hidden=hidden,
            last_step_by_slice=target == "arousal",
            average_gain=average_gain,
        )
        for target in OUTPUT_NAMES
    }
    model = ensemble_graph_model(
        standardiser,
        branches,
        input_name=input_name,
        sequence_length=sequence_length,
        n_features=n_features,
    )
    if arousal_activation_override is not None:
        for node in model.graph.node:
            if node.op_type == "Tanh" and node.input[0].startswith("arousal"):
                node.op_type = arousal_activation_override
    helper.set_model_props(model, metadata() if meta is None else meta)
    return model


def tiny_model(**overrides: Any) -> onnx.ModelProto:
    """The small ensemble (2 networks x 3) the broken variants are made from."""
    return ensemble_model(seed=2, networks=2, hidden=3, **overrides)


def realistic_features(seed: int, batch: int, n_features: int = N_FEATURES) -> Array:
    """Inputs around the fixture's own feature statistics (the graph standardises them)."""
    stats_rng = np.random.default_rng(seed)
    mean, std = feature_statistics(stats_rng, n_features)
    rng = np.random.default_rng(seed + 1000)
    noise = rng.standard_normal((batch, DEFAULT_SEQUENCE_LENGTH, n_features)).astype(np.float32)
    return (mean + 1.5 * std * noise).astype(np.float32)


def run_ort(model: onnx.ModelProto, feeds: dict[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds), strict=True))


def save(model: onnx.ModelProto, name: str, check: bool = True) -> bytes:
    if check:
        onnx.checker.check_model(model, full_check=True)
    data: bytes = model.SerializeToString()
    (OUT_DIR / name).write_bytes(data)
    return data


def ops_models() -> dict[str, tuple[onnx.ModelProto, dict[str, NDArray[Any]]]]:
    """Small graphs covering every supported operator and option, each compared with onnxruntime."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)

    def const(name: str, value: NDArray[Any]) -> onnx.TensorProto:
        return numpy_helper.from_array(value, name)

    # opset 17: everything with axes/bounds as inputs where opset 13+ wants them.
    n17 = [
        helper.make_node("Add", ["x", "c4"], ["add"]),
        helper.make_node("Div", ["add", "c31"], ["div"]),
        helper.make_node("Concat", ["div", "x"], ["cat"], axis=1),
        helper.make_node("Gather", ["cat", "gather_idx"], ["gathered"], axis=1),
        helper.make_node("Reshape", ["gathered", "reshape_shape"], ["reshaped"]),
        helper.make_node("Unsqueeze", ["reshaped", "unsq_axes"], ["unsq"]),
        helper.make_node("ReduceMean", ["unsq"], ["mean_keep"], axes=[-1], keepdims=1),
        helper.make_node("ReduceMean", ["x"], ["mean_all"], keepdims=0),
        helper.make_node("Identity", ["mean_keep"], ["out_mean"]),
        helper.make_node(
            "Slice", ["x", "neg_start", "neg_end", "neg_axes", "neg_steps"], ["sliced_neg"]
        ),
        helper.make_node("Slice", ["x", "pos_start", "pos_end"], ["sliced_pos"]),
        helper.make_node(
            "Constant", [], ["k"], value=numpy_helper.from_array(np.array([1.5, -2.0], np.float32))
        ),
        helper.make_node("Mul", ["sliced_neg", "k"], ["scaled"]),
        helper.make_node("Sub", ["scaled", "k"], ["out_slice"]),
        helper.make_node("Transpose", ["x"], ["xt"]),
        helper.make_node(
            "Gemm", ["a2", "b2", "c2"], ["out_gemm"], alpha=0.5, beta=2.0, transA=1, transB=1
        ),
        helper.make_node("Gemm", ["a2", "b2"], ["out_gemm_noc"], transA=1, transB=1),
        helper.make_node("MatMul", ["x", "m42"], ["mm"]),
        helper.make_node("Relu", ["mm"], ["out_relu"]),
        helper.make_node("Tanh", ["xt"], ["out_tanh"]),
        helper.make_node("Unsqueeze", ["x", "unsq_axes2"], ["x5"]),
        helper.make_node("Squeeze", ["x5"], ["out_squeeze_all"]),
        helper.make_node("Div", ["int_a", "int_b"], ["out_int_div"]),
        helper.make_node("Concat", ["x", "x"], ["out_concat_neg"], axis=-1),
        helper.make_node(
            "GRU",
            ["seq", "gw", "gr", "gb", "", "h0"],
            ["out_gru_y", "out_gru_h"],
            hidden_size=3,
            linear_before_reset=0,
        ),
        helper.make_node(
            "GRU", ["seq", "gw", "gr"], ["out_gru_nobias"], hidden_size=3, linear_before_reset=1
        ),
    ]
    init17 = [
        const("c4", rng.standard_normal(4).astype(np.float32)),
        const(
            "c31", (rng.uniform(0.5, 2.0, (3, 1)) * rng.choice([-1, 1], (3, 1))).astype(np.float32)
        ),
        const("gather_idx", np.array([-1, 0, 4], np.int64)),
        const("reshape_shape", np.array([0, -1], np.int64)),
        const("unsq_axes", np.array([1], np.int64)),
        const("unsq_axes2", np.array([0, -1], np.int64)),
        const("neg_start", np.array([-1, 100], np.int64)),
        const("neg_end", np.array([-INT64_MAX, 0], np.int64)),
        const("neg_axes", np.array([2, 1], np.int64)),
        const("neg_steps", np.array([-2, -1], np.int64)),
        const("pos_start", np.array([1, -3], np.int64)),
        const("pos_end", np.array([INT64_MAX, -1], np.int64)),
        const("b2", rng.standard_normal((5, 4)).astype(np.float32)),
        const("c2", rng.standard_normal((1, 5)).astype(np.float32)),
        const("m42", rng.standard_normal((4, 2)).astype(np.float32)),
        const("int_a", np.array([7, -7, 7, -7, 0], np.int64)),
        const("int_b", np.array([2, 2, -2, -2, 3], np.int64)),
        const("gw", rng.standard_normal((1, 9, 4)).astype(np.float32)),
        const("gr", rng.standard_normal((1, 9, 3)).astype(np.float32)),
        const("gb", rng.standard_normal((1, 18)).astype(np.float32)),
    ]
    feeds17 = {
        "x": x,
        "a2": rng.standard_normal((4, 3)).astype(np.float32),
        "seq": rng.standard_normal((7, 2, 4)).astype(np.float32),
        "h0": rng.standard_normal((1, 2, 3)).astype(np.float32),
    }
    outputs17 = [
        "out_mean",
        "mean_all",
        "out_slice",
        "sliced_pos",
        "out_gemm",
        "out_gemm_noc",
        "out_relu",
        "out_tanh",
        "out_squeeze_all",
        "out_int_div",
        "out_concat_neg",
        "out_gru_y",
        "out_gru_h",
        "out_gru_nobias",
    ]
    model17 = _ops_model("ops17", n17, init17, feeds17, outputs17, opset=17)

    # opset 11: Squeeze/Unsqueeze/ReduceMean axes as attributes.
    n11 = [
        helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0, 4]),
        helper.make_node("Squeeze", ["u"], ["out_squeeze"], axes=[0, -1]),
        helper.make_node("ReduceMean", ["x"], ["out_mean"], axes=[0, 2], keepdims=0),
        helper.make_node("Slice", ["x", "s", "e", "a"], ["out_slice"]),
    ]
    init11 = [
        const("s", np.array([1], np.int64)),
        const("e", np.array([3], np.int64)),
        const("a", np.array([1], np.int64)),
    ]
    model11 = _ops_model(
        "ops11", n11, init11, {"x": x}, ["out_squeeze", "out_mean", "out_slice"], opset=11
    )

    # opset 18: ReduceMean takes axes as an input.
    n18 = [
        helper.make_node("ReduceMean", ["x", "axes"], ["out_mean"], keepdims=1),
        helper.make_node("ReduceMean", ["x"], ["out_mean_all"], keepdims=0),
    ]
    init18 = [const("axes", np.array([1], np.int64))]
    model18 = _ops_model("ops18", n18, init18, {"x": x}, ["out_mean", "out_mean_all"], opset=18)
    return {
        "ops_opset17": (model17, feeds17),
        "ops_opset11": (model11, {"x": x}),
        "ops_opset18": (model18, {"x": x}),
    }


def _ops_model(
    name: str,
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    feeds: dict[str, NDArray[Any]],
    outputs: list[str],
    *,
    opset: int,
) -> onnx.ModelProto:
    inputs = [
        helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape))
        for k, v in feeds.items()
    ]
    outs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outputs]
    graph = helper.make_graph(nodes, name, inputs, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    return onnx.shape_inference.infer_shapes(model)


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    references: dict[str, NDArray[Any]] = {}

    ensemble = ensemble_model(seed=1)
    save(ensemble, "ensemble.onnx")
    for label, batch in (("batch1", 1), ("batch4", 4)):
        features = realistic_features(seed=1, batch=batch)
        out = run_ort(ensemble, {FEATURES_INPUT: features})
        references[f"ensemble.{label}.features"] = features
        references[f"ensemble.{label}.valence"] = out["valence"]
        references[f"ensemble.{label}.arousal"] = out["arousal"]

    tiny = tiny_model()
    tiny_bytes = save(tiny, "tiny.onnx")
    features = realistic_features(seed=2, batch=3)
    out = run_ort(tiny, {FEATURES_INPUT: features})
    references["tiny.batch3.features"] = features
    references["tiny.batch3.valence"] = out["valence"]
    references["tiny.batch3.arousal"] = out["arousal"]

    save(tiny_model(sequence_length="time"), "tiny_dynamic_time.onnx")

    # Averages scaled by 10: outputs leave [-1, 1], so clipping in MoodModel.predict is observable.
    unbounded = tiny_model(average_gain=10.0)
    save(unbounded, "tiny_unbounded.onnx")
    out = run_ort(unbounded, {FEATURES_INPUT: features})
    references["tiny_unbounded.batch3.valence"] = out["valence"]
    references["tiny_unbounded.batch3.arousal"] = out["arousal"]

    (OUT_DIR / "broken_truncated.onnx").write_bytes(tiny_bytes[: len(tiny_bytes) // 2])
    noise = np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)
    noise[0] = 0xFF  # not the ir_version tag ONNX files start with
    (OUT_DIR / "broken_not_onnx.onnx").write_bytes(noise.tobytes())
    (OUT_DIR / "broken_empty.onnx").write_bytes(b"")
    save(tiny_model(arousal_activation_override="Softmax"), "broken_unknown_operator.onnx")
    save(tiny_model(input_name="x"), "broken_wrong_input_name.onnx")
    save(tiny_model(n_features=69), "broken_wrong_input_shape.onnx")
    save(tiny_model(meta={}), "broken_missing_metadata.onnx")
    variants = {
        "broken_sample_rate_zero.onnx": {"music_mood.sample_rate": "0"},
        "broken_extractor_version.onnx": {
            "music_mood.feature_extractor_version": "some-other-extractor/9"
        },
        "broken_sequence_length.onnx": {"music_mood.sequence_length": "50"},
        "broken_normalisation.onnx": {"music_mood.normalisation": "song"},
        "broken_window_step.onnx": {"music_mood.window_s": "0.1"},
    }
    for name, override in variants.items():
        save(tiny_model(meta=metadata(**override)), name)

    for name, (model, feeds) in ops_models().items():
        save(model, f"{name}.onnx")
        for key, value in feeds.items():
            references[f"{name}.in.{key}"] = value
        for key, value in run_ort(model, feeds).items():
            references[f"{name}.out.{key}"] = value

    np.savez_compressed(OUT_DIR / "reference_outputs.npz", allow_pickle=False, **references)
    for path in sorted(OUT_DIR.iterdir()):
        print(f"{path.stat().st_size:>9}  {path.name}")


if __name__ == "__main__":
    main()
