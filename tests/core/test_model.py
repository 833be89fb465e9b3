"""Loading, validating, running and choosing mood models, on both engines."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import (
    BUNDLED_MODEL_PATH,
    DEFAULT_MODEL_ID,
    ModelError,
    MoodModel,
    discover_models,
    load_model,
    resolve_model,
)
from music_mood_core.onnx_proto import parse_model

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "tests" / "fixtures" / "models"
ENSEMBLE = MODELS_DIR / "ensemble.onnx"
REFERENCE = np.load(MODELS_DIR / "reference_outputs.npz")
TOLERANCE = 1e-5
HIDE_ORT_ENV = "MUSIC_MOOD_HIDE_ONNXRUNTIME"
ORT_HIDDEN = os.environ.get(HIDE_ORT_ENV) == "1"


def _ort_importable() -> bool:
    if ORT_HIDDEN:
        return False
    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except ImportError:
        return False


needs_ort = pytest.mark.skipif(
    not _ort_importable(), reason="onnxruntime is not installed in this environment"
)
ENGINES = [
    "numpy",
    pytest.param("onnxruntime", marks=needs_ort),
]


def _expected(name: str, label: str) -> np.ndarray:
    return np.concatenate(
        [REFERENCE[f"{name}.{label}.valence"], REFERENCE[f"{name}.{label}.arousal"]], axis=1
    )


def test_fixtures_carry_the_current_extractor_version() -> None:
    """Fails when features.EXTRACTOR_VERSION changes: rerun scripts/make_test_models.py."""
    metadata = parse_model(ENSEMBLE.read_bytes()).metadata
    assert metadata["music_mood.feature_extractor_version"] == EXTRACTOR_VERSION


@pytest.mark.parametrize("engine", ENGINES)
def test_ensemble_loads_with_its_metadata(engine: str) -> None:
    model = load_model(ENSEMBLE, engine=engine)  # type: ignore[arg-type]
    assert model.engine == engine
    info = model.info
    assert info.path == ENSEMBLE
    assert info.sample_rate == 22050
    assert info.window_s == info.step_s == 0.05
    assert info.sequence_length == 60
    assert info.hop_s == 0.5
    assert info.normalisation == "excerpt"
    assert info.feature_extractor_version == EXTRACTOR_VERSION
    assert "random weights" in info.description
    assert info.scores["evaluation"]["valence"]["rmse"] == 0.5
    assert info.metadata["music_mood.seeds"] == "[0, 1, 2, 3, 4]"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("label", ["batch1", "batch4"])
def test_predictions_equal_onnxruntime_reference(engine: str, label: str) -> None:
    model = load_model(ENSEMBLE, engine=engine)  # type: ignore[arg-type]
    prediction = model.predict(REFERENCE[f"ensemble.{label}.features"])
    assert prediction.dtype == np.float32
    np.testing.assert_allclose(prediction, _expected("ensemble", label), rtol=0, atol=TOLERANCE)


@needs_ort
def test_engines_agree_on_fresh_inputs() -> None:
    rng = np.random.default_rng(21)
    base = REFERENCE["ensemble.batch4.features"]
    features = (base[rng.integers(0, 4, 8)] * rng.uniform(0.3, 2.0, (8, 60, 68))).astype(np.float32)
    numpy_model = load_model(ENSEMBLE, engine="numpy")
    ort_model = load_model(ENSEMBLE, engine="onnxruntime")
    np.testing.assert_allclose(
        numpy_model.predict(features), ort_model.predict(features), rtol=0, atol=TOLERANCE
    )


def test_single_excerpt_gives_one_row_and_float64_input_is_accepted() -> None:
    model = load_model(ENSEMBLE, engine="numpy")
    features = REFERENCE["ensemble.batch1.features"][0].astype(np.float64)
    prediction = model.predict(features)
    assert prediction.shape == (1, 2)
    np.testing.assert_allclose(prediction, _expected("ensemble", "batch1"), rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("engine", ENGINES)
def test_predictions_are_clipped_to_unit_range(engine: str) -> None:
    raw = _expected("tiny_unbounded", "batch3")
    assert np.abs(raw).max() > 1.0  # the fixture really leaves the range
    model = load_model(MODELS_DIR / "tiny_unbounded.onnx", engine=engine)  # type: ignore[arg-type]
    prediction = model.predict(REFERENCE["tiny.batch3.features"])
    np.testing.assert_allclose(prediction, np.clip(raw, -1, 1), rtol=0, atol=TOLERANCE)


def test_symbolic_sequence_dimension_is_accepted() -> None:
    model = load_model(MODELS_DIR / "tiny_dynamic_time.onnx", engine="numpy")
    np.testing.assert_allclose(
        model.predict(REFERENCE["tiny.batch3.features"]),
        _expected("tiny", "batch3"),
        rtol=0,
        atol=TOLERANCE,
    )


@pytest.mark.parametrize("shape", [(60, 67), (59, 68), (2, 60, 69), (68,), (1, 2, 60, 68)])
def test_wrong_feature_shapes_raise_value_error(shape: tuple[int, ...]) -> None:
    model = load_model(MODELS_DIR / "tiny.onnx", engine="numpy")
    with pytest.raises(ValueError, match="shape"):
        model.predict(np.zeros(shape, np.float32))


def test_closed_model_refuses_to_predict() -> None:
    model = load_model(MODELS_DIR / "tiny.onnx")
    model.close()
    with pytest.raises(RuntimeError, match="closed"):
        model.predict(REFERENCE["tiny.batch3.features"])


@pytest.mark.parametrize("engine", ENGINES)
def test_concurrent_predictions_equal_serial_ones(engine: str) -> None:
    model = load_model(ENSEMBLE, engine=engine)  # type: ignore[arg-type]
    features = REFERENCE["ensemble.batch4.features"]
    expected = [model.predict(features[i]) for i in range(4)]
    results: dict[int, np.ndarray] = {}

    def work(index: int) -> None:
        for _ in range(3):
            results[index] = model.predict(features[index % 4])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, result in results.items():
        np.testing.assert_allclose(result, expected[index % 4], rtol=0, atol=TOLERANCE)


# --- broken files ------------------------------------------------------------------------------

BROKEN = [
    ("broken_truncated.onnx", "unreadable", "truncated"),
    ("broken_not_onnx.onnx", "not_onnx", "not an ONNX model"),
    ("broken_empty.onnx", "not_onnx", "empty"),
    ("broken_unknown_operator.onnx", "unsupported_operator", "Softmax"),
    ("broken_wrong_input_name.onnx", "bad_signature", "'x'"),
    ("broken_wrong_input_shape.onnx", "bad_signature", "69"),
    ("broken_missing_metadata.onnx", "incompatible_metadata", "music_mood.sample_rate"),
    ("broken_sample_rate_zero.onnx", "incompatible_metadata", "sample rate 0"),
    ("broken_extractor_version.onnx", "incompatible_metadata", "some-other-extractor/9"),
    ("broken_sequence_length.onnx", "incompatible_metadata", "sequence length 50"),
    ("broken_normalisation.onnx", "incompatible_metadata", "'song'"),
    ("broken_window_step.onnx", "incompatible_metadata", "window 0.1"),
    ("ops_opset17.onnx", "incompatible_metadata", "lacks the metadata"),
]


@pytest.mark.parametrize("engine", ["auto", *ENGINES])
@pytest.mark.parametrize(("name", "reason", "detail"), BROKEN)
def test_broken_files_raise_the_right_reason(
    engine: str, name: str, reason: str, detail: str
) -> None:
    with pytest.raises(ModelError) as caught:
        load_model(MODELS_DIR / name, engine=engine)  # type: ignore[arg-type]
    assert caught.value.reason == reason
    assert name in str(caught.value)
    assert detail in str(caught.value)


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        load_model(tmp_path / "nothing.onnx")
    assert caught.value.reason == "not_found"
    assert "nothing.onnx" in str(caught.value)


def test_directory_is_unreadable(tmp_path: Path) -> None:
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    with pytest.raises(ModelError) as caught:
        load_model(folder)
    assert caught.value.reason == "unreadable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_unreadable(tmp_path: Path) -> None:
    locked = tmp_path / "locked.onnx"
    locked.write_bytes((MODELS_DIR / "tiny.onnx").read_bytes())
    locked.chmod(0)
    with pytest.raises(ModelError) as caught:
        load_model(locked)
    assert caught.value.reason == "unreadable"


# --- engine choice -----------------------------------------------------------------------------


@needs_ort
def test_auto_prefers_onnxruntime() -> None:
    assert load_model(ENSEMBLE).engine == "onnxruntime"


@pytest.mark.skipif(
    _ort_importable(), reason="onnxruntime is importable here; see the hidden-onnxruntime test"
)
def test_without_onnxruntime_auto_uses_numpy_and_explicit_choice_fails() -> None:
    model = load_model(ENSEMBLE, engine="auto")
    assert model.engine == "numpy"
    np.testing.assert_allclose(
        model.predict(REFERENCE["ensemble.batch4.features"]),
        _expected("ensemble", "batch4"),
        rtol=0,
        atol=TOLERANCE,
    )
    with pytest.raises(ImportError):
        load_model(ENSEMBLE, engine="onnxruntime")


@pytest.mark.skipif(
    not ORT_HIDDEN, reason=f"runs only in the subprocess started with {HIDE_ORT_ENV}=1"
)
def test_inside_hidden_onnxruntime_subprocess() -> None:
    with pytest.raises(ImportError, match="hidden"):
        import onnxruntime  # noqa: F401
    model = load_model(ENSEMBLE)
    assert isinstance(model, MoodModel)
    assert model.engine == "numpy"
    np.testing.assert_allclose(
        model.predict(REFERENCE["ensemble.batch4.features"]),
        _expected("ensemble", "batch4"),
        rtol=0,
        atol=TOLERANCE,
    )


@needs_ort
def test_hidden_onnxruntime_falls_back_to_numpy() -> None:
    """Hides an installed onnxruntime (as on musl) in a fresh interpreter; auto must pick numpy."""
    env = {**os.environ, HIDE_ORT_ENV: "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"{Path(__file__).resolve()}::test_inside_hidden_onnxruntime_subprocess",
            f"{Path(__file__).resolve()}::test_without_onnxruntime_auto_uses_numpy_and_explicit_choice_fails",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout, result.stdout


# --- bundled model -----------------------------------------------------------------------------

bundled_present = pytest.mark.skipif(
    not BUNDLED_MODEL_PATH.is_file(), reason="the bundled model has not been exported yet"
)


@bundled_present
def test_bundled_model_loads_and_engines_agree() -> None:
    numpy_model = load_model(BUNDLED_MODEL_PATH, engine="numpy")
    rng = np.random.default_rng(2)
    base = REFERENCE["ensemble.batch4.features"]
    features = (base * rng.uniform(0.5, 1.5, (4, 60, 68))).astype(np.float32)
    # Raw frame levels (dBFS) for format 2 models; format 1 models ignore them.
    levels = rng.uniform(-50.0, -5.0, (4, 60)).astype(np.float32)
    prediction = numpy_model.predict(features, levels)
    assert prediction.shape == (4, 2)
    assert np.all(np.abs(prediction) <= 1)
    if _ort_importable():
        ort_model = load_model(BUNDLED_MODEL_PATH, engine="onnxruntime")
        np.testing.assert_allclose(
            prediction, ort_model.predict(features, levels), rtol=0, atol=TOLERANCE
        )


# --- discovery and resolution ------------------------------------------------------------------


def _user_dir(tmp_path: Path) -> Path:
    user_dir = tmp_path / "music_mood_models"
    user_dir.mkdir()
    for name in ("zeta.onnx", "Alpha.ONNX", "beta.onnx", "notes.txt", ".hidden.onnx"):
        (user_dir / name).write_bytes(b"x")
    (user_dir / "folder.onnx").mkdir()
    return user_dir


def test_discover_lists_bundled_first_then_sorted_user_models(tmp_path: Path) -> None:
    choices = discover_models(_user_dir(tmp_path))
    user = [c for c in choices if c.model_id != DEFAULT_MODEL_ID]
    assert [c.model_id for c in user] == ["user/Alpha.ONNX", "user/beta.onnx", "user/zeta.onnx"]
    assert [c.label for c in user] == ["Alpha.ONNX", "beta.onnx", "zeta.onnx"]
    assert all(c.path.parent == tmp_path / "music_mood_models" for c in user)
    if BUNDLED_MODEL_PATH.is_file():
        assert choices[0].model_id == DEFAULT_MODEL_ID
        assert choices[0].path == BUNDLED_MODEL_PATH
    else:
        assert choices == user


def test_discover_tolerates_a_missing_or_non_directory_path(tmp_path: Path) -> None:
    bundled = [DEFAULT_MODEL_ID] if BUNDLED_MODEL_PATH.is_file() else []
    assert [c.model_id for c in discover_models(tmp_path / "absent")] == bundled
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert [c.model_id for c in discover_models(a_file)] == bundled


def test_every_discovered_id_resolves_to_its_path(tmp_path: Path) -> None:
    user_dir = _user_dir(tmp_path)
    for choice in discover_models(user_dir):
        assert resolve_model(choice.model_id, user_dir) == choice.path


def test_default_resolves_to_the_bundled_model(tmp_path: Path) -> None:
    if BUNDLED_MODEL_PATH.is_file():
        assert resolve_model(DEFAULT_MODEL_ID, tmp_path) == BUNDLED_MODEL_PATH
    else:
        with pytest.raises(ModelError) as caught:
            resolve_model(DEFAULT_MODEL_ID, tmp_path)
        assert caught.value.reason == "not_found"


@pytest.mark.parametrize(
    "model_id",
    [
        "user/../outside.onnx",
        "user/..",
        "user/sub/inner.onnx",
        "user/",
        "user//abs.onnx",
        "user/..\\outside.onnx",
        "user/notes.txt",
        "user/missing.onnx",
        "user/folder.onnx",
        "outside.onnx",
        "",
        "../outside.onnx",
    ],
)
def test_resolve_refuses_unknown_ids_and_traversal(tmp_path: Path, model_id: str) -> None:
    user_dir = _user_dir(tmp_path)
    (tmp_path / "outside.onnx").write_bytes(b"x")
    (user_dir / "sub").mkdir()
    (user_dir / "sub" / "inner.onnx").write_bytes(b"x")
    with pytest.raises(ModelError) as caught:
        resolve_model(model_id, user_dir)
    assert caught.value.reason == "not_found"


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.onnx"
    with huge.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(65 * 1024 * 1024)
    with pytest.raises(ModelError) as caught:
        load_model(huge)
    assert caught.value.reason == "exceeds_limits"
    assert "65 MiB" in str(caught.value)
