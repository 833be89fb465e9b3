"""Save and restore a trained ensemble (torch weights + standardiser) for a later `export`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from .config import GRUSettings
from .gru import GRUEnsembleRegressor, ParallelGRUNetwork, Standardiser


def save_ensemble(
    ensemble: GRUEnsembleRegressor,
    path: Path,
    check_features: NDArray[np.floating],
    info: dict[str, str],
) -> None:
    if ensemble.standardiser_ is None:
        raise RuntimeError("fit() the ensemble first")
    settings = dataclasses.asdict(ensemble.network_settings())
    payload: dict[str, Any] = {
        "settings": {**settings, "fc_sizes": list(settings["fc_sizes"])},
        "size": ensemble.size,
        "seed": ensemble.seed,
        "seeds": ensemble.seeds_,
        "mean": torch.from_numpy(ensemble.standardiser_.mean),
        "scale": torch.from_numpy(ensemble.standardiser_.scale),
        "networks": {t: [n.state_dict() for n in nets] for t, nets in ensemble.networks_.items()},
        "check_features": torch.from_numpy(np.asarray(check_features, dtype=np.float32)),
        "info": info,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_ensemble(path: Path) -> tuple[GRUEnsembleRegressor, NDArray[np.float32], dict[str, str]]:
    payload = torch.load(path, weights_only=True)
    raw = payload["settings"]
    settings = GRUSettings(**{**raw, "fc_sizes": tuple(raw["fc_sizes"])})
    ensemble = GRUEnsembleRegressor(settings, size=payload["size"], seed=payload["seed"])
    ensemble.standardiser_ = Standardiser(payload["mean"].numpy(), payload["scale"].numpy())
    ensemble.seeds_ = payload["seeds"]
    ensemble.networks_ = {}
    for target, states in payload["networks"].items():
        networks = []
        for state in states:
            network = ParallelGRUNetwork(settings, int(payload["mean"].shape[0]))
            network.load_state_dict(state)
            network.eval()
            networks.append(network)
        ensemble.networks_[target] = networks
    return ensemble, payload["check_features"].numpy(), dict(payload["info"])
