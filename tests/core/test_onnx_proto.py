"""The dependency-free ONNX reader against the real `onnx` package and hand-written wire data."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.onnx_proto import (
    DOUBLE,
    FLOAT,
    INT32,
    INT64,
    ProtoError,
    looks_like_onnx,
    parse_model,
    parse_tensor,
)

from tests import onnx_wire as wire

MODELS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "models"
PARSEABLE = sorted(
    p.name
    for p in MODELS_DIR.glob("*.onnx")
    if p.name not in {"broken_truncated.onnx", "broken_not_onnx.onnx", "broken_empty.onnx"}
)


# --- comparison with the onnx package ----------------------------------------------------------


@pytest.mark.parametrize("name", PARSEABLE)
def test_reader_matches_onnx_package(name: str) -> None:
    onnx = pytest.importorskip(
        "onnx", reason="the onnx package is only in the training environment"
    )
    from onnx import helper, numpy_helper

    data = (MODELS_DIR / name).read_bytes()
    ours = parse_model(data)
    theirs = onnx.load_from_string(data)

    assert ours.ir_version == theirs.ir_version
    assert ours.opset_import == {o.domain: o.version for o in theirs.opset_import}
    assert ours.metadata == {p.key: p.value for p in theirs.metadata_props}
    assert ours.producer_name == theirs.producer_name
    assert len(ours.graph.nodes) == len(theirs.graph.node)
    for node, reference in zip(ours.graph.nodes, theirs.graph.node, strict=True):
        assert node.op_type == reference.op_type
        assert node.name == reference.name
        assert node.domain == reference.domain
        assert node.inputs == tuple(reference.input)
        assert node.outputs == tuple(reference.output)
        expected_attributes = {a.name: helper.get_attribute_value(a) for a in reference.attribute}
        assert set(node.attributes) == set(expected_attributes)
        for key, value in expected_attributes.items():
            if isinstance(value, onnx.TensorProto):
                np.testing.assert_array_equal(node.attributes[key], numpy_helper.to_array(value))
            elif isinstance(value, list):
                assert node.attributes[key] == tuple(value)
            else:
                assert node.attributes[key] == value
    assert set(ours.graph.initializers) == {t.name for t in theirs.graph.initializer}
    for tensor in theirs.graph.initializer:
        expected = numpy_helper.to_array(tensor)
        actual = ours.graph.initializers[tensor.name]
        assert actual.dtype == expected.dtype
        assert actual.shape == expected.shape
        np.testing.assert_array_equal(actual, expected)
    for ours_values, their_values in (
        (ours.graph.inputs, theirs.graph.input),
        (ours.graph.outputs, theirs.graph.output),
    ):
        assert [v.name for v in ours_values] == [v.name for v in their_values]
        for value, reference in zip(ours_values, their_values, strict=True):
            tensor_type = reference.type.tensor_type
            assert value.elem_type == tensor_type.elem_type
            if tensor_type.HasField("shape"):
                expected_dims = tuple(
                    d.dim_value if d.HasField("dim_value") else d.dim_param or None
                    for d in tensor_type.shape.dim
                )
                assert value.shape == expected_dims
            else:
                assert value.shape is None


@pytest.mark.parametrize(
    ("values", "data_type"),
    [
        (np.array([[1.5, -2.25], [3.0, 1e-7]], np.float32), FLOAT),
        (np.array([1.5, -2.25, 1e300], np.float64), DOUBLE),
        (np.array([1, -2, 2**31 - 1, -(2**31)], np.int32), INT32),
        (np.array([[1, -2], [2**62, -(2**63)]], np.int64), INT64),
    ],
)
def test_typed_fields_match_onnx_package(values: np.ndarray, data_type: int) -> None:
    """Tensors stored in float_data/int32_data/int64_data/double_data rather than raw_data."""
    pytest.importorskip("onnx", reason="the onnx package is only in the training environment")
    from onnx import helper

    tensor = helper.make_tensor("t", data_type, values.shape, values.ravel().tolist(), raw=False)
    assert not tensor.raw_data
    name, array = parse_tensor(memoryview(tensor.SerializeToString()))
    assert name == "t"
    assert array.dtype == values.dtype
    np.testing.assert_array_equal(array, values)


# --- hand-written wire data ----------------------------------------------------------------------


def test_unpacked_and_packed_repeated_fields_decode_alike() -> None:
    floats = [1.0, -0.5, 2.5]
    unpacked = (
        wire.field_varint(1, 3)
        + wire.field_varint(2, FLOAT)
        + b"".join(wire.field_fixed32(4, struct.pack("<f", f)) for f in floats)
        + wire.field_bytes(8, b"w")
    )
    packed = (
        wire.field_bytes(1, wire.varint(3))
        + wire.field_varint(2, FLOAT)
        + wire.field_bytes(4, struct.pack("<3f", *floats))
        + wire.field_bytes(8, b"w")
    )
    for data in (unpacked, packed):
        name, array = parse_tensor(memoryview(data))
        assert name == "w"
        np.testing.assert_array_equal(array, np.array(floats, np.float32))


def test_negative_int64_values_use_ten_byte_varints() -> None:
    data = (
        wire.field_varint(1, 2)
        + wire.field_varint(2, INT64)
        + wire.field_varint(7, -5)
        + wire.field_varint(7, -(2**63))
    )
    _, array = parse_tensor(memoryview(data))
    assert array.tolist() == [-5, -(2**63)]


def test_unknown_fields_are_skipped() -> None:
    graph = (
        wire.field_bytes(2, b"g") + wire.field_bytes(99, b"future") + wire.key(98, 1) + b"\0" * 8
    )
    model = wire.field_varint(1, 8) + wire.field_bytes(7, graph) + wire.field_varint(1000, 1)
    parsed = parse_model(model)
    assert parsed.ir_version == 8
    assert parsed.graph.name == "g"
    assert 1000 in parsed.unknown_fields


def test_raw_data_of_the_wrong_size_is_refused() -> None:
    data = wire.field_varint(1, 2) + wire.field_varint(2, FLOAT) + wire.field_bytes(9, b"\0" * 4)
    with pytest.raises(ProtoError, match="raw_data"):
        parse_tensor(memoryview(data))


def test_external_data_is_refused() -> None:
    data = (
        wire.field_varint(1, 1)
        + wire.field_varint(2, FLOAT)
        + wire.field_bytes(8, b"w")
        + wire.field_varint(14, 1)
    )
    with pytest.raises(ProtoError, match="external"):
        parse_tensor(memoryview(data))


def test_truncated_model_is_reported_as_truncated() -> None:
    data = (MODELS_DIR / "tiny.onnx").read_bytes()
    assert looks_like_onnx(data)
    with pytest.raises(ProtoError) as caught:
        parse_model(data[: len(data) // 2])
    assert caught.value.truncated


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (wire.field_varint(1, 8), "no graph"),
        (wire.field_bytes(7, b""), "no ir_version"),
        (b"\x0f\x00", "wire type"),
        ((MODELS_DIR / "broken_not_onnx.onnx").read_bytes(), ""),
        (b"\x08" + b"\xff" * 11, "varint"),
    ],
)
def test_non_models_raise_proto_error(data: bytes, match: str) -> None:
    with pytest.raises(ProtoError, match=match or None):
        parse_model(data)


def test_initializers_are_read_only() -> None:
    model = parse_model((MODELS_DIR / "tiny.onnx").read_bytes())
    weight = model.graph.initializers["valence_gru_W"]
    assert weight.dtype == np.float32
    assert weight.shape == (1, 18, 68)
    with pytest.raises(ValueError, match="read-only"):
        weight[0, 0, 0] = 1.0
