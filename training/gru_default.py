"""Candidate "gru": the study's parallel GRU ensemble, trained on every set with the mixed loss.

The networks, their fusion and export are the study's (training/gru.py, training/export.py); only
the data and the loss differ: value labels by squared error, quadrant signs by a squared hinge.
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray

from .config import TARGETS, GRUSettings
from .gru import GRUEnsembleRegressor, ParallelGRUNetwork, Standardiser
from .mood_loss import DEFAULT_SIGN_MARGIN, mood_loss
from .stats_model import FrameStandardiser


def train_gru_network(
    inputs: torch.Tensor,
    labels: torch.Tensor,
    sign: torch.Tensor,
    weight: torch.Tensor,
    *,
    settings: GRUSettings,
    seed: int,
    margin: float,
) -> ParallelGRUNetwork:
    torch.manual_seed(seed)
    network = ParallelGRUNetwork(settings, inputs.shape[-1])
    optimiser = torch.optim.Adam(
        network.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    network.train()
    for _ in range(settings.epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            optimiser.zero_grad()
            predicted = network(inputs[batch])[:, None]
            loss = mood_loss(predicted, labels[batch], sign[batch], weight[batch], margin)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
    network.eval()
    return network


def fit_gru_ensemble(
    features: NDArray[np.float32],
    targets: NDArray[np.float32],
    sign: NDArray[np.bool_],
    weight: NDArray[np.float32],
    *,
    settings: GRUSettings,
    size: int,
    seed: int,
    margin: float = DEFAULT_SIGN_MARGIN,
) -> GRUEnsembleRegressor:
    """`size` networks per target; excerpts without a label for a target are left out of it."""
    ensemble = GRUEnsembleRegressor(settings, size=size, seed=seed, progress=False)
    frame = FrameStandardiser.fit(features)
    ensemble.standardiser_ = Standardiser(mean=frame.mean, scale=frame.scale)
    inputs = torch.from_numpy(ensemble.standardiser_.transform(features))
    ensemble.seeds_, ensemble.networks_ = {}, {}
    for column, target in enumerate(TARGETS):
        known = ~np.isnan(targets[:, column])
        rows = torch.from_numpy(np.nonzero(known)[0])
        labels = torch.from_numpy(targets[known, column : column + 1].astype(np.float32))
        signs = torch.from_numpy(sign[known])
        weights = torch.from_numpy(weight[known].astype(np.float32))
        seeds = [ensemble.member_seed(target, member) for member in range(size)]
        ensemble.seeds_[target] = seeds
        ensemble.networks_[target] = [
            train_gru_network(
                inputs[rows], labels, signs, weights, settings=settings, seed=s, margin=margin
            )
            for s in seeds
        ]
    return ensemble


def predict_gru(
    ensemble: GRUEnsembleRegressor, features: NDArray[np.float32]
) -> NDArray[np.float64]:
    return ensemble.predict(features)  # (n, 2) in TARGETS order
