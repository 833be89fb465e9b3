"""Candidate "stats": per-excerpt statistics of the 68 features and of the loudness -> small MLP.

The excerpt's frames are standardised, summarised by their mean and standard deviation over the
60 frames, joined by statistics of the raw frame levels (the loudness that per-excerpt
normalisation removes), standardised again and fed to a ReLU MLP with a tanh output per target.
An ensemble of seeds is fused into one graph (stacked first layers, block-diagonal others, averaged
outputs); every operation here has its twin in the exported graph (training/stats_export.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from .mood_loss import DEFAULT_SIGN_MARGIN, mood_loss

# "absolute": mean level, level spread, level changes; "relative": spread and changes only (a
# model that cannot see the microphone's gain).
LOUDNESS_MODES = ("absolute", "relative", "none")


@dataclass(frozen=True)
class StatsSettings:
    hidden: tuple[int, int] = (64, 32)
    dropout: float = 0.1
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    epochs: int = 40
    batch_size: int = 256
    ensemble_size: int = 5
    margin: float = DEFAULT_SIGN_MARGIN
    loudness: str = "relative"


@dataclass
class FrameStandardiser:
    mean: NDArray[np.float32]
    scale: NDArray[np.float32]

    @classmethod
    def fit(cls, features: NDArray[np.float32], chunk: int = 4096) -> FrameStandardiser:
        total = np.zeros(features.shape[-1])
        squares = np.zeros(features.shape[-1])
        count = 0
        for start in range(0, len(features), chunk):
            block = (
                features[start : start + chunk].reshape(-1, features.shape[-1]).astype(np.float64)
            )
            total += block.sum(axis=0)
            squares += (block * block).sum(axis=0)
            count += block.shape[0]
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
        scale = np.where(std > 1e-12, 1.0 / np.where(std > 1e-12, std, 1.0), 1.0)
        return cls(mean.astype(np.float32), scale.astype(np.float32))


def excerpt_statistics(
    features: torch.Tensor,
    levels: torch.Tensor,
    frame_mean: torch.Tensor,
    frame_scale: torch.Tensor,
    loudness: str,
) -> torch.Tensor:
    """(b, 60, 68), (b, 60) -> (b, 136 + k): feature means and mean absolute deviations over the
    frames, then loudness statistics (mean level, its mean absolute deviation, mean |change|).

    Mean absolute deviation rather than standard deviation: |x| = relu(x) + relu(-x) runs on the
    operators every engine already has, and it is less dominated by a single loud transient.
    """
    standardised = (features - frame_mean) * frame_scale
    mean = standardised.mean(dim=1)
    spread = torch.abs(standardised - mean[:, None, :]).mean(dim=1)
    parts = [mean, spread]
    if loudness != "none":
        level_mean = levels.mean(dim=1, keepdim=True)
        level_spread = torch.abs(levels - level_mean).mean(dim=1, keepdim=True)
        change = torch.abs(levels[:, 1:] - levels[:, :-1]).mean(dim=1, keepdim=True)
        if loudness == "absolute":
            parts.append(level_mean)
        parts += [level_spread, change]
    return torch.cat(parts, dim=1)


class StatsMLP(nn.Module):
    """Standardised statistics -> Linear, ReLU, Linear, ReLU, Linear(2) -> tanh."""

    def __init__(self, n_inputs: int, settings: StatsSettings) -> None:
        super().__init__()
        first, second = settings.hidden
        self.fc1 = nn.Linear(n_inputs, first)
        self.fc2 = nn.Linear(first, second)
        self.fc3 = nn.Linear(second, 2)
        self.dropout = nn.Dropout(settings.dropout)

    def forward(self, stats: torch.Tensor) -> torch.Tensor:
        hidden = self.dropout(torch.relu(self.fc1(stats)))
        hidden = torch.relu(self.fc2(hidden))
        return torch.tanh(self.fc3(hidden))


@dataclass
class StatsEnsemble:
    settings: StatsSettings
    frame: FrameStandardiser | None = None
    stats_mean: NDArray[np.float32] | None = None
    stats_scale: NDArray[np.float32] | None = None
    networks: list[StatsMLP] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def statistics(
        self, features: NDArray[np.float32], levels: NDArray[np.float32], chunk: int = 2048
    ) -> NDArray[np.float32]:
        assert self.frame is not None
        mean, scale = torch.from_numpy(self.frame.mean), torch.from_numpy(self.frame.scale)
        out = []
        with torch.no_grad():
            for start in range(0, len(features), chunk):
                out.append(
                    excerpt_statistics(
                        torch.from_numpy(np.ascontiguousarray(features[start : start + chunk])),
                        torch.from_numpy(np.ascontiguousarray(levels[start : start + chunk])),
                        mean,
                        scale,
                        self.settings.loudness,
                    ).numpy()
                )
        return np.concatenate(out)

    def fit(
        self,
        features: NDArray[np.float32],
        levels: NDArray[np.float32],
        targets: NDArray[np.float32],
        sign: NDArray[np.bool_],
        weight: NDArray[np.float32],
        *,
        seed: int = 0,
    ) -> StatsEnsemble:
        self.frame = FrameStandardiser.fit(features)
        stats = self.statistics(features, levels).astype(np.float64)
        std = stats.std(axis=0)
        self.stats_mean = stats.mean(axis=0).astype(np.float32)
        self.stats_scale = np.where(std > 1e-12, 1.0 / np.where(std > 1e-12, std, 1.0), 1.0).astype(
            np.float32
        )
        inputs = torch.from_numpy(self.standardised(stats.astype(np.float32)))
        labels = torch.from_numpy(targets.astype(np.float32))
        signs = torch.from_numpy(sign)
        weights = torch.from_numpy(weight.astype(np.float32))
        s = self.settings
        self.networks, self.seeds = [], []
        for member in range(s.ensemble_size):
            member_seed = seed * 1000 + member
            torch.manual_seed(member_seed)
            generator = torch.Generator().manual_seed(member_seed)
            network = StatsMLP(inputs.shape[1], s)
            optimiser = torch.optim.AdamW(
                network.parameters(), lr=s.learning_rate, weight_decay=s.weight_decay
            )
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, s.epochs)
            network.train()
            for _ in range(s.epochs):
                order = torch.randperm(len(inputs), generator=generator)
                for start in range(0, len(inputs), s.batch_size):
                    batch = order[start : start + s.batch_size]
                    optimiser.zero_grad()
                    loss = mood_loss(
                        network(inputs[batch]),
                        labels[batch],
                        signs[batch],
                        weights[batch],
                        s.margin,
                    )
                    loss.backward()  # type: ignore[no-untyped-call]
                    optimiser.step()
                schedule.step()
            network.eval()
            self.networks.append(network)
            self.seeds.append(member_seed)
        return self

    def standardised(self, stats: NDArray[np.float32]) -> NDArray[np.float32]:
        assert self.stats_mean is not None
        assert self.stats_scale is not None
        return (stats - self.stats_mean) * self.stats_scale

    def predict(
        self, features: NDArray[np.float32], levels: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        """(n, 2) valence, arousal: the mean of the members."""
        inputs = torch.from_numpy(self.standardised(self.statistics(features, levels)))
        with torch.no_grad():
            outputs = torch.stack([net(inputs) for net in self.networks]).mean(dim=0)
        return outputs.numpy().astype(np.float64)
