"""The study's parallel GRU: one small network per target, and ensembles of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from music_mood_core.model_contract import N_FEATURES
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted
from torch import nn
from tqdm import tqdm

from .config import TARGETS, GRUSettings


@dataclass(frozen=True)
class Standardiser:
    """Per-feature training mean and 1/std, shared by every network of a model (as in the graph)."""

    mean: NDArray[np.float32]
    scale: NDArray[np.float32]

    @classmethod
    def fit(cls, sequences: NDArray[np.floating]) -> Standardiser:
        flat = np.asarray(sequences, dtype=np.float64).reshape(-1, sequences.shape[-1])
        std = flat.std(axis=0)
        # A constant feature carries no information; leave it at zero instead of dividing by 0.
        scale = np.where(std > 1e-12, 1.0 / np.where(std > 1e-12, std, 1.0), 1.0)
        return cls(mean=flat.mean(axis=0).astype(np.float32), scale=scale.astype(np.float32))

    def transform(self, sequences: NDArray[np.floating]) -> NDArray[np.float32]:
        # Same float32 operations, in the same order, as the exported Sub then Mul.
        data = np.asarray(sequences, dtype=np.float32)
        return (data - self.mean) * self.scale


class ParallelGRUNetwork(nn.Module):
    """GRU -> last step -> dropout -> Linear, ReLU, Linear, ReLU, Linear -> tanh: one target."""

    def __init__(self, settings: GRUSettings, n_features: int = N_FEATURES) -> None:
        super().__init__()
        first, second = settings.fc_sizes
        self.gru = nn.GRU(n_features, settings.hidden_size, num_layers=1, batch_first=True)
        self.dropout = nn.Dropout(settings.dropout)
        self.fc1 = nn.Linear(settings.hidden_size, first)
        self.fc2 = nn.Linear(first, second)
        self.fc3 = nn.Linear(second, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.gru(sequences)
        hidden = self.dropout(outputs[:, -1, :])
        hidden = torch.relu(self.fc1(hidden))
        hidden = torch.relu(self.fc2(hidden))
        return torch.tanh(self.fc3(hidden)).squeeze(-1)


def train_network(
    sequences: NDArray[np.float32],
    targets: NDArray[np.floating],
    settings: GRUSettings,
    seed: int,
    *,
    description: str = "",
    progress: bool = True,
) -> ParallelGRUNetwork:
    """Adam + MSE for `settings.epochs` epochs on already standardised inputs."""
    torch.manual_seed(seed)
    network = ParallelGRUNetwork(settings, sequences.shape[-1])
    optimiser = torch.optim.Adam(
        network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    inputs = torch.from_numpy(np.ascontiguousarray(sequences, dtype=np.float32))
    labels = torch.from_numpy(np.asarray(targets, dtype=np.float32))
    generator = torch.Generator().manual_seed(seed)
    loss_function = nn.MSELoss()
    network.train()
    batches_per_epoch = -(-len(inputs) // settings.batch_size)
    with tqdm(
        total=settings.epochs * batches_per_epoch,
        desc=description or "train",
        unit="batch",
        leave=False,
        disable=not progress,
    ) as bar:
        for _ in range(settings.epochs):
            order = torch.randperm(len(inputs), generator=generator)
            for start in range(0, len(inputs), settings.batch_size):
                batch = order[start : start + settings.batch_size]
                optimiser.zero_grad()
                loss = loss_function(network(inputs[batch]), labels[batch])
                loss.backward()
                optimiser.step()
                bar.update()
    network.eval()
    return network


def predict_networks(
    networks: Sequence[ParallelGRUNetwork], sequences: NDArray[np.float32], batch_size: int = 1024
) -> NDArray[np.float64]:
    """Mean output of the networks on standardised inputs."""
    inputs = torch.from_numpy(np.ascontiguousarray(sequences, dtype=np.float32))
    outputs = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start : start + batch_size]
            outputs.append(torch.stack([net(batch) for net in networks]).mean(dim=0).numpy())
    return np.concatenate(outputs).astype(np.float64) if outputs else np.zeros(0)


def _sequence_batch(sequences: object) -> NDArray[np.floating]:
    data = np.asarray(sequences)
    if data.ndim != 3 or not np.issubdtype(data.dtype, np.floating):
        raise ValueError(
            f"expected float (n, frames, features) sequences, got {data.dtype} {data.shape}"
        )
    return data


def _target_matrix(targets: object, n_examples: int) -> NDArray[np.float64]:
    matrix = np.asarray(targets, dtype=np.float64)
    if matrix.shape != (n_examples, len(TARGETS)):
        raise ValueError(
            f"y must be ({n_examples}, {len(TARGETS)}): one column per target {TARGETS}, "
            f"got {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError("y holds NaN or infinite values")
    return matrix


class GRUEnsembleRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """`size` parallel networks per target, averaged (size=1: the single network of Table 2).

    X: (n, frames, features) excerpt sequences; y and `predict`: (n, 2), one column per target in
    `TARGETS` order (valence, arousal), the model contract's output order. Network `m` of target
    `t` starts from `member_seed(t, m)`, so `seed` alone makes a fit repeatable.
    """

    def __init__(
        self,
        settings: GRUSettings | None = None,
        size: int = 5,
        seed: int = 0,
        progress: bool = True,
    ) -> None:
        self.settings = settings
        self.size = size
        self.seed = seed
        self.progress = progress

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.target_tags.single_output = False
        tags.target_tags.multi_output = True
        return tags

    def network_settings(self) -> GRUSettings:
        """`settings`, or the study's defaults when it is None."""
        return self.settings if self.settings is not None else GRUSettings()

    def member_seed(self, target: str, member: int) -> int:
        return self.seed * 1000 + TARGETS.index(target) * 100 + member

    def fit(self, sequences: object, targets: object) -> GRUEnsembleRegressor:
        data = _sequence_batch(sequences)
        matrix = _target_matrix(targets, len(data))
        settings = self.network_settings()
        self.standardiser_ = Standardiser.fit(data)
        standardised = self.standardiser_.transform(data)
        self.seeds_: dict[str, list[int]] = {}
        self.networks_: dict[str, list[ParallelGRUNetwork]] = {}
        for column, target in enumerate(TARGETS):
            seeds = [self.member_seed(target, member) for member in range(self.size)]
            self.seeds_[target] = seeds
            self.networks_[target] = [
                train_network(
                    standardised,
                    matrix[:, column],
                    settings,
                    seed,
                    description=f"{target} net {k + 1}/{self.size}",
                    progress=self.progress,
                )
                for k, seed in enumerate(seeds)
            ]
        return self

    def predict(self, sequences: object) -> NDArray[np.float64]:
        check_is_fitted(self, ("standardiser_", "networks_"))
        standardised = self.standardiser_.transform(_sequence_batch(sequences))
        return np.stack(
            [predict_networks(self.networks_[target], standardised) for target in TARGETS], axis=1
        )
