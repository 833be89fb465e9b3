"""Files the integration tests use: the fixture models and the real CC clip in the data root."""

from __future__ import annotations

from pathlib import Path

from tests.data_paths import LIBROSA_CC_DIR, REPO_ROOT

FIXTURE_MODELS = REPO_ROOT / "tests" / "fixtures" / "models"
TEST_MODEL = "tiny.onnx"
TEST_MODEL_ID = f"user/{TEST_MODEL}"
CLIP = LIBROSA_CC_DIR / "Kevin_MacLeod_-_Vibe_Ace.ogg"
STREAM_SERVER = Path(__file__).with_name("stream_server.py")
