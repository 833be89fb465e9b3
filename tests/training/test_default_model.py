"""Default-model pieces: the loudness input (live = offline), format 2 files, the stats export,
the mixed loss, the validation figures, and a `predict` that needs no torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from music_mood_core import features as core_features
from music_mood_core.audio import decode_file
from music_mood_core.model import BUNDLED_MODEL_PATH, ModelError, load_model

from tests.data_paths import DATA_ROOT, EMOMUSIC_DIR, require_data
from training.excerpt_cache import cached_excerpts, compute_excerpts
from training.export import PARITY_TOLERANCE, model_metadata
from training.mood_loss import mood_loss
from training.quality import ItemPredictions, correlation_figures, sign_figures, spearman
from training.stats_export import build_stats_model, export_stats, onnxruntime_outputs
from training.stats_model import StatsEnsemble, StatsSettings

REPO = Path(__file__).resolve().parents[2]
GRID = core_features.FrameGrid.from_seconds(22050)
LIVE_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    path = require_data(EMOMUSIC_DIR / "clips_45s" / "2.mp3")
    return decode_file(path, 22050)


def _stream_windows(samples: np.ndarray, chunk: int = 3001) -> list[core_features.ExcerptWindow]:
    stream = core_features.ExcerptStream(GRID)
    windows: list[core_features.ExcerptWindow] = []
    for start in range(0, samples.size, chunk):
        windows += stream.push(samples[start : start + chunk])
    return windows


def test_live_loudness_equals_the_offline_levels_used_in_training(clip: np.ndarray) -> None:
    windows = _stream_windows(clip)
    times = np.array([w.end_sample for w in windows]) / 22050
    offline = compute_excerpts(clip)
    assert np.allclose(offline.times_s, times)
    live = np.stack([w.frame_levels_dbfs for w in windows])
    assert live.shape == (len(windows), 60)
    np.testing.assert_allclose(offline.levels, live, rtol=0, atol=LIVE_TOLERANCE)
    features = np.stack([w.features for w in windows])
    np.testing.assert_allclose(offline.features, features, rtol=0, atol=LIVE_TOLERANCE)


def test_frame_levels_follow_the_gain_and_floor_digital_silence(clip: np.ndarray) -> None:
    excerpt = clip[: GRID.excerpt_samples(60)].astype(np.int32)
    levels = core_features.frame_levels_dbfs(excerpt, GRID)
    halved = core_features.frame_levels_dbfs(excerpt // 2, GRID)
    audible = levels > -60
    assert audible.any()
    # Half the amplitude is 6.02 dB quieter (integer halving rounds, hence the tolerance).
    np.testing.assert_allclose(levels[audible] - halved[audible], 20 * np.log10(2), atol=0.05)
    silence = core_features.frame_levels_dbfs(np.zeros(GRID.excerpt_samples(60), np.int16), GRID)
    assert silence.tolist() == [core_features.FRAME_LEVEL_FLOOR_DBFS] * 60
    # The features of the same excerpt do not see the gain: that is why the levels exist.
    np.testing.assert_allclose(
        core_features.excerpt_features(excerpt, GRID)[:, 8:21],
        core_features.excerpt_features(excerpt * 1.0 / 2, GRID)[:, 8:21],
        atol=1e-6,
    )


def test_excerpt_cache_reuses_its_file(clip: np.ndarray, tmp_path: Path) -> None:
    audio = require_data(EMOMUSIC_DIR / "clips_45s" / "2.mp3")
    first = cached_excerpts(audio, tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    again = cached_excerpts(audio, tmp_path)
    assert files[0].stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(first.features, again.features)
    assert first.at(np.array([3.0, 3.5, 999.0])).tolist() == [0, 1, -1]


def _trained_stats(
    loudness: str, clip: np.ndarray, hidden: tuple[int, int] = (64, 32)
) -> tuple[StatsEnsemble, np.ndarray, np.ndarray]:
    excerpts = compute_excerpts(clip)
    rng = np.random.default_rng(0)
    targets = rng.uniform(-1, 1, (len(excerpts.times_s), 2)).astype(np.float32)
    settings = StatsSettings(ensemble_size=2, epochs=2, loudness=loudness, hidden=hidden)
    ensemble = StatsEnsemble(settings).fit(
        excerpts.features,
        excerpts.levels,
        targets,
        np.zeros(len(targets), bool),
        np.ones(len(targets), np.float32),
    )
    return ensemble, excerpts.features, excerpts.levels


def _metadata(model_format: str) -> dict[str, str]:
    metadata = model_metadata("test", "test", {}, [0, 1], core_features.EXTRACTOR_VERSION)
    metadata["music_mood.format"] = model_format
    return metadata


@pytest.mark.parametrize(
    ("loudness", "model_format", "hidden"),
    [
        ("relative", "2", (64, 32)),
        ("absolute", "2", (64, 32)),
        ("none", "1", (64, 32)),
        ("relative", "2", (128, 64)),  # the shipped width
    ],
)
def test_stats_export_matches_torch_and_both_engines(
    loudness: str, model_format: str, hidden: tuple[int, int], clip: np.ndarray, tmp_path: Path
) -> None:
    ensemble, features, levels = _trained_stats(loudness, clip, hidden)
    path = tmp_path / "stats.onnx"
    error = export_stats(ensemble, path, _metadata(model_format), features[:16], levels[:16])
    assert error <= PARITY_TOLERANCE
    torch_out = ensemble.predict(features, levels)
    ort_out = onnxruntime_outputs(path, features, levels)
    numpy_model = load_model(path, engine="numpy")
    assert numpy_model.info.model_format == model_format
    assert numpy_model.info.needs_loudness is (model_format == "2")
    numpy_out = numpy_model.predict(features, levels)
    np.testing.assert_allclose(ort_out, torch_out, rtol=0, atol=1e-5)
    np.testing.assert_allclose(numpy_out, ort_out, rtol=0, atol=1e-5)
    allowed = set(__import__("music_mood_core.onnx_numpy", fromlist=["x"]).SUPPORTED_OPERATORS)
    assert {n.op_type for n in onnx.load(str(path)).graph.node} <= allowed


def test_format_2_models_need_the_loudness(clip: np.ndarray, tmp_path: Path) -> None:
    ensemble, features, levels = _trained_stats("relative", clip)
    path = tmp_path / "stats.onnx"
    export_stats(ensemble, path, _metadata("2"), features[:4], levels[:4])
    model = load_model(path, engine="numpy")
    with pytest.raises(ValueError, match="loudness"):
        model.predict(features[:2])
    with pytest.raises(ValueError, match="loudness must have shape"):
        model.predict(features[:2], levels[:3])
    single = model.predict(features[0], levels[0])
    np.testing.assert_allclose(single, model.predict(features[:1], levels[:1]), atol=1e-6)
    # Louder by 12 dB everywhere: a "relative" model cannot tell, by construction.
    np.testing.assert_allclose(
        model.predict(features[:8], levels[:8] + 12.0),
        model.predict(features[:8], levels[:8]),
        atol=1e-4,
    )


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save_model(model, str(path))
    return path


def test_format_signatures_are_validated(clip: np.ndarray, tmp_path: Path) -> None:
    relative, _, _ = _trained_stats("relative", clip)
    featureless, _, _ = _trained_stats("none", clip)
    # A format 2 graph labelled format 1, and a format 1 graph labelled format 2.
    with pytest.raises(ModelError, match="expects the inputs") as wrong:
        load_model(_save(build_stats_model(relative, _metadata("1")), tmp_path / "a.onnx"))
    assert wrong.value.reason == "bad_signature"
    with pytest.raises(ModelError, match="expects the inputs"):
        load_model(_save(build_stats_model(featureless, _metadata("2")), tmp_path / "b.onnx"))
    # A loudness input of the wrong length.
    model = build_stats_model(relative, _metadata("2"))
    dims = model.graph.input[1].type.tensor_type.shape.dim
    dims[1].dim_value = 59
    with pytest.raises(ModelError, match="takes 59 frames"):
        load_model(_save(model, tmp_path / "c.onnx"))
    # An unknown format.
    model = build_stats_model(relative, _metadata("3"))
    with pytest.raises(ModelError, match="model format '3'") as unknown:
        load_model(_save(model, tmp_path / "d.onnx"))
    assert unknown.value.reason == "incompatible_metadata"


def test_format_1_models_still_load_and_ignore_loudness(tmp_path: Path) -> None:
    old = subprocess.run(
        ["git", "show", "b0a8b14:custom_components/music_mood/models/default.onnx"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if old.returncode != 0:
        pytest.skip("the repository history is not available")
    path = tmp_path / "old.onnx"
    path.write_bytes(old.stdout)
    model = load_model(path, engine="numpy")
    assert model.info.model_format == "1"
    assert not model.info.needs_loudness
    features = np.random.default_rng(1).standard_normal((3, 60, 68)).astype(np.float32)
    np.testing.assert_array_equal(
        model.predict(features), model.predict(features, np.zeros((3, 60), np.float32))
    )


def test_mood_loss_fits_values_and_signs() -> None:
    predicted = torch.tensor([[0.5, 0.1], [0.2, -0.4], [0.0, 0.0]])
    targets = torch.tensor([[0.5, float("nan")], [1.0, -1.0], [-1.0, 1.0]])
    sign = torch.tensor([False, True, True])
    weight = torch.tensor([1.0, 1.0, 2.0])
    loss = mood_loss(predicted, targets, sign, weight, margin=0.3)
    # Row 0: exact value (0), label NaN ignored; row 1: hinge 0.1**2 and 0 (cleared margin);
    # row 2: 0.3**2 twice at weight 2. Divided by the weights of known labels (1 + 2 + 4).
    expected = (0.0 + 0.01 + 0.0 + 2 * 0.09 * 2) / 7
    assert float(loss) == pytest.approx(expected)


def test_validation_figures_from_per_item_means() -> None:
    items = [
        ItemPredictions("a", np.array([[0.4, 0.6], [-0.2, 0.2]]), np.array([[1.0, 1.0]] * 2)),
        ItemPredictions("b", np.array([[-0.3, 0.5]]), np.array([[-1.0, -1.0]])),
    ]
    figures = sign_figures(items)
    assert figures["quadrant"] == 0.5
    assert figures["valence_sign"] == 1.0
    assert figures["arousal_sign"] == 0.5
    assert spearman(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0, 20.0])) == pytest.approx(0.5)
    correlated = correlation_figures(
        [ItemPredictions(str(k), np.array([[k, -k]]), np.array([[k * 2.0, k]])) for k in range(4)]
    )
    assert correlated["valence_spearman"] == pytest.approx(1.0)
    assert correlated["arousal_spearman"] == pytest.approx(-1.0)


def test_predict_imports_no_torch() -> None:
    code = "import sys, training.predict, training.cli; print(json.dumps(['torch' in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout) == [False]


def test_predict_uses_the_bundled_model_by_default(tmp_path: Path) -> None:
    audio = require_data(EMOMUSIC_DIR / "clips_45s" / "2.mp3")
    output = tmp_path / "timeline.json"
    result = subprocess.run(
        [sys.executable, "-m", "training", "predict", str(audio), "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(output.read_text())
    assert rows[0]["time_s"] == 3.0
    assert len(rows) == 85
    bundled = load_model(BUNDLED_MODEL_PATH)
    samples = decode_file(audio, 22050)
    window = _stream_windows(samples)[0]
    expected = bundled.predict(window.features, window.frame_levels_dbfs)[0]
    assert rows[0]["valence"] == pytest.approx(float(expected[0]), abs=1e-5)
    assert rows[0]["arousal"] == pytest.approx(float(expected[1]), abs=1e-5)


def _tiny_4q_root(tmp_path: Path, per_quadrant: int = 4) -> Path:
    """A data root holding a few real 4Q clips per quadrant (links) and their label rows."""
    source = require_data(DATA_ROOT / "4q_panda" / "panda_dataset_taffc_metadata.csv").parent
    target = tmp_path / "data" / "4q_panda"
    for quadrant in range(1, 5):
        folder = target / f"Q{quadrant}"
        folder.mkdir(parents=True)
        for clip in sorted((source / f"Q{quadrant}").glob("*.opus"))[:per_quadrant]:
            (folder / clip.name).symlink_to(clip)
    chosen = {p.stem for p in target.glob("Q*/*.opus")}
    for name in ("panda_dataset_taffc_annotations.csv", "panda_dataset_taffc_metadata.csv"):
        lines = (source / name).read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [lines[0]] + [line for line in lines[1:] if line.split(",", 1)[0] in chosen]
        (target / name).write_text("".join(kept), encoding="utf-8")
    return target.parent


def test_default_command_trains_exports_and_reports_on_real_clips(tmp_path: Path) -> None:
    root = _tiny_4q_root(tmp_path)
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "training", "default", "--data", str(root), "--out", str(out),
        "--sets", "4q_panda", "--candidates", "stats_relative_wide,stats_none",
        "--stats-epochs", "3", "--stats-ensemble-size", "2",
        "--excerpt-cache", str(tmp_path / "excerpts"), "--dataset-cache", str(tmp_path / "ds"),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen"] in ("stats_relative_wide", "stats_none")
    assert "hidden (128, 64)" in summary["candidates"]["stats_relative_wide"]["description"]
    split = json.loads((out / "splits" / "4q_panda.json").read_text())
    assert not set(split["train"]["groups"]) & set(split["validation"]["groups"])
    assert len(split["train"]["ids"]) + len(split["validation"]["ids"]) == 16
    chosen = load_model(out / "default.onnx")
    assert chosen.info.model_format == ("2" if summary["chosen"] == "stats_relative_wide" else "1")
    figures = chosen.info.scores["validation"]["4q_panda"]
    assert figures == pytest.approx(summary["candidates"][summary["chosen"]]["figures"]["4q_panda"])
    report = (out / "report.md").read_text()
    assert "### 4q_panda" in report
    assert (out / "validation.png").stat().st_size > 1000
    # One feature cache file per clip, keyed by its content and the extractor version.
    assert len(list((tmp_path / "excerpts").glob("*.npz"))) == 16


def test_default_command_refuses_an_unknown_set_weight(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training",
            "default",
            "--out",
            str(tmp_path),
            "--set-weight",
            "x=1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown set 'x'" in result.stderr
