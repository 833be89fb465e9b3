"""A numpy executor for exactly the ONNX operators the training export emits (+ a few trivial ones).

It exists so the integration runs where onnxruntime cannot be installed (Home Assistant OS is musl).
Everything is computed in the tensors' own dtype (float32 for the model), as onnxruntime does.
A graph is compiled once into a list of closures; running it allocates only the tensors it produces.
Nothing here mutates its inputs or keeps per-run state, so one executor may run on several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .onnx_cost import COST_FUNCTIONS, DEFAULT_RUN_LIMITS, CostFunction, RunLimits, RunMeter
from .onnx_proto import AttributeValue, Graph, Model, Node

Tensor = NDArray[Any]
_Kernel = Callable[[list[Tensor | None]], list[Tensor]]

# The single source of truth for what a model may contain (a training test checks the export).
SUPPORTED_OPERATORS: Final[frozenset[str]] = frozenset(
    {
        # emitted by the export
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
        # trivially safe extras
        "Identity",
        "Add",
        "Div",
        "Concat",
        "Gather",
        "Reshape",
        "Unsqueeze",
        "ReduceMean",
        "Constant",
    }
)

_DEFAULT_DOMAINS: Final = ("", "ai.onnx")
MIN_OPSET: Final = 10  # Slice takes its bounds as inputs from opset 10 on; older graphs are refused
MAX_OPSET: Final = 23


class UnsupportedOperatorError(ValueError):
    """The graph uses an operator (or an operator option) this executor does not implement."""

    def __init__(self, operator: str, detail: str = "") -> None:
        super().__init__(
            f"operator {operator}" + (f" ({detail})" if detail else "") + " is not supported"
        )
        self.operator = operator
        self.detail = detail


class GraphError(ValueError):
    """The graph is structurally unusable (dangling names, wrong arity, bad attribute values)."""


# --- elementwise -------------------------------------------------------------------------------


def _binary(ufunc: np.ufunc) -> Callable[[Node, int], _Kernel]:
    def build(node: Node, opset: int) -> _Kernel:
        def run(inputs: list[Tensor | None]) -> list[Tensor]:
            a, b = _required(inputs, 2, node)
            return [np.asarray(ufunc(a, b))]

        return run

    return build


def _build_div(node: Node, opset: int) -> _Kernel:
    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        a, b = _required(inputs, 2, node)
        if np.issubdtype(a.dtype, np.integer):
            # ONNX integer division truncates toward zero, numpy's floor_divide rounds down.
            quotient = np.abs(a) // np.abs(b)
            return [np.asarray(np.where((a < 0) != (b < 0), -quotient, quotient), dtype=a.dtype)]
        return [np.asarray(np.divide(a, b))]

    return run


def _unary(function: Callable[[Tensor], Tensor]) -> Callable[[Node, int], _Kernel]:
    def build(node: Node, opset: int) -> _Kernel:
        def run(inputs: list[Tensor | None]) -> list[Tensor]:
            (x,) = _required(inputs, 1, node)
            return [np.asarray(function(x))]

        return run

    return build


def _relu(x: Tensor) -> Tensor:
    return np.asarray(np.maximum(x, x.dtype.type(0)))


def _identity(x: Tensor) -> Tensor:
    return x


# --- shape operators ---------------------------------------------------------------------------


def _build_transpose(node: Node, opset: int) -> _Kernel:
    perm = _ints_attr(node, "perm")

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        (x,) = _required(inputs, 1, node)
        return [np.transpose(x, perm if perm is not None else None)]

    return run


def _axes_from(
    node: Node, opset: int, inputs: list[Tensor | None], since_opset: int
) -> list[int] | None:
    """Axes come from an attribute before ``since_opset`` and from the second input from then on."""
    if opset >= since_opset:
        axes = inputs[1] if len(inputs) > 1 else None
        return None if axes is None else [int(a) for a in np.asarray(axes).reshape(-1)]
    attr = _ints_attr(node, "axes")
    return None if attr is None else list(attr)


def _build_squeeze(node: Node, opset: int) -> _Kernel:
    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        x = _first(inputs, node)
        axes = _axes_from(node, opset, inputs, 13)
        if axes is None:
            return [np.squeeze(x)]
        normalised = tuple(_axis(a, x.ndim, node) for a in axes)
        if any(x.shape[a] != 1 for a in normalised):
            raise GraphError(f"{_describe(node)}: cannot squeeze axes {axes} of shape {x.shape}")
        return [np.squeeze(x, axis=normalised)]

    return run


def _build_unsqueeze(node: Node, opset: int) -> _Kernel:
    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        x = _first(inputs, node)
        axes = _axes_from(node, opset, inputs, 13)
        if not axes:
            raise GraphError(f"{_describe(node)}: Unsqueeze needs axes")
        out_rank = x.ndim + len(axes)
        normalised = sorted(_axis(a, out_rank, node) for a in axes)
        return [np.expand_dims(x, axis=tuple(normalised))]

    return run


def _build_reshape(node: Node, opset: int) -> _Kernel:
    allow_zero = _int_attr(node, "allowzero", 0)

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        x, shape_tensor = _required(inputs, 2, node)
        shape = [int(s) for s in shape_tensor.reshape(-1)]
        if not allow_zero:
            # 0 means "keep this dimension of the input".
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return [np.reshape(x, shape)]

    return run


def _build_concat(node: Node, opset: int) -> _Kernel:
    axis = _optional_int_attr(node, "axis")
    if axis is None:
        raise GraphError(f"{_describe(node)}: Concat needs an axis")

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        parts = [t for t in inputs if t is not None]
        return [np.concatenate(parts, axis=axis)]

    return run


def _build_gather(node: Node, opset: int) -> _Kernel:
    axis = _int_attr(node, "axis", 0)

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        data, indices = _required(inputs, 2, node)
        real_axis = _axis(axis, data.ndim, node)
        size = data.shape[real_axis]
        index_array = np.asarray(indices, dtype=np.int64)
        index_array = np.where(index_array < 0, index_array + size, index_array)
        if index_array.size and (index_array.min() < 0 or index_array.max() >= size):
            raise GraphError(f"{_describe(node)}: index out of range for size {size}")
        return [np.take(data, index_array, axis=real_axis)]

    return run


def _build_slice(node: Node, opset: int) -> _Kernel:
    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        data = _first(inputs, node)
        starts, ends = _required(inputs[:3], 3, node)[1:]
        starts_list = [int(s) for s in starts.reshape(-1)]
        ends_list = [int(e) for e in ends.reshape(-1)]
        axes_tensor = inputs[3] if len(inputs) > 3 else None
        steps_tensor = inputs[4] if len(inputs) > 4 else None
        axes = (
            list(range(len(starts_list)))
            if axes_tensor is None
            else [int(a) for a in axes_tensor.reshape(-1)]
        )
        steps = (
            [1] * len(starts_list)
            if steps_tensor is None
            else [int(s) for s in steps_tensor.reshape(-1)]
        )
        if not len(starts_list) == len(ends_list) == len(axes) == len(steps):
            raise GraphError(f"{_describe(node)}: starts, ends, axes and steps differ in length")
        index: list[slice] = [slice(None)] * data.ndim
        for start, end, axis, step in zip(starts_list, ends_list, axes, steps, strict=True):
            real_axis = _axis(axis, data.ndim, node)
            index[real_axis] = _onnx_slice(start, end, step, data.shape[real_axis], node)
        return [data[tuple(index)]]

    return run


def _onnx_slice(start: int, end: int, step: int, size: int, node: Node) -> slice:
    """Translate ONNX Slice bounds (clamped, INT_MAX-like sentinels allowed) to a Python slice."""
    if step == 0:
        raise GraphError(f"{_describe(node)}: Slice step 0")
    if start < 0:
        start += size
    if end < 0:
        end += size
    if step > 0:
        return slice(min(max(start, 0), size), min(max(end, 0), size), step)
    start = min(max(start, 0), size - 1)
    end = min(max(end, -1), size - 1)
    # A Python stop of -1 would mean "the last element"; ONNX's -1 here means "before the first".
    return slice(start, None if end < 0 else end, step)


def _build_constant(node: Node, opset: int) -> _Kernel:
    attrs = node.attributes
    value: Tensor
    if "value" in attrs and isinstance(attrs["value"], np.ndarray):
        value = attrs["value"]
    elif "value_float" in attrs:
        value = np.array(attrs["value_float"], dtype=np.float32)
    elif "value_floats" in attrs:
        value = np.array(attrs["value_floats"], dtype=np.float32)
    elif "value_int" in attrs:
        value = np.array(attrs["value_int"], dtype=np.int64)
    elif "value_ints" in attrs:
        value = np.array(attrs["value_ints"], dtype=np.int64)
    else:
        raise UnsupportedOperatorError("Constant", "only numeric value attributes")
    value = np.asarray(value)
    value.flags.writeable = False

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        return [value]

    return run


def _build_reduce_mean(node: Node, opset: int) -> _Kernel:
    keepdims = bool(_int_attr(node, "keepdims", 1))
    noop_with_empty_axes = bool(_int_attr(node, "noop_with_empty_axes", 0))

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        x = _first(inputs, node)
        axes = _axes_from(node, opset, inputs, 18)
        if not axes:
            if noop_with_empty_axes and opset >= 18:
                return [x]
            return [np.asarray(np.mean(x, keepdims=keepdims), dtype=x.dtype)]
        normalised = tuple(sorted({_axis(a, x.ndim, node) for a in axes}))
        return [np.asarray(np.mean(x, axis=normalised, keepdims=keepdims), dtype=x.dtype)]

    return run


# --- linear algebra ----------------------------------------------------------------------------


def _build_gemm(node: Node, opset: int) -> _Kernel:
    alpha = _float_attr(node, "alpha", 1.0)
    beta = _float_attr(node, "beta", 1.0)
    trans_a = bool(_int_attr(node, "transA", 0))
    trans_b = bool(_int_attr(node, "transB", 0))

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        a, b = _required(inputs[:2], 2, node)
        c = inputs[2] if len(inputs) > 2 else None
        if a.ndim != 2 or b.ndim != 2:
            raise GraphError(
                f"{_describe(node)}: Gemm needs 2-D inputs, got {a.shape} and {b.shape}"
            )
        product = np.dot(a.T if trans_a else a, b.T if trans_b else b)
        if alpha != 1.0:
            product *= product.dtype.type(alpha)
        if c is not None and beta != 0.0:
            product += c if beta == 1.0 else c * c.dtype.type(beta)
        return [product]

    return run


def _build_matmul(node: Node, opset: int) -> _Kernel:
    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        a, b = _required(inputs, 2, node)
        return [np.asarray(np.matmul(a, b))]

    return run


def _build_gru(node: Node, opset: int) -> _Kernel:
    hidden_size = _optional_int_attr(node, "hidden_size")
    direction = node.attributes.get("direction", b"forward")
    layout = _int_attr(node, "layout", 0)
    linear_before_reset = bool(_int_attr(node, "linear_before_reset", 0))
    activations = node.attributes.get("activations")
    if direction != b"forward":
        raise UnsupportedOperatorError("GRU", f"direction {direction!r}; only forward")
    if layout != 0:
        raise UnsupportedOperatorError("GRU", f"layout {layout}; only 0")
    if activations is not None and (
        not isinstance(activations, tuple)
        or [bytes(a).lower() for a in activations if isinstance(a, bytes)] != [b"sigmoid", b"tanh"]
    ):
        raise UnsupportedOperatorError("GRU", f"activations {activations!r}; only Sigmoid, Tanh")
    for unsupported in ("clip", "activation_alpha", "activation_beta"):
        if unsupported in node.attributes:
            raise UnsupportedOperatorError("GRU", f"attribute {unsupported}")
    if len(node.inputs) > 4 and node.inputs[4]:
        raise UnsupportedOperatorError("GRU", "sequence_lens")
    if hidden_size is None or hidden_size <= 0:
        raise GraphError(f"{_describe(node)}: GRU needs a positive hidden_size")
    size = hidden_size
    loop = _gru_loop_linear_before_reset if linear_before_reset else _gru_loop_reset_before_linear
    # Weights are initializers, identical on every run: prepare them once per distinct W/R/B.
    cache: list[tuple[tuple[Tensor, Tensor, Tensor | None], _GruWeights]] = []

    def run(inputs: list[Tensor | None]) -> list[Tensor]:
        x, w, r = _required(inputs[:3], 3, node)
        bias = inputs[3] if len(inputs) > 3 else None
        initial_h = inputs[5] if len(inputs) > 5 else None
        if x.ndim != 3 or w.shape != (1, 3 * size, x.shape[2]) or r.shape != (1, 3 * size, size):
            raise GraphError(
                f"{_describe(node)}: X {x.shape}, W {w.shape}, R {r.shape} do not fit hidden {size}"
            )
        if bias is not None and bias.shape != (1, 6 * size):
            raise GraphError(f"{_describe(node)}: B {bias.shape} does not fit hidden {size}")
        key = (w, r, bias)
        prepared = next(
            (p for k, p in cache if all(a is b for a, b in zip(k, key, strict=True))), None
        )
        if prepared is None:
            prepared = _GruWeights.prepare(
                w, r, bias, size=size, dtype=x.dtype, lbr=linear_before_reset
            )
            cache[:] = [(key, prepared)]
        h0 = None if initial_h is None else initial_h[0]
        outputs = loop(x, prepared, h0)
        return [outputs[:, np.newaxis], outputs[-1][np.newaxis].copy()]

    return run


@dataclass(frozen=True)
class _GruWeights:
    """GRU weights rearranged for the recurrence loop (gate order z, r, h as in ONNX).

    sigmoid(v) = (1 + tanh(v / 2)) / 2 avoids overflow warnings; its halving is folded into the
    z/r input weights and biases here, so the loop does one tanh for both gates.
    """

    size: int
    w_t: Tensor  # (I, 3H); z and r columns halved
    input_bias: Tensor  # (3H,) added to the input projections; z and r halved
    r_t: Tensor  # (H, 3H) linear_before_reset: all halved; otherwise z and r halved
    recurrent_h_bias: Tensor  # (H,) Rbh, halved with its weights when linear_before_reset

    @staticmethod
    def prepare(
        w: Tensor, r: Tensor, bias: Tensor | None, *, size: int, dtype: np.dtype[Any], lbr: bool
    ) -> _GruWeights:
        zr = slice(0, 2 * size)
        h = slice(2 * size, 3 * size)
        half = dtype.type(0.5)
        w_t = np.array(w[0].T, dtype=dtype)
        r_t = np.array(r[0].T, dtype=dtype)
        w_bias, r_bias = (
            (np.zeros(3 * size, dtype), np.zeros(3 * size, dtype))
            if bias is None
            else (bias[0, : 3 * size].astype(dtype), bias[0, 3 * size :].astype(dtype))
        )
        input_bias = w_bias.copy()
        input_bias[zr] += r_bias[zr]
        w_t[:, zr] *= half
        input_bias[zr] *= half
        r_t[:, zr] *= half
        recurrent_h_bias = r_bias[h].copy()
        if lbr:
            # The loop computes (1 + tanh) * (half the recurrent candidate) = r * candidate.
            r_t[:, h] *= half
            recurrent_h_bias *= half
        else:
            input_bias[h] += recurrent_h_bias
        return _GruWeights(size, w_t, input_bias, np.ascontiguousarray(r_t), recurrent_h_bias)


def _gru_projections(x: Tensor, weights: _GruWeights) -> tuple[Tensor, Tensor]:
    """Input projections of all steps in one matmul, split into contiguous z/r and h parts."""
    steps, batch, _ = x.shape
    size = weights.size
    projected = np.dot(x.reshape(steps * batch, -1), weights.w_t)
    projected += weights.input_bias
    projected = projected.reshape(steps, batch, 3 * size)
    return (
        np.ascontiguousarray(projected[:, :, : 2 * size]),
        np.ascontiguousarray(projected[:, :, 2 * size :]),
    )


def _gru_loop_linear_before_reset(x: Tensor, weights: _GruWeights, h0: Tensor | None) -> Tensor:
    """Hidden states (T, B, H). The hot path of the model: 10 in-place numpy calls per step."""
    steps, batch, _ = x.shape
    size = weights.size
    dtype = x.dtype
    projected_zr, projected_h = _gru_projections(x, weights)
    outputs = np.empty((steps, batch, size), dtype)
    hidden = np.zeros((batch, size), dtype) if h0 is None else np.array(h0, dtype=dtype)
    recurrent = np.empty((batch, 3 * size), dtype)
    recurrent_zr = recurrent[:, : 2 * size]
    recurrent_h = recurrent[:, 2 * size :]
    gates = np.empty((batch, 2 * size), dtype)
    update = gates[:, :size]
    reset = gates[:, size:]
    candidate = np.empty((batch, size), dtype)
    r_t, h_bias, one, half = weights.r_t, weights.recurrent_h_bias, dtype.type(1), dtype.type(0.5)
    dot, add, subtract, multiply, tanh = np.dot, np.add, np.subtract, np.multiply, np.tanh
    for step in range(steps):
        dot(hidden, r_t, recurrent)
        add(recurrent_h, h_bias, recurrent_h)
        add(projected_zr[step], recurrent_zr, gates)
        tanh(gates, gates)
        add(gates, one, gates)  # 2 * sigmoid
        multiply(reset, recurrent_h, candidate)
        add(candidate, projected_h[step], candidate)
        tanh(candidate, candidate)
        # h = (1 - z) * candidate + z * h  ==  candidate + z * (h - candidate)
        new_hidden = outputs[step]
        subtract(hidden, candidate, new_hidden)
        multiply(new_hidden, update, new_hidden)
        multiply(new_hidden, half, new_hidden)
        add(new_hidden, candidate, new_hidden)
        hidden = new_hidden
    return outputs


def _gru_loop_reset_before_linear(x: Tensor, weights: _GruWeights, h0: Tensor | None) -> Tensor:
    """linear_before_reset=0: the reset gate scales the state before the candidate's matmul."""
    steps, batch, _ = x.shape
    size = weights.size
    dtype = x.dtype
    projected_zr, projected_h = _gru_projections(x, weights)
    outputs = np.empty((steps, batch, size), dtype)
    hidden = np.zeros((batch, size), dtype) if h0 is None else np.array(h0, dtype=dtype)
    r_t_zr = np.ascontiguousarray(weights.r_t[:, : 2 * size])
    r_t_h = np.ascontiguousarray(weights.r_t[:, 2 * size :])
    half = dtype.type(0.5)
    for step in range(steps):
        gates = np.tanh(projected_zr[step] + np.dot(hidden, r_t_zr))
        gates += 1
        gates *= half
        update, reset = gates[:, :size], gates[:, size:]
        candidate = np.tanh(projected_h[step] + np.dot(reset * hidden, r_t_h))
        outputs[step] = candidate + update * (hidden - candidate)
        hidden = outputs[step]
    return outputs


_BUILDERS: Final[dict[str, Callable[[Node, int], _Kernel]]] = {
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _build_div,
    "Relu": _unary(_relu),
    "Tanh": _unary(np.tanh),
    "Identity": _unary(_identity),
    "Transpose": _build_transpose,
    "Squeeze": _build_squeeze,
    "Unsqueeze": _build_unsqueeze,
    "Reshape": _build_reshape,
    "Concat": _build_concat,
    "Gather": _build_gather,
    "Slice": _build_slice,
    "Constant": _build_constant,
    "ReduceMean": _build_reduce_mean,
    "Gemm": _build_gemm,
    "MatMul": _build_matmul,
    "GRU": _build_gru,
}
assert set(_BUILDERS) == SUPPORTED_OPERATORS == set(COST_FUNCTIONS)


# --- helpers -----------------------------------------------------------------------------------


def _describe(node: Node) -> str:
    return f"{node.op_type} node {node.name!r}" if node.name else f"{node.op_type} node"


def _required(inputs: Sequence[Tensor | None], count: int, node: Node) -> list[Tensor]:
    present = [t for t in inputs[:count] if t is not None]
    if len(present) != count:
        raise GraphError(f"{_describe(node)}: needs {count} inputs")
    return present


def _first(inputs: Sequence[Tensor | None], node: Node) -> Tensor:
    return _required(inputs[:1], 1, node)[0]


def _axis(axis: int, rank: int, node: Node) -> int:
    if not -rank <= axis < rank:
        raise GraphError(f"{_describe(node)}: axis {axis} out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def _int_attr(node: Node, name: str, default: int) -> int:
    value = _optional_int_attr(node, name)
    return default if value is None else value


def _optional_int_attr(node: Node, name: str) -> int | None:
    value = node.attributes.get(name)
    if value is not None and not isinstance(value, int):
        raise GraphError(f"{_describe(node)}: attribute {name} must be an int")
    return value


def _float_attr(node: Node, name: str, default: float) -> float:
    value = node.attributes.get(name, default)
    if not isinstance(value, float | int):
        raise GraphError(f"{_describe(node)}: attribute {name} must be a float")
    return float(value)


def _ints_attr(node: Node, name: str) -> tuple[int, ...] | None:
    value: AttributeValue | None = node.attributes.get(name)
    if value is None:
        return None
    if not isinstance(value, tuple) or not all(isinstance(v, int) for v in value):
        raise GraphError(f"{_describe(node)}: attribute {name} must be a list of ints")
    return value  # type: ignore[return-value]


# --- the executor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    kernel: _Kernel
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    label: str
    node: Node
    cost: CostFunction


def default_opset(model: Model) -> int:
    """The default-domain opset version; raises if the model imports other operator domains."""
    version = 0
    for domain, domain_version in model.opset_import.items():
        if domain in _DEFAULT_DOMAINS:
            version = max(version, domain_version)
    if version == 0:
        raise GraphError("the model imports no default-domain (ai.onnx) opset")
    return version


def unsupported_operators(graph: Graph) -> list[str]:
    """Operator names in the graph that this executor does not implement (sorted, unique)."""
    found: set[str] = set()
    for node in graph.nodes:
        if node.domain not in _DEFAULT_DOMAINS:
            found.add(f"{node.domain}.{node.op_type}")
        elif node.op_type not in SUPPORTED_OPERATORS:
            found.add(node.op_type)
    return sorted(found)


class NumpyGraph:
    """A compiled ONNX graph. ``run`` takes and returns tensors by name."""

    def __init__(self, model: Model) -> None:
        graph = model.graph
        unsupported = unsupported_operators(graph)
        if unsupported:
            raise UnsupportedOperatorError(", ".join(unsupported))
        opset = default_opset(model)
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise UnsupportedOperatorError(
                f"set version {opset}", f"opsets {MIN_OPSET}..{MAX_OPSET}"
            )
        if graph.has_sparse_initializers:
            raise GraphError("sparse initializers are not supported")
        self._constants: dict[str, Tensor] = dict(graph.initializers)
        self.input_names = tuple(i.name for i in graph.inputs if i.name not in self._constants)
        self.output_names = tuple(o.name for o in graph.outputs)
        known = set(self._constants) | set(self.input_names)
        steps: list[_Step] = []
        for node in graph.nodes:
            if node.undecoded_attributes:
                raise UnsupportedOperatorError(
                    node.op_type, f"attributes {', '.join(node.undecoded_attributes)}"
                )
            missing = [name for name in node.inputs if name and name not in known]
            if missing:
                raise GraphError(
                    f"{_describe(node)} reads {missing}, which nothing produces before it"
                )
            steps.append(
                _Step(
                    _BUILDERS[node.op_type](node, opset),
                    node.inputs,
                    node.outputs,
                    _describe(node),
                    node,
                    COST_FUNCTIONS[node.op_type],
                )
            )
            known.update(name for name in node.outputs if name)
        absent = [name for name in self.output_names if name not in known]
        if absent:
            raise GraphError(f"graph outputs {absent} are never produced")
        self._steps = tuple(steps)

    def run(
        self, feeds: Mapping[str, Tensor], limits: RunLimits | None = DEFAULT_RUN_LIMITS
    ) -> dict[str, Tensor]:
        """Compute the outputs; ``limits`` (None: unlimited) raise ResourceLimitError first."""
        missing = [name for name in self.input_names if name not in feeds]
        if missing:
            raise GraphError(f"missing inputs {missing}")
        values: dict[str, Tensor] = dict(self._constants)
        values.update(feeds)
        meter = None if limits is None else RunMeter(limits)
        for step in self._steps:
            arguments = [values[name] if name else None for name in step.inputs]
            if meter is not None:
                meter.charge(step.label, step.cost(step.node, arguments))
            produced = step.kernel(arguments)
            for name, tensor in zip(step.outputs, produced, strict=False):
                if name:
                    values[name] = tensor
            if len(produced) < len([n for n in step.outputs if n]):
                raise GraphError(f"{step.label} produces fewer outputs than the graph names")
        return {name: values[name] for name in self.output_names}
