"""Screen model ideas quickly on the splits of a `music-mood-train default` run (prints figures).

The statistics candidate only ever sees per-excerpt statistics (feature means and mean absolute
deviations over the 60 frames, loudness statistics), and standardising the frames first is an
affine map those statistics absorb. So the statistics of every hop excerpt are computed once from
the excerpt cache, and each idea trains the candidate's MLP recipe (AdamW, cosine schedule, mixed
sign/value loss, 5 seeds) on them in minutes. Ideas:

- ``contexts``: for each K, the statistics averaged over the excerpt and the K - 1 earlier excerpts
  3 s, 6 s, ... before it (a K x 3 s context; the live path would need a ring of past excerpts,
  i.e. a new input contract), side by side: (1, 4) gives the net the excerpt's own statistics
  and the 12 s context's; ``spread`` adds how much the feature means vary within the longest.
- ``hidden``, ``set weights``: capacity and how hard 4Q pulls.
- ``distil_4q``: a kernel model distilled into the MLP: the 4Q training clips' sign labels become
  values, half the label and half a clip-level RBF SVR's prediction (per axis, on the whole-clip
  feature means and standard deviations of training/clip_floor.py, cross-fitted over 5 folds so
  no clip is scored by a teacher that saw it), trained by squared error.
- ``out_of_fold_offsets``: a constant per output axis added to the model's predictions, chosen
  on the training part only: the recipe is refitted on 5 group-disjoint folds of the training
  items (groups as the splits define them: artist, song, track, game), and the offset that puts
  most 4Q and EMOPIA training items (one vote each) on their labelled side by their out-of-fold
  predictions (training/output_offsets.py) is added to the model fitted on the whole training
  part. Nothing about validation enters the choice.
- ``temporal``: statistics of the frames' order that the graph could compute from the same inputs
  (training/excerpt_dynamics.py), added to the excerpt's statistics: ``dynamics``, each feature's
  mean absolute frame-to-frame change; ``pulse``, the largest normalised autocorrelation at lags of
  0.25-1 s and its value at 0.25, 0.5, 0.75 and 1 s, of the frame level, energy and spectral flux;
  ``pulse_clarity``, only the largest value per envelope. ``mode``: how well the excerpt's mean
  chroma fits the best major and the best minor key (training/excerpt_tonality.py), from the
  reference extractor's chroma; ``audio_mode``, the same from a chroma of the file's own audio
  (decoded again; a new model input if it were shipped).

Figures are those of the default run's selection rule (quality.selection_score on per-item means of
every validation hop). The real candidates come from `music-mood-train default`; this is where
ideas are tried first.

    python scripts/screen_candidates.py --run runs/default [--ideas baseline,context4,...]
"""

# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "custom_components" / "music_mood"))

SETS_TRAINED = {"emomusic_2013": 0.0, "4q_panda": 1.0, "emotify": 1.0, "vgmidi": 1.0, "emopia": 1.0}
BLOCK_HOPS = 6  # excerpts 3 s apart touch end to end


@dataclass(frozen=True)
class Idea:
    contexts: tuple[int, ...] = (1,)
    spread: bool = False
    hidden: tuple[int, int] = (64, 32)
    set_weights: dict[str, float] = field(default_factory=lambda: dict(SETS_TRAINED))
    distil_4q: bool = False
    out_of_fold_offsets: bool = False
    temporal: tuple[str, ...] = ()  # keys of ItemStats.temporal


def _weights(four_q: float) -> dict[str, float]:
    return {**SETS_TRAINED, "4q_panda": four_q}


IDEAS: dict[str, Idea] = {
    "baseline": Idea(),
    "weight_4q_2": Idea(set_weights=_weights(2.0)),
    "context4": Idea(contexts=(4,)),
    "context4_spread": Idea(contexts=(4,), spread=True),
    "wide": Idea(hidden=(128, 64)),
    "wide_weight_4q_1.5": Idea(hidden=(128, 64), set_weights=_weights(1.5)),
    "wide_distil_4q_svr": Idea(hidden=(128, 64), distil_4q=True),
    "wide_contexts_3s_12s": Idea(hidden=(128, 64), contexts=(1, 4)),
    "wide_contexts_3s_6s": Idea(hidden=(128, 64), contexts=(1, 2)),
    "wide_out_of_fold_offsets": Idea(hidden=(128, 64), out_of_fold_offsets=True),
    "wide_dynamics": Idea(hidden=(128, 64), temporal=("dynamics",)),
    "wide_pulse": Idea(hidden=(128, 64), temporal=("pulse",)),
    "wide_dynamics_pulse": Idea(hidden=(128, 64), temporal=("dynamics", "pulse")),
    "wide_pulse_clarity": Idea(hidden=(128, 64), temporal=("pulse_clarity",)),
    "wide_dynamics_pulse_clarity": Idea(hidden=(128, 64), temporal=("dynamics", "pulse_clarity")),
    "wide_mode": Idea(hidden=(128, 64), temporal=("mode",)),
    "wide_dynamics_mode": Idea(hidden=(128, 64), temporal=("dynamics", "mode")),
    "wide_audio_mode": Idea(hidden=(128, 64), temporal=("audio_mode",)),
    "wide_dynamics_audio_mode": Idea(hidden=(128, 64), temporal=("dynamics", "audio_mode")),
}


@dataclass
class ItemStats:
    set_name: str
    item_id: str
    group: str
    side: str
    sign: bool
    confidence: float
    label_rows: Any  # (labels,) row of each label time in the hop excerpts, -1 where none
    targets: Any  # (labels, 2)
    stats: Any  # (hops, 138): feature means, MADs, loudness MAD, mean |change|
    clip: Any  # (137,) whole-clip feature means, stds and level (training/clip_floor.py)
    temporal: dict[str, Any] = field(
        default_factory=dict
    )  # name -> (hops, k), see temporal_statistics


# The ``temporal`` statistics computed from the cached features; ``audio_mode`` needs the audio.
FEATURE_TEMPORAL = ("dynamics", "pulse", "pulse_clarity", "mode")


def temporal_statistics(
    features: Any, levels: Any, wanted: Collection[str] = FEATURE_TEMPORAL
) -> dict[str, Any]:
    """The ``wanted`` statistics of the frames per hop excerpt, for the ``temporal`` ideas."""
    from training.excerpt_dynamics import PULSE_FIXED_LAGS, excerpt_pulse, frame_change
    from training.excerpt_tonality import mode_statistics, reference_chroma

    out: dict[str, Any] = {}
    if "dynamics" in wanted:
        out["dynamics"] = frame_change(features)
    if "pulse" in wanted or "pulse_clarity" in wanted:
        pulse = excerpt_pulse(features, levels)
        out["pulse"] = pulse
        out["pulse_clarity"] = pulse[:, :: 1 + len(PULSE_FIXED_LAGS)]  # the largest per envelope
    if "mode" in wanted:
        out["mode"] = mode_statistics(reference_chroma(features))
    return out


def item_statistics(run: Path, data: Path | None, temporal: Collection[str]) -> list[ItemStats]:
    """Statistics of every split item, with the ``temporal`` ones the ideas ask for
    (``audio_mode`` decodes each file again for its own chroma)."""
    from training.clip_floor import clip_inputs
    from training.config import SAMPLE_RATE
    from training.datasets import SET_NAMES, data_root, default_cache_dir, load_set, read_split
    from training.default_command import default_excerpt_cache
    from training.excerpt_cache import cached_excerpts
    from training.excerpt_tonality import audio_chroma, mode_statistics
    from training.features import decode_audio

    out = []
    for name in SET_NAMES:
        train_ids, validation_ids = read_split(run / "splits" / f"{name}.json")
        side = {i: "train" for i in train_ids} | {i: "validation" for i in validation_ids}
        for item in load_set(
            name, data_root(data), cache_dir=default_cache_dir(), report=lambda _m: None
        ):
            if item.item_id not in side:
                continue
            excerpts = cached_excerpts(item.audio, default_excerpt_cache())
            features = excerpts.features.astype(np.float64)
            levels = excerpts.levels.astype(np.float64)
            mean = features.mean(axis=1)
            spread = np.abs(features - mean[:, None]).mean(axis=1)
            level_spread = np.abs(levels - levels.mean(axis=1, keepdims=True)).mean(axis=1)
            change = np.abs(np.diff(levels, axis=1)).mean(axis=1)
            order = temporal_statistics(features, levels, temporal)
            if "audio_mode" in temporal:
                samples = decode_audio(item.audio, SAMPLE_RATE)
                chroma = audio_chroma(samples, SAMPLE_RATE, excerpts.times_s)
                order["audio_mode"] = mode_statistics(chroma)
            out.append(
                ItemStats(
                    name,
                    item.item_id,
                    item.group,
                    side[item.item_id],
                    item.target_kind == "sign",
                    item.confidence,
                    excerpts.at(item.times_s),
                    item.targets,
                    np.concatenate([mean, spread, level_spread[:, None], change[:, None]], axis=1),
                    clip_inputs(excerpts.features, excerpts.levels),
                    order,
                )
            )
    return out


def context_statistics(stats: Any, context: int) -> Any:
    """Each hop's statistics averaged with those of the ``context - 1`` excerpts before it."""
    if context == 1:
        return stats
    return np.array(
        [stats[np.arange(hop, -1, -BLOCK_HOPS)[:context]].mean(axis=0) for hop in range(len(stats))]
    )


def context_spread(stats: Any, context: int) -> Any:
    """How far each hop's feature means lie, on average, from their mean over its context."""
    rows = []
    for hop in range(len(stats)):
        means = stats[np.arange(hop, -1, -BLOCK_HOPS)[:context], :68]
        rows.append(np.abs(means - means.mean(axis=0)).mean(axis=0))
    return np.array(rows)


def idea_inputs(item: ItemStats, idea: Idea) -> Any:
    stats = np.concatenate([item.stats, *(item.temporal[name] for name in idea.temporal)], axis=1)
    columns = [context_statistics(stats, context) for context in idea.contexts]
    if idea.spread:
        columns.append(context_spread(item.stats, max(idea.contexts)))
    return np.concatenate(columns, axis=1)


def labelled_rows(item: ItemStats, idea: Idea, every: int = 1) -> tuple[Any, Any]:
    """(inputs, targets) at every ``every``th labelled time of the item that its excerpts cover."""
    from training.excerpt_cache import labelled_and_covered

    keep = labelled_and_covered(item.targets, item.label_rows)[::every]
    return idea_inputs(item, idea)[item.label_rows[keep]], item.targets[keep]


def arrays(items: list[ItemStats], idea: Idea, *, training: bool) -> dict[str, Any]:
    columns: dict[str, list[Any]] = {k: [] for k in ("x", "targets", "sign", "weight", "item")}
    keys: list[tuple[str, str]] = []
    for item in items:
        trained = idea.set_weights.get(item.set_name, 1.0) > 0
        wanted = (
            (item.side == "train" and trained)
            if training
            else not trained or (item.side == "validation")
        )
        if not wanted:
            continue
        x, targets = labelled_rows(item, idea, every=2 if training else 1)
        if len(x) == 0:
            continue
        keys.append((item.set_name, item.item_id))
        columns["x"].append(x)
        columns["targets"].append(targets)
        columns["sign"].append(np.full(len(x), item.sign))
        columns["weight"].append(np.full(len(x), item.confidence))
        columns["item"].append(np.full(len(x), len(keys) - 1))
    joined: dict[str, Any] = {k: np.concatenate(v) for k, v in columns.items()}
    sets = np.array([keys[i][0] for i in joined["item"]])
    weight = joined["weight"].astype(np.float64)
    for name in np.unique(sets):
        rows = sets == name
        weight[rows] *= idea.set_weights.get(str(name), 1.0) / weight[rows].sum()
    joined["weight"] = weight * len(weight) / weight.sum()
    joined["keys"] = keys
    return joined


def distilled(items: list[ItemStats]) -> list[ItemStats]:
    """4Q training clips with values half label, half a cross-fitted clip SVR (see the header)."""
    from dataclasses import replace

    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    pupils = [i for i in items if i.set_name == "4q_panda" and i.side == "train"]
    inputs = np.array([i.clip[:-1] for i in pupils])  # features only: gain-free
    labels = np.array([np.sign(np.nanmean(i.targets, axis=0)) for i in pupils])
    teacher = np.zeros_like(labels)
    for fit_rows, score_rows in KFold(5, shuffle=True, random_state=0).split(inputs):
        for axis in range(2):
            svr = make_pipeline(StandardScaler(), SVR(C=1.0))
            svr.fit(inputs[fit_rows], labels[fit_rows, axis])
            teacher[score_rows, axis] = np.clip(svr.predict(inputs[score_rows]), -1, 1)
    taught = {id(i): 0.5 * (i.targets + t) for i, t in zip(pupils, teacher, strict=True)}
    return [replace(i, targets=taught[id(i)], sign=False) if id(i) in taught else i for i in items]


@dataclass
class Ensemble:
    """The candidate's MLPs, one per seed, with the standardisation of their training inputs."""

    mean: Any
    std: Any
    networks: list[Any]

    def predict(self, x: Any) -> Any:
        import torch

        with torch.no_grad():
            inputs = torch.from_numpy(((x - self.mean) / self.std).astype(np.float32))
            predicted = torch.stack([n(inputs) for n in self.networks]).mean(dim=0)
        return predicted.numpy().astype(np.float64)


def train_ensemble(train: dict[str, Any], idea: Idea, members: int, epochs: int) -> Ensemble:
    import torch

    from training.mood_loss import mood_loss

    mean, std = train["x"].mean(axis=0), train["x"].std(axis=0)
    std[std < 1e-12] = 1.0
    inputs = torch.from_numpy(((train["x"] - mean) / std).astype(np.float32))
    labels = torch.from_numpy(train["targets"].astype(np.float32))
    signs = torch.from_numpy(train["sign"])
    weights = torch.from_numpy(train["weight"].astype(np.float32))
    networks = []
    for member in range(members):
        torch.manual_seed(member)
        generator = torch.Generator().manual_seed(member)
        first, second = idea.hidden
        network = torch.nn.Sequential(
            torch.nn.Linear(inputs.shape[1], first),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(first, second),
            torch.nn.ReLU(),
            torch.nn.Linear(second, 2),
            torch.nn.Tanh(),
        )
        optimiser = torch.optim.AdamW(network.parameters(), lr=2e-3, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
        for _ in range(epochs):
            order = torch.randperm(len(inputs), generator=generator)
            for start in range(0, len(inputs), 256):
                batch = order[start : start + 256]
                optimiser.zero_grad()
                loss = mood_loss(
                    network(inputs[batch]), labels[batch], signs[batch], weights[batch]
                )
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
            schedule.step()
        network.eval()
        networks.append(network)
    return Ensemble(mean, std, networks)


def out_of_fold_offsets(
    items: list[ItemStats], idea: Idea, members: int, epochs: int, folds: int = 5
) -> dict[str, Any]:
    """Per-axis offsets chosen on out-of-fold predictions of the training part (see the header)."""
    from sklearn.model_selection import GroupKFold

    from training.output_offsets import sign_accuracy, sign_offset
    from training.quality import SIGN_SETS

    training = [i for i in items if i.side == "train" and idea.set_weights.get(i.set_name, 1.0) > 0]
    groups = [f"{i.set_name}/{i.group}" for i in training]
    means, signs = [], []
    for fit_rows, held_rows in GroupKFold(folds).split(training, groups=groups):
        ensemble = train_ensemble(
            arrays([training[r] for r in fit_rows], idea, training=True), idea, members, epochs
        )
        for row in held_rows:
            item = training[row]
            if item.set_name in SIGN_SETS:
                x, targets = labelled_rows(item, idea)
                means.append(ensemble.predict(x).mean(axis=0))
                signs.append(np.sign(np.nanmean(targets, axis=0)))
    predicted, labels = np.array(means), np.array(signs)
    offsets = np.array([sign_offset(predicted[:, a], labels[:, a]) for a in range(2)])
    return {
        "offsets": offsets.tolist(),
        "items": len(predicted),
        "sign_accuracy_without": [sign_accuracy(predicted[:, a], labels[:, a]) for a in range(2)],
        "sign_accuracy_with": [
            sign_accuracy(predicted[:, a] + offsets[a], labels[:, a]) for a in range(2)
        ],
    }


def fit_and_score(items: list[ItemStats], idea: Idea, members: int, epochs: int) -> dict[str, Any]:
    from training.quality import ItemPredictions, selection_score, set_figures

    taught = distilled(items) if idea.distil_4q else items
    ensemble = train_ensemble(arrays(taught, idea, training=True), idea, members, epochs)
    result: dict[str, Any] = {}
    offsets = np.zeros(2)
    if idea.out_of_fold_offsets:
        result["out_of_fold"] = out_of_fold_offsets(taught, idea, members, epochs)
        offsets = np.array(result["out_of_fold"]["offsets"])
    validation = arrays(items, idea, training=False)
    # An offset is added after the output's tanh; the runtime contract keeps readings in [-1, 1].
    predicted = np.clip(ensemble.predict(validation["x"]) + offsets, -1.0, 1.0)
    per_set: dict[str, list[ItemPredictions]] = {}
    for index, (name, item_id) in enumerate(validation["keys"]):
        rows = validation["item"] == index
        per_set.setdefault(name, []).append(
            ItemPredictions(item_id, predicted[rows], validation["targets"][rows].astype(float))
        )
    figures = {name: set_figures(name, found) for name, found in per_set.items()}
    return {"score": selection_score(figures), "figures": figures, **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=REPO_ROOT / "runs" / "default")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--ideas", default=",".join(IDEAS), help="comma-separated: " + ", ".join(IDEAS)
    )
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument(
        "--out", type=Path, default=None, help="results JSON (default: RUN/screening.json)"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    names = args.ideas.split(",")
    items = item_statistics(
        args.run, args.data, {kind for name in names for kind in IDEAS[name].temporal}
    )
    results = {}
    for name in names:
        started = time.perf_counter()
        results[name] = fit_and_score(items, IDEAS[name], args.members, args.epochs)
        f = results[name]["figures"]
        print(
            f"{name}: score {results[name]['score']:.3f} ({time.perf_counter() - started:.0f} s) "
            f"4Q {f['4q_panda']['quadrant']:.3f}/{f['4q_panda']['arousal_sign']:.3f}/"
            f"{f['4q_panda']['valence_sign']:.3f} EMOPIA {f['emopia']['quadrant']:.3f} "
            f"Emotify {f['emotify']['arousal_spearman']:.3f}/"
            f"{f['emotify']['valence_spearman']:.3f} "
            f"VGMIDI {f['vgmidi']['arousal_spearman']:.3f}/{f['vgmidi']['valence_spearman']:.3f}",
            flush=True,
        )
        if "out_of_fold" in results[name]:
            chosen = results[name]["out_of_fold"]
            print(f"  {name}: out-of-fold choice {json.dumps(chosen)}", flush=True)
    (args.out or args.run / "screening.json").write_text(
        json.dumps(results, indent=1) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
