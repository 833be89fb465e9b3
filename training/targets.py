"""The multi-output target matrix every Table 2 estimator fits and predicts.

Columns follow `config.TARGETS` (valence, arousal), the model contract's output order, so a row of
`predict` lines up with the ONNX outputs and the live readings.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from .config import TARGETS


def target_matrix(labels: Mapping[str, NDArray[np.floating]]) -> NDArray[np.float64]:
    """{target: (n,)} -> (n, 2) in `TARGETS` order."""
    return np.stack([np.asarray(labels[t], dtype=np.float64) for t in TARGETS], axis=1)


def target_columns(matrix: NDArray[np.floating]) -> dict[str, NDArray[np.float64]]:
    """(n, 2) in `TARGETS` order -> {target: (n,)}."""
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(TARGETS):
        raise ValueError(f"expected an (n, {len(TARGETS)}) matrix of {TARGETS}, got {values.shape}")
    return {t: values[:, column] for column, t in enumerate(TARGETS)}
