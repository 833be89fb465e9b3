"""The bundled default model: loadable, contract-conform, honestly described."""

from __future__ import annotations

import json
from typing import Literal

import numpy as np
import onnx
import pytest
from music_mood_core.features import EXTRACTOR_VERSION
from music_mood_core.model import load_model
from music_mood_core.onnx_numpy import SUPPORTED_OPERATORS

from tests.data_paths import EMOMUSIC_DIR, REPO_ROOT, needs_data
from training.export import IR_VERSION, OPSET
from training.predict import predict_file

MODELS_DIR = REPO_ROOT / "custom_components" / "music_mood" / "models"
DEFAULT_MODEL = MODELS_DIR / "default.onnx"


@pytest.fixture(scope="module")
def metadata() -> dict[str, str]:
    model = onnx.load(str(DEFAULT_MODEL))
    assert model.ir_version == IR_VERSION
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)]
    assert {n.op_type for n in model.graph.node} <= SUPPORTED_OPERATORS
    return {p.key: p.value for p in model.metadata_props}


def test_metadata_matches_the_live_pipeline(metadata: dict[str, str]) -> None:
    assert metadata["music_mood.feature_extractor_version"] == EXTRACTOR_VERSION
    assert metadata["music_mood.sample_rate"] == "22050"
    assert metadata["music_mood.sequence_length"] == "60"
    assert metadata["music_mood.normalisation"] == "excerpt"
    assert metadata["music_mood.format"] in ("1", "2")
    assert json.loads(metadata["music_mood.seeds"])


def test_model_card_quotes_the_scores_stored_in_the_file(metadata: dict[str, str]) -> None:
    card = (MODELS_DIR / "MODEL_CARD.md").read_text(encoding="utf-8")
    scores = json.loads(metadata["music_mood.scores"])["validation"]
    for key in ("quadrant", "arousal_sign", "valence_sign"):
        assert f"{scores['4q_panda'][key]:.3f}" in card, key
    for key in ("arousal_spearman", "valence_spearman"):
        assert f"{scores['emotify'][key]:.3f}" in card, key
        assert f"{scores['vgmidi'][key]:.3f}" in card, key
    for name in ("4q_panda", "emotify", "vgmidi", "emopia"):
        assert name in metadata["music_mood.training_data"]


@needs_data(EMOMUSIC_DIR / "clips_45s" / "3.mp3")
@pytest.mark.parametrize("engine", ["numpy", "onnxruntime"])
def test_both_engines_run_the_bundled_model_on_real_audio(
    engine: Literal["numpy", "onnxruntime"],
) -> None:
    clip = EMOMUSIC_DIR / "clips_45s" / "3.mp3"
    timeline = predict_file(clip, load_model(DEFAULT_MODEL, engine=engine))
    assert len(timeline) == 85
    assert np.all(np.abs(timeline.valence) <= 1)
    assert np.all(np.abs(timeline.arousal) <= 1)
    reference = predict_file(clip, load_model(DEFAULT_MODEL, engine="numpy"))
    np.testing.assert_allclose(timeline.valence, reference.valence, atol=1e-5)
    np.testing.assert_allclose(timeline.arousal, reference.arousal, atol=1e-5)
