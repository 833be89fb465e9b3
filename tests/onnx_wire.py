"""A tiny ONNX writer on the protobuf wire format, for crafted model files in tests.

It needs neither ``onnx`` nor ``protobuf`` (Home Assistant's test environments have neither), and it
writes what a hostile file may hold but the ``onnx`` package refuses to build: dims whose product
overflows, 65 dimensions, out-of-range integers, millions of empty nodes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path

from music_mood_core.model_contract import (
    DEFAULT_HOP_S,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_SEQUENCE_LENGTH,
    DEFAULT_STEP_S,
    DEFAULT_WINDOW_S,
    FEATURES_INPUT,
    FORMAT_FEATURES,
    FORMAT_LOUDNESS,
    LOUDNESS_INPUT,
    METADATA_PREFIX,
    N_FEATURES,
    NORMALISATION_EXCERPT,
)

FLOAT = 1
UINT8 = 2
INT32 = 6
INT64 = 7
BOOL = 9
FLOAT16 = 10

_ATTRIBUTE_INT = 2
_ATTRIBUTE_INTS = 7


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def field_varint(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def field_bytes(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def field_fixed32(number: int, payload: bytes) -> bytes:
    return key(number, 5) + payload


def packed_varints(number: int, values: Iterable[int]) -> bytes:
    return field_bytes(number, b"".join(varint(value) for value in values))


def tensor(
    name: str,
    dims: Sequence[int],
    data_type: int = FLOAT,
    *,
    raw: bytes | None = None,
    floats: Sequence[float] | None = None,
    int32_data: Sequence[int] | None = None,
    int64_data: Sequence[int] | None = None,
) -> bytes:
    """A TensorProto; ``dims`` are written as given, however absurd."""
    out = packed_varints(1, dims) if dims else b""
    out += field_varint(2, data_type)
    if floats is not None:
        out += field_bytes(4, struct.pack(f"<{len(floats)}f", *floats))
    if int32_data is not None:
        out += packed_varints(5, int32_data)
    if int64_data is not None:
        out += packed_varints(7, int64_data)
    out += field_bytes(8, name.encode())
    if raw is not None:
        out += field_bytes(9, raw)
    return out


def attribute_int(name: str, value: int) -> bytes:
    return field_bytes(1, name.encode()) + field_varint(3, value) + field_varint(20, _ATTRIBUTE_INT)


def attribute_ints(name: str, values: Sequence[int]) -> bytes:
    encoded_name = field_bytes(1, name.encode())
    return encoded_name + packed_varints(8, values) + field_varint(20, _ATTRIBUTE_INTS)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], *attributes: bytes) -> bytes:
    out = b"".join(field_bytes(1, name.encode()) for name in inputs)
    out += b"".join(field_bytes(2, name.encode()) for name in outputs)
    out += field_bytes(4, op_type.encode())
    out += b"".join(field_bytes(5, attribute) for attribute in attributes)
    return out


def _dimension(dim: int | str) -> bytes:
    return field_bytes(2, dim.encode()) if isinstance(dim, str) else field_varint(1, dim)


def value_info(name: str, dims: Sequence[int | str], elem_type: int = FLOAT) -> bytes:
    shape = b"".join(field_bytes(1, _dimension(dim)) for dim in dims)
    tensor_type = field_varint(1, elem_type) + field_bytes(2, shape)
    return field_bytes(1, name.encode()) + field_bytes(2, field_bytes(1, tensor_type))


def graph(
    nodes: Sequence[bytes],
    initializers: Sequence[bytes],
    inputs: Sequence[bytes],
    outputs: Sequence[bytes],
    *,
    padding: bytes = b"",
) -> bytes:
    """A GraphProto; ``padding`` is appended raw (e.g. millions of empty node fields)."""
    out = b"".join(field_bytes(1, item) for item in nodes)
    out += field_bytes(2, b"crafted")
    out += b"".join(field_bytes(5, item) for item in initializers)
    out += b"".join(field_bytes(11, item) for item in inputs)
    out += b"".join(field_bytes(12, item) for item in outputs)
    return out + padding


def model(graph_bytes: bytes, metadata: dict[str, str], *, opset: int = 11) -> bytes:
    out = field_varint(1, 7)  # ir_version first, as every ONNX writer does
    out += field_bytes(2, b"crafted-test")
    out += field_bytes(7, graph_bytes)
    out += field_bytes(8, field_bytes(1, b"") + field_varint(2, opset))
    for name, value in metadata.items():
        out += field_bytes(14, field_bytes(1, name.encode()) + field_bytes(2, value.encode()))
    return out


def mood_metadata(extractor_version: str, **overrides: str) -> dict[str, str]:
    """The contract's metadata on the study's default grid; ``overrides`` by key without prefix."""
    values = {
        "format": FORMAT_FEATURES,
        "feature_extractor_version": extractor_version,
        "sample_rate": str(DEFAULT_SAMPLE_RATE),
        "window_s": str(DEFAULT_WINDOW_S),
        "step_s": str(DEFAULT_STEP_S),
        "sequence_length": str(DEFAULT_SEQUENCE_LENGTH),
        "hop_s": str(DEFAULT_HOP_S),
        "normalisation": NORMALISATION_EXCERPT,
        "description": "crafted test model",
    }
    values.update(overrides)
    return {METADATA_PREFIX + name: value for name, value in values.items()}


def mood_model(
    extractor_version: str,
    *,
    extra_nodes: Sequence[bytes] = (),
    extra_initializers: Sequence[bytes] = (),
    extra_output: str | None = None,
    metadata: dict[str, str] | None = None,
    graph_padding: bytes = b"",
) -> bytes:
    """A valid mood model (valence = arousal = mean of the features), plus crafted parts.

    ``extra_output`` names a tensor the extra nodes compute; it is added to valence, so running the
    model has to compute it.
    """
    nodes = [
        node(
            "ReduceMean",
            [FEATURES_INPUT],
            ["pooled"],
            attribute_ints("axes", [1, 2]),
            attribute_int("keepdims", 1),
        ),
        node("Squeeze", ["pooled"], ["mean"], attribute_ints("axes", [2])),
        *extra_nodes,
    ]
    if extra_output is None:
        nodes.append(node("Identity", ["mean"], ["valence"]))
    else:
        nodes.append(node("Add", ["mean", extra_output], ["valence"]))
    nodes.append(node("Identity", ["mean"], ["arousal"]))
    body = graph(
        nodes,
        extra_initializers,
        [value_info(FEATURES_INPUT, ["batch", DEFAULT_SEQUENCE_LENGTH, N_FEATURES])],
        [value_info("valence", ["batch", 1]), value_info("arousal", ["batch", 1])],
        padding=graph_padding,
    )
    return model(body, mood_metadata(extractor_version) if metadata is None else metadata)


def linear_mood_model(
    metadata: dict[str, str], *, sequence_length: int, with_loudness: bool, loudness_gain: float
) -> bytes:
    """A small working mood model: valence and arousal are tanh of the time-averaged features
    projected on fixed weights; with ``with_loudness`` (format 2) the mean frame level times
    ``loudness_gain`` is added before the tanh, so a level change shows in both readings."""
    weights = {
        target: [0.02 * math.sin(phase * (k + 1)) for k in range(N_FEATURES)]
        for target, phase in (("valence", 0.7), ("arousal", 1.3))
    }
    initializers = [
        tensor(f"w_{target}", [N_FEATURES, 1], floats=values) for target, values in weights.items()
    ]
    nodes = []
    for target in weights:
        nodes += [
            node("MatMul", [FEATURES_INPUT, f"w_{target}"], [f"{target}_frames"]),
            node(
                "ReduceMean",
                [f"{target}_frames"],
                [f"{target}_mean"],
                attribute_ints("axes", [1]),
                attribute_int("keepdims", 0),
            ),
        ]
    inputs = [value_info(FEATURES_INPUT, ["batch", sequence_length, N_FEATURES])]
    if with_loudness:
        inputs.append(value_info(LOUDNESS_INPUT, ["batch", sequence_length]))
        initializers.append(tensor("loudness_gain", [1], floats=[loudness_gain]))
        nodes += [
            node(
                "ReduceMean",
                [LOUDNESS_INPUT],
                ["level_mean"],
                attribute_ints("axes", [1]),
                attribute_int("keepdims", 1),
            ),
            node("Mul", ["level_mean", "loudness_gain"], ["level_term"]),
        ]
        for target in weights:
            nodes.append(node("Add", [f"{target}_mean", "level_term"], [f"{target}_sum"]))
    else:
        for target in weights:
            nodes.append(node("Identity", [f"{target}_mean"], [f"{target}_sum"]))
    for target in weights:
        nodes.append(node("Tanh", [f"{target}_sum"], [target]))
    body = graph(
        nodes,
        initializers,
        inputs,
        [value_info("valence", ["batch", 1]), value_info("arousal", ["batch", 1])],
    )
    return model(body, metadata)


# A frame grid unlike the study's (16 kHz, 40 ms frames, 40 per excerpt, a 0.25 s hop): a caller
# that assumes the default grid anywhere gives other numbers on it.
ODD_GRID_SAMPLE_RATE = 16000
ODD_GRID_WINDOW_S = 0.04
ODD_GRID_SEQUENCE_LENGTH = 40
ODD_GRID_HOP_S = 0.25
# How strongly format 2's loudness input moves the linear model's outputs (per dB).
LINEAR_LOUDNESS_GAIN = 0.02


def write_odd_grid_model(folder: Path, extractor_version: str, model_format: str) -> Path:
    """A :func:`write_linear_mood_model` file on the odd grid, named by its format."""
    return write_linear_mood_model(
        folder / f"odd_grid_format{model_format}.onnx",
        extractor_version,
        model_format=model_format,
        sample_rate=ODD_GRID_SAMPLE_RATE,
        window_s=ODD_GRID_WINDOW_S,
        sequence_length=ODD_GRID_SEQUENCE_LENGTH,
        hop_s=ODD_GRID_HOP_S,
    )


def write_linear_mood_model(
    path: Path,
    extractor_version: str,
    *,
    model_format: str,
    sample_rate: int,
    window_s: float,
    sequence_length: int,
    hop_s: float,
    loudness_gain: float = LINEAR_LOUDNESS_GAIN,
) -> Path:
    """A :func:`linear_mood_model` file on its own grid (window = step): format 2 reads loudness."""
    metadata = mood_metadata(
        extractor_version,
        format=model_format,
        sample_rate=str(sample_rate),
        window_s=str(window_s),
        step_s=str(window_s),
        sequence_length=str(sequence_length),
        hop_s=str(hop_s),
    )
    path.write_bytes(
        linear_mood_model(
            metadata,
            sequence_length=sequence_length,
            with_loudness=model_format == FORMAT_LOUDNESS,
            loudness_gain=loudness_gain,
        )
    )
    return path
