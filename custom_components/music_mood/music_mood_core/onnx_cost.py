"""What one run of a graph costs, estimated from each operator's input shapes before it runs.

A model file is small, but its graph can still ask for a lot: broadcasting two 20 000-element
vectors against each other makes a 1.6 GB tensor, a chain of large matrix products takes a minute.
The numpy executor asks ``RunMeter.charge`` before every operator; a run that would exceed its
``RunLimits`` stops with ResourceLimitError before the costly operator allocates or computes
anything. Estimates use Python integers (no overflow) and never allocate a tensor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .onnx_proto import Node

Tensor = NDArray[Any]
# (bytes the operator's outputs take, arithmetic operations it performs)
Cost = tuple[int, int]
CostFunction = Callable[[Node, Sequence[Tensor | None]], Cost]

_MIB: Final = 1024 * 1024
# Element-wise work relative to an addition: numpy's tanh costs about as much as 16 additions.
_TANH_WEIGHT: Final = 16
_DIVIDE_WEIGHT: Final = 4
# A GRU step is about ten numpy calls in Python: charge that overhead like arithmetic.
_GRU_STEP_OVERHEAD: Final = 20_000


class ResourceLimitError(ValueError):
    """A graph run would cost more memory or time than its limits allow."""


@dataclass(frozen=True, slots=True)
class RunLimits:
    """The most one run of a graph may cost.

    The defaults leave a wide margin over the shipped model at a batch of 32 excerpts (11 MiB of
    tensors and 0.8 G operations, under a second on one core) and refuse what would take hundreds
    of MiB or tens of seconds.
    """

    max_tensor_bytes: int = 64 * _MIB
    max_run_bytes: int = 256 * _MIB
    max_run_operations: int = 16 * 10**9
    max_run_seconds: float = 20.0


DEFAULT_RUN_LIMITS: Final = RunLimits()


class RunMeter:
    """Adds up one run's estimated cost; raises before an operator would break a limit."""

    def __init__(self, limits: RunLimits) -> None:
        self.limits = limits
        self.bytes = 0
        self.operations = 0
        self._started = time.monotonic()

    def charge(self, label: str, cost: Cost) -> None:
        limits = self.limits
        elapsed = time.monotonic() - self._started
        if elapsed > limits.max_run_seconds:
            raise ResourceLimitError(
                f"one run took longer than {limits.max_run_seconds:g} s (stopped before {label})"
            )
        out_bytes, operations = cost
        if out_bytes > limits.max_tensor_bytes:
            raise ResourceLimitError(
                f"{label} would produce {out_bytes / _MIB:,.0f} MiB; one tensor may take at most "
                f"{limits.max_tensor_bytes / _MIB:,.0f} MiB"
            )
        self.bytes += out_bytes
        if self.bytes > limits.max_run_bytes:
            raise ResourceLimitError(
                f"one run would hold {self.bytes / _MIB:,.0f} MiB of tensors by {label}; "
                f"at most {limits.max_run_bytes / _MIB:,.0f} MiB are allowed"
            )
        self.operations += operations
        if self.operations > limits.max_run_operations:
            raise ResourceLimitError(
                f"one run would take about {self.operations / 1e9:,.1f} G operations by {label}; "
                f"at most {limits.max_run_operations / 1e9:,.1f} G are allowed"
            )


# --- per-operator estimates --------------------------------------------------------------------


def _present(inputs: Sequence[Tensor | None]) -> list[Tensor]:
    return [tensor for tensor in inputs if tensor is not None]


def _itemsize(tensors: Sequence[Tensor]) -> int:
    return max((tensor.dtype.itemsize for tensor in tensors), default=8)


def _size(shape: Sequence[int]) -> int:
    return math.prod(int(dim) for dim in shape)


def _int_attribute(node: Node, name: str, default: int) -> int:
    value = node.attributes.get(name, default)
    return value if isinstance(value, int) else default


def _elementwise(weight: int) -> CostFunction:
    def cost(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
        tensors = _present(inputs)
        try:
            shape = np.broadcast_shapes(*(tensor.shape for tensor in tensors))
        except ValueError:
            return 0, 0  # the operator reports the mismatch itself
        elements = _size(shape)
        return elements * _itemsize(tensors), elements * weight

    return cost


def _same_size(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    """Copies, views and reductions: at most as large as the first input."""
    tensors = _present(inputs)
    if not tensors:
        return 0, 0
    first = tensors[0]
    return first.size * first.dtype.itemsize, first.size


def _no_new_tensor(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    return 0, 0


def _concat(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    tensors = _present(inputs)
    elements = sum(tensor.size for tensor in tensors)
    return elements * _itemsize(tensors), elements


def _gather(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    tensors = _present(inputs)
    if len(tensors) != 2 or tensors[0].ndim == 0:
        return 0, 0
    data, indices = tensors
    axis = _int_attribute(node, "axis", 0)
    if not -data.ndim <= axis < data.ndim:
        return 0, 0
    gathered = data.shape[axis]
    elements = 0 if gathered == 0 else data.size // gathered * indices.size
    return elements * data.dtype.itemsize, elements


def _constant(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    # The value was decoded (and bounded) with the file; a run only hands it out.
    return 0, 0


def _matmul(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    tensors = _present(inputs)
    if len(tensors) != 2 or tensors[0].ndim == 0 or tensors[1].ndim == 0:
        return 0, 0
    a, b = tensors
    a_shape = (1, a.shape[0]) if a.ndim == 1 else a.shape
    b_shape = (b.shape[0], 1) if b.ndim == 1 else b.shape
    try:
        batch = np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        return 0, 0
    rows, inner, columns = a_shape[-2], a_shape[-1], b_shape[-1]
    elements = _size(batch) * rows * columns
    return elements * _itemsize(tensors), 2 * elements * inner


def _gemm(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    tensors = _present(inputs[:2])
    if len(tensors) != 2 or tensors[0].ndim != 2 or tensors[1].ndim != 2:
        return 0, 0
    a, b = tensors
    rows, inner = (a.shape[1], a.shape[0]) if _int_attribute(node, "transA", 0) else a.shape
    columns = b.shape[0] if _int_attribute(node, "transB", 0) else b.shape[1]
    elements = rows * columns
    return elements * _itemsize(tensors), 2 * elements * inner


def _gru(node: Node, inputs: Sequence[Tensor | None]) -> Cost:
    x = inputs[0] if inputs else None
    hidden = _int_attribute(node, "hidden_size", 0)
    if x is None or x.ndim != 3 or hidden <= 0:
        return 0, 0
    steps, batch, features = x.shape
    # Input projections (3H), hidden states (H) and the gate buffers of each step.
    elements = steps * batch * 4 * hidden + batch * 6 * hidden
    operations = 2 * steps * batch * 3 * hidden * (features + hidden)
    operations += steps * (batch * hidden * (2 * _TANH_WEIGHT + 6) + _GRU_STEP_OVERHEAD)
    return elements * x.dtype.itemsize, operations


COST_FUNCTIONS: Final[dict[str, CostFunction]] = {
    "Add": _elementwise(1),
    "Sub": _elementwise(1),
    "Mul": _elementwise(1),
    "Div": _elementwise(_DIVIDE_WEIGHT),
    "Relu": _elementwise(1),
    "Tanh": _elementwise(_TANH_WEIGHT),
    "Identity": _no_new_tensor,
    "Transpose": _same_size,
    "Squeeze": _same_size,
    "Unsqueeze": _same_size,
    "Reshape": _same_size,
    "Slice": _same_size,
    "ReduceMean": _same_size,
    "Concat": _concat,
    "Gather": _gather,
    "Constant": _constant,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "GRU": _gru,
}
