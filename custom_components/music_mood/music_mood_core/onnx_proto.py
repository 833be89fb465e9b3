"""A minimal reader of ONNX model files that needs no ``onnx`` or ``protobuf`` package.

Home Assistant OS runs on Alpine (musl), where neither ``onnx`` nor ``onnxruntime`` installs, so the
protobuf wire format is decoded here directly. Only the messages and fields a model runner needs are
read; every other field is skipped as the protobuf rules allow, so newer exporters' files load.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

# TensorProto.DataType values (onnx.proto3).
FLOAT: Final = 1
UINT8: Final = 2
INT8: Final = 3
UINT16: Final = 4
INT16: Final = 5
INT32: Final = 6
INT64: Final = 7
STRING: Final = 8
BOOL: Final = 9
FLOAT16: Final = 10
DOUBLE: Final = 11
UINT32: Final = 12
UINT64: Final = 13

# Little-endian, as ONNX stores raw_data.
_NUMPY_DTYPES: Final[dict[int, np.dtype[np.generic]]] = {
    FLOAT: np.dtype("<f4"),
    UINT8: np.dtype("u1"),
    INT8: np.dtype("i1"),
    UINT16: np.dtype("<u2"),
    INT16: np.dtype("<i2"),
    INT32: np.dtype("<i4"),
    INT64: np.dtype("<i8"),
    BOOL: np.dtype("bool"),
    FLOAT16: np.dtype("<f2"),
    DOUBLE: np.dtype("<f8"),
    UINT32: np.dtype("<u4"),
    UINT64: np.dtype("<u8"),
}

# Protobuf wire types.
_VARINT: Final = 0
_FIXED64: Final = 1
_LENGTH_DELIMITED: Final = 2
_FIXED32: Final = 5

_TENSOR_DATA_LOCATION_EXTERNAL: Final = 1
_ONNX_IR_VERSION_TAG: Final = 0x08  # field 1 (ir_version), wire type varint


class ProtoError(ValueError):
    """The bytes are not a well-formed protobuf message of the expected kind.

    ``truncated`` is true when a field runs past the end of the data, i.e. the file was cut short.
    """

    def __init__(self, message: str, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated


class ParseLimitError(ProtoError):
    """The file is well-formed but asks for more than a mood model may (counts, sizes, ranks)."""


# Bounds on what decoding one file may build. Mood models have about 25 nodes and initializers and
# 0.3 M weights; these refuse a crafted file before it costs much memory (16 MiB of empty nodes
# would otherwise become 8 M Python objects).
MAX_NODES: Final = 10_000
MAX_INITIALIZERS: Final = 10_000
MAX_DECODED_MESSAGES: Final = 100_000  # nodes, attributes, tensors, values, dims, metadata, ...
MAX_FIELDS: Final = 2_000_000  # protobuf fields read, skipped ones included: bounds parse time
MAX_LISTED_VALUES: Final = 1_000_000  # values decoded one by one (varints, unpacked numbers)
MAX_TENSOR_ELEMENTS: Final = 16 * 1024 * 1024  # all tensors of a model together
MAX_TENSOR_RANK: Final = 16


class _Budget:
    """Counts what one parse has built so far; raises ParseLimitError past a bound."""

    __slots__ = ("elements", "fields", "initializers", "listed", "messages", "nodes")

    def __init__(self) -> None:
        self.nodes = self.initializers = self.messages = self.listed = self.elements = 0
        self.fields = 0

    def field(self) -> None:
        self.fields += 1
        if self.fields > MAX_FIELDS:
            raise ParseLimitError(f"more than {MAX_FIELDS:,} protobuf fields: not a mood model")

    def message(self, what: str) -> None:
        self.messages += 1
        if self.messages > MAX_DECODED_MESSAGES:
            raise ParseLimitError(
                f"more than {MAX_DECODED_MESSAGES:,} messages (at a {what}): not a mood model"
            )

    def node(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ParseLimitError(f"more than {MAX_NODES:,} graph nodes")
        self.message("node")

    def initializer(self) -> None:
        self.initializers += 1
        if self.initializers > MAX_INITIALIZERS:
            raise ParseLimitError(f"more than {MAX_INITIALIZERS:,} initializers")

    def listed_values(self, count: int, what: str) -> None:
        self.listed += count
        if self.listed > MAX_LISTED_VALUES:
            raise ParseLimitError(
                f"more than {MAX_LISTED_VALUES:,} individually encoded values (in {what})"
            )

    def tensor_elements(self, count: int, name: str) -> None:
        self.elements += count
        if self.elements > MAX_TENSOR_ELEMENTS:
            raise ParseLimitError(
                f"tensor {name!r} brings the model to {self.elements:,} elements; "
                f"at most {MAX_TENSOR_ELEMENTS:,} are allowed"
            )


AttributeValue = (
    float | int | bytes | NDArray[Any] | tuple[float, ...] | tuple[int, ...] | tuple[bytes, ...]
)


@dataclass(frozen=True)
class ValueInfo:
    """A graph input or output: name, element type and shape (dims are ints, names, or None)."""

    name: str
    elem_type: int | None
    shape: tuple[int | str | None, ...] | None


@dataclass(frozen=True)
class Node:
    op_type: str
    domain: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, AttributeValue]
    # Attributes whose kind this reader does not decode (graphs, sparse tensors, type protos).
    undecoded_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Graph:
    name: str
    nodes: tuple[Node, ...]
    initializers: dict[str, NDArray[Any]]
    inputs: tuple[ValueInfo, ...]
    outputs: tuple[ValueInfo, ...]
    has_sparse_initializers: bool = False


@dataclass(frozen=True)
class Model:
    ir_version: int
    opset_import: dict[str, int]
    graph: Graph
    metadata: dict[str, str]
    producer_name: str = ""
    has_local_functions: bool = False
    unknown_fields: tuple[int, ...] = field(default=())


def looks_like_onnx(data: bytes) -> bool:
    """True when the data begins the way ONNX serialisers start a model (ir_version first)."""
    return len(data) >= 2 and data[0] == _ONNX_IR_VERSION_TAG


class _Reader:
    """Iterates over the fields of one protobuf message held in ``data[start:end]``."""

    __slots__ = ("_budget", "_data", "_end", "_pos")

    def __init__(
        self,
        data: memoryview,
        start: int = 0,
        end: int | None = None,
        budget: _Budget | None = None,
    ) -> None:
        self._data = data
        self._pos = start
        self._end = len(data) if end is None else end
        self._budget = budget

    def _varint(self) -> int:
        result = 0
        shift = 0
        data = self._data
        while True:
            if self._pos >= self._end:
                raise ProtoError("data ends inside a varint", truncated=True)
            byte = data[self._pos]
            self._pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift >= 70:
                raise ProtoError("varint longer than 10 bytes")

    def fields(self) -> Iterator[tuple[int, int, int | memoryview]]:
        """Yield ``(field_number, wire_type, value)``; value is an int or the field's bytes."""
        budget = self._budget
        while self._pos < self._end:
            if budget is not None:
                budget.field()
            key = self._varint()
            number, wire_type = key >> 3, key & 7
            if number == 0:
                raise ProtoError("field number 0")
            if wire_type == _VARINT:
                yield number, wire_type, self._varint()
            elif wire_type == _LENGTH_DELIMITED:
                length = self._varint()
                start = self._pos
                if start + length > self._end:
                    raise ProtoError(
                        f"field {number} claims {length} bytes, only {self._end - start} remain",
                        truncated=True,
                    )
                self._pos = start + length
                yield number, wire_type, self._data[start : self._pos]
            elif wire_type in (_FIXED32, _FIXED64):
                size = 4 if wire_type == _FIXED32 else 8
                start = self._pos
                if start + size > self._end:
                    raise ProtoError("data ends inside a fixed-size field", truncated=True)
                self._pos = start + size
                yield number, wire_type, self._data[start : self._pos]
            else:
                raise ProtoError(f"unsupported wire type {wire_type} (field {number})")


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _expect(wire_type: int, expected: int, what: str) -> None:
    if wire_type != expected:
        raise ProtoError(f"{what}: wire type {wire_type}, expected {expected}")


def _as_bytes(value: int | memoryview, wire_type: int, what: str) -> memoryview:
    _expect(wire_type, _LENGTH_DELIMITED, what)
    assert isinstance(value, memoryview)
    return value


def _as_int(value: int | memoryview, wire_type: int, what: str) -> int:
    _expect(wire_type, _VARINT, what)
    assert isinstance(value, int)
    return _signed64(value)


def _as_str(value: int | memoryview, wire_type: int, what: str) -> str:
    try:
        return bytes(_as_bytes(value, wire_type, what)).decode("utf-8")
    except UnicodeDecodeError as err:
        raise ProtoError(f"{what}: not UTF-8") from err


def _repeated_varints(
    value: int | memoryview, wire_type: int, what: str, budget: _Budget
) -> list[int]:
    """A repeated integer field element: either one varint or a packed run of them."""
    if wire_type == _VARINT:
        assert isinstance(value, int)
        budget.listed_values(1, what)
        return [_signed64(value)]
    packed = _as_bytes(value, wire_type, what)
    # Every varint takes at least one byte: charge the most the run can hold before decoding it.
    budget.listed_values(len(packed), what)
    reader = _Reader(packed)
    values: list[int] = []
    while reader._pos < reader._end:
        values.append(_signed64(reader._varint()))
    return values


def _repeated_fixed(
    value: int | memoryview, wire_type: int, fixed_wire_type: int, what: str
) -> memoryview:
    """A repeated float/double field element (one fixed value or a packed run): its bytes."""
    size = 4 if fixed_wire_type == _FIXED32 else 8
    if wire_type == fixed_wire_type:
        assert isinstance(value, memoryview)
        return value
    packed = _as_bytes(value, wire_type, what)
    if len(packed) % size:
        raise ProtoError(f"{what}: packed length {len(packed)} is not a multiple of {size}")
    return packed


def _string_entry(data: memoryview, budget: _Budget) -> tuple[str, str]:
    budget.message("metadata entry")
    key = value = ""
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            key = _as_str(raw, wire_type, "metadata key")
        elif number == 2:
            value = _as_str(raw, wire_type, "metadata value")
    return key, value


def _opset(data: memoryview, budget: _Budget) -> tuple[str, int]:
    budget.message("opset import")
    domain, version = "", 0
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            domain = _as_str(raw, wire_type, "opset domain")
        elif number == 2:
            version = _as_int(raw, wire_type, "opset version")
    return domain, version


def _integers(values: list[int], dtype: np.dtype[Any], name: str) -> NDArray[Any]:
    """Integer data as ``dtype``; a value outside the type's range is an error, not a wrap."""
    if dtype == np.dtype("bool"):
        low, high = 0, 1
    else:
        info = np.iinfo(dtype)
        low, high = int(info.min), int(info.max)
    if values and (min(values) < low or max(values) > high):
        raise ProtoError(f"tensor {name!r} holds values outside {low}..{high} for its data type")
    return np.array(values, dtype=np.int64).astype(dtype)


def parse_tensor(data: memoryview, budget: _Budget | None = None) -> tuple[str, NDArray[Any]]:
    """Decode a TensorProto into ``(name, array)``; the array is read-only."""
    budget = _Budget() if budget is None else budget
    budget.message("tensor")
    name = ""
    dims: list[int] = []
    data_type = 0
    raw_data: memoryview | None = None
    # Numbers as their little-endian bytes: never one Python object per value.
    float_data = bytearray()
    double_data = bytearray()
    int32_data: list[int] = []
    int64_data: list[int] = []
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            dims.extend(_repeated_varints(raw, wire_type, "tensor dims", budget))
            if len(dims) > MAX_TENSOR_RANK:
                raise ParseLimitError(
                    f"a tensor has more than {MAX_TENSOR_RANK} dimensions ({len(dims)}+)"
                )
        elif number == 2:
            data_type = _as_int(raw, wire_type, "tensor data_type")
        elif number == 4:
            float_data += _repeated_fixed(raw, wire_type, _FIXED32, "float_data")
        elif number == 5:
            int32_data.extend(_repeated_varints(raw, wire_type, "int32_data", budget))
        elif number == 7:
            int64_data.extend(_repeated_varints(raw, wire_type, "int64_data", budget))
        elif number == 8:
            name = _as_str(raw, wire_type, "tensor name")
        elif number == 9:
            raw_data = _as_bytes(raw, wire_type, "raw_data")
        elif number == 10:
            double_data += _repeated_fixed(raw, wire_type, _FIXED64, "double_data")
        elif number == 14 and _as_int(raw, wire_type, "data_location") == (
            _TENSOR_DATA_LOCATION_EXTERNAL
        ):
            raise ProtoError(f"tensor {name!r} keeps its data in an external file")
        elif number in (3, 6, 11, 13):
            # segment, string_data, uint64_data, external_data: not used by numeric models.
            raise ProtoError(f"tensor {name!r} uses an unsupported storage field ({number})")
    dtype = _NUMPY_DTYPES.get(data_type)
    if dtype is None:
        raise ProtoError(f"tensor {name!r} has unsupported data type {data_type}")
    if any(d < 0 for d in dims):
        raise ProtoError(f"tensor {name!r} has negative dims {dims}")
    # Python integers: a product of huge dims must not wrap around to a small number.
    count = math.prod(dims)
    if count > MAX_TENSOR_ELEMENTS:
        raise ParseLimitError(
            f"tensor {name!r} claims {count:,} elements; "
            f"at most {MAX_TENSOR_ELEMENTS:,} are allowed"
        )
    budget.tensor_elements(count, name)
    array: NDArray[Any]
    if raw_data is not None:
        if len(raw_data) != count * dtype.itemsize:
            raise ProtoError(
                f"tensor {name!r}: raw_data has {len(raw_data)} bytes, "
                f"{count} x {dtype.itemsize} expected"
            )
        array = np.frombuffer(raw_data, dtype=dtype).copy()
    else:
        values: NDArray[Any]
        if data_type == FLOAT:
            values = np.frombuffer(bytes(float_data), dtype="<f4")
        elif data_type == DOUBLE:
            values = np.frombuffer(bytes(double_data), dtype="<f8")
        elif data_type == INT64:
            values = _integers(int64_data, dtype, name)
        elif data_type == FLOAT16:
            # float16 values are stored as their bit patterns in int32_data.
            values = _integers(int32_data, np.dtype(np.uint16), name).view(np.float16)
        else:
            values = _integers(int32_data, dtype, name)
        if values.size != count:
            raise ProtoError(f"tensor {name!r}: {values.size} values for {count} elements")
        array = np.array(values, dtype=dtype)
    array = array.astype(dtype.newbyteorder("="), copy=False).reshape(dims)
    array.flags.writeable = False
    return name, array


def _attribute(data: memoryview, budget: _Budget) -> tuple[str, AttributeValue | None]:
    """Decode an AttributeProto; the value is None for kinds this reader does not decode."""
    budget.message("attribute")
    name = ""
    attr_type = 0
    scalar_float: float | None = None
    scalar_int: int | None = None
    string: bytes | None = None
    tensor: NDArray[Any] | None = None
    floats: list[float] = []
    ints: list[int] = []
    strings: list[bytes] = []
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            name = _as_str(raw, wire_type, "attribute name")
        elif number == 20:
            attr_type = _as_int(raw, wire_type, "attribute type")
        elif number == 2:
            _expect(wire_type, _FIXED32, "attribute f")
            assert isinstance(raw, memoryview)
            scalar_float = struct.unpack("<f", raw)[0]
        elif number == 3:
            scalar_int = _as_int(raw, wire_type, "attribute i")
        elif number == 4:
            string = bytes(_as_bytes(raw, wire_type, "attribute s"))
        elif number == 5:
            tensor = parse_tensor(_as_bytes(raw, wire_type, "attribute t"), budget)[1]
        elif number == 7:
            chunk = _repeated_fixed(raw, wire_type, _FIXED32, "attribute floats")
            budget.listed_values(len(chunk) // 4, "attribute floats")
            floats.extend(float(value) for value in np.frombuffer(chunk, dtype="<f4"))
        elif number == 8:
            ints.extend(_repeated_varints(raw, wire_type, "attribute ints", budget))
        elif number == 9:
            budget.listed_values(1, "attribute strings")
            strings.append(bytes(_as_bytes(raw, wire_type, "attribute strings")))
    # AttributeType: FLOAT=1 INT=2 STRING=3 TENSOR=4 FLOATS=6 INTS=7 STRINGS=8.
    by_type: dict[int, AttributeValue | None] = {
        1: scalar_float,
        2: scalar_int,
        3: string,
        4: tensor,
        6: tuple(floats),
        7: tuple(ints),
        8: tuple(strings),
    }
    if attr_type in by_type:
        return name, by_type[attr_type]
    if attr_type == 0:
        # IR < 3 files have no type field: the value is whichever field was written.
        for candidate in (scalar_float, scalar_int, string, tensor):
            if candidate is not None:
                return name, candidate
        for sequence in (floats, ints, strings):
            if sequence:
                return name, tuple(sequence)  # type: ignore[return-value]
    return name, None


def _node(data: memoryview, budget: _Budget) -> Node:
    budget.node()
    inputs: list[str] = []
    outputs: list[str] = []
    name = op_type = domain = ""
    attributes: dict[str, AttributeValue] = {}
    undecoded: list[str] = []
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            budget.listed_values(1, "node inputs")
            inputs.append(_as_str(raw, wire_type, "node input"))
        elif number == 2:
            budget.listed_values(1, "node outputs")
            outputs.append(_as_str(raw, wire_type, "node output"))
        elif number == 3:
            name = _as_str(raw, wire_type, "node name")
        elif number == 4:
            op_type = _as_str(raw, wire_type, "node op_type")
        elif number == 7:
            domain = _as_str(raw, wire_type, "node domain")
        elif number == 5:
            attr_name, value = _attribute(_as_bytes(raw, wire_type, "node attribute"), budget)
            if value is None:
                undecoded.append(attr_name)
            else:
                attributes[attr_name] = value
    return Node(op_type, domain, name, tuple(inputs), tuple(outputs), attributes, tuple(undecoded))


def _shape(data: memoryview, budget: _Budget) -> tuple[int | str | None, ...]:
    dims: list[int | str | None] = []
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number != 1:
            continue
        budget.message("dimension")
        if len(dims) >= MAX_TENSOR_RANK:
            raise ParseLimitError(f"a value has more than {MAX_TENSOR_RANK} dimensions")
        dim: int | str | None = None
        for dim_number, dim_wire, dim_raw in _Reader(
            _as_bytes(raw, wire_type, "dim"), budget=budget
        ).fields():
            if dim_number == 1:
                dim = _as_int(dim_raw, dim_wire, "dim_value")
            elif dim_number == 2:
                dim = _as_str(dim_raw, dim_wire, "dim_param")
        dims.append(dim)
    return tuple(dims)


def _value_info(data: memoryview, budget: _Budget) -> ValueInfo:
    budget.message("graph input or output")
    name = ""
    elem_type: int | None = None
    shape: tuple[int | str | None, ...] | None = None
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            name = _as_str(raw, wire_type, "value name")
        elif number == 2:
            for type_number, type_wire, type_raw in _Reader(
                _as_bytes(raw, wire_type, "value type"), budget=budget
            ).fields():
                if type_number != 1:  # only tensor_type; sequences/maps stay untyped
                    continue
                tensor_type = _as_bytes(type_raw, type_wire, "tensor_type")
                for t_number, t_wire, t_raw in _Reader(tensor_type, budget=budget).fields():
                    if t_number == 1:
                        elem_type = _as_int(t_raw, t_wire, "elem_type")
                    elif t_number == 2:
                        shape = _shape(_as_bytes(t_raw, t_wire, "shape"), budget)
    return ValueInfo(name, elem_type, shape)


def _graph(data: memoryview, budget: _Budget) -> Graph:
    name = ""
    nodes: list[Node] = []
    initializers: dict[str, NDArray[Any]] = {}
    inputs: list[ValueInfo] = []
    outputs: list[ValueInfo] = []
    has_sparse = False
    for number, wire_type, raw in _Reader(data, budget=budget).fields():
        if number == 1:
            nodes.append(_node(_as_bytes(raw, wire_type, "graph node"), budget))
        elif number == 2:
            name = _as_str(raw, wire_type, "graph name")
        elif number == 5:
            budget.initializer()
            tensor_name, array = parse_tensor(_as_bytes(raw, wire_type, "initializer"), budget)
            initializers[tensor_name] = array
        elif number == 11:
            inputs.append(_value_info(_as_bytes(raw, wire_type, "graph input"), budget))
        elif number == 12:
            outputs.append(_value_info(_as_bytes(raw, wire_type, "graph output"), budget))
        elif number == 15:
            has_sparse = True
    return Graph(name, tuple(nodes), initializers, tuple(inputs), tuple(outputs), has_sparse)


def parse_model(data: bytes) -> Model:
    """Decode a serialised ModelProto. Raises ProtoError for anything that is not one, and its
    subclass ParseLimitError for a model beyond the bounds above."""
    if not data:
        raise ProtoError("the file is empty")
    view = memoryview(data)
    budget = _Budget()
    ir_version = 0
    opsets: dict[str, int] = {}
    graph: Graph | None = None
    metadata: dict[str, str] = {}
    producer = ""
    has_functions = False
    unknown: set[int] = set()
    for number, wire_type, raw in _Reader(view, budget=budget).fields():
        if number == 1:
            ir_version = _as_int(raw, wire_type, "ir_version")
        elif number == 2:
            producer = _as_str(raw, wire_type, "producer_name")
        elif number == 7:
            if graph is not None:
                raise ProtoError("more than one graph")
            graph = _graph(_as_bytes(raw, wire_type, "graph"), budget)
        elif number == 8:
            domain, version = _opset(_as_bytes(raw, wire_type, "opset_import"), budget)
            opsets[domain] = version
        elif number == 14:
            key, value = _string_entry(_as_bytes(raw, wire_type, "metadata_props"), budget)
            metadata[key] = value
        elif number == 25:
            has_functions = True
        elif number not in (3, 4, 5, 6, 20):
            unknown.add(number)
    if graph is None:
        raise ProtoError("no graph: this is not an ONNX model")
    if ir_version <= 0:
        raise ProtoError("no ir_version: this is not an ONNX model")
    return Model(
        ir_version, opsets, graph, metadata, producer, has_functions, tuple(sorted(unknown))
    )
